"""A history as real projects write them, planted on the project's head: session SETs, data
migrations, hand-written SQL, get_bind() tricks, an extension, an unnamed constraint, an irreversible
downgrade, a branch and its merge. Each revision says what a reviewer finds in it by hand (the rule),
or None for a revision that is fine. measure() gives the figures issue #23 asks for."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field

from tests.support.planting import HEAD, plant

IRREVERSIBLE = "from safemigrate.errors import Irreversible\n"


@dataclass(frozen=True)
class Step:
    revision: str
    hazard: str | None  # the rule a reviewer expects, or None
    upgrade: str
    downgrade: str = "pass"
    preamble: str = ""
    down: tuple[str, ...] | None = None  # default: the step before


STEPS = [
    Step("h01settimeout", "session-timeout", "op.execute(\"SET lock_timeout = '30s'\")"),
    Step(
        "h02localtimeout",
        None,
        'op.execute("SET LOCAL lock_timeout = \'5s\'")\nop.add_column("items", sa.Column("note", sa.Text()))',
        'op.drop_column("items", "note")',
    ),
    Step(
        "h03statusupdate",
        "unbatched-data-change",
        "op.execute(\"UPDATE items SET note = 'n' WHERE title = 'x'\")",
    ),
    Step("h04keyupdate", None, "op.execute(\"UPDATE items SET note = 'k' WHERE id = ANY(ARRAY[1, 2])\")"),
    Step(
        "h05bindcommit",
        "fails-in-transaction",
        'op.get_bind().commit()\nop.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_items_note")\n'
        'op.execute("CREATE INDEX CONCURRENTLY ix_items_note ON items (note)")',
        'op.execute("DROP INDEX IF EXISTS ix_items_note")',
    ),
    Step(
        "h06dialect",
        None,
        'if op.get_bind().dialect.name == "postgresql":\n'
        '    op.add_column("items", sa.Column("flag", sa.Boolean()))',
        'op.drop_column("items", "flag")',
    ),
    Step(
        "h07engineurl",
        None,
        'if op.get_bind().engine.url.database:\n    op.add_column("items", sa.Column("extra", sa.Text()))',
        'op.drop_column("items", "extra")',
    ),
    Step(
        "h08citext",
        None,
        'op.execute("CREATE EXTENSION IF NOT EXISTS citext")\n'
        'op.execute("ALTER TABLE items ALTER COLUMN description TYPE citext")',
        'op.execute("ALTER TABLE items ALTER COLUMN description TYPE text")\n'
        'op.execute("DROP EXTENSION citext")',
    ),
    Step(
        "h09unnamed",
        "downgrade-cannot-run",
        'op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("item_id", '
        'sa.Integer()))\nop.create_foreign_key(None, "tags", "items", ["item_id"], ["id"])',
        'op.drop_constraint(None, "tags", type_="foreignkey")\nop.drop_table("tags")',
    ),
    Step(
        "h10irreversible",
        None,
        'op.execute("UPDATE items SET note = NULL WHERE id = 1")',
        'raise Irreversible("the old notes are gone")',
        preamble=IRREVERSIBLE,
    ),
    Step(
        "h11left",
        None,
        'op.add_column("items", sa.Column("left_col", sa.Integer()))',
        'op.drop_column("items", "left_col")',
        down=("h10irreversible",),
    ),
    Step(
        "h12right",
        None,
        'op.add_column("items", sa.Column("right_col", sa.Integer()))',
        'op.drop_column("items", "right_col")',
        down=("h10irreversible",),
    ),
    Step("h13merge", None, "pass", down=("h11left", "h12right")),
    Step(
        "h14samename",
        "duplicate-name",
        'op.create_table("labels", sa.Column("a", sa.Integer()), sa.Column("b", sa.Integer()), '
        'sa.Column("c", sa.Integer()), sa.UniqueConstraint("a", "b", name="uq_labels_a"), '
        'sa.UniqueConstraint("a", "c", name="uq_labels_a"))',
        'op.drop_table("labels")',
    ),
    Step(
        "h15backfill",
        None,
        'safe.backfill_in_batches("items", "note = \'b\'", "note IS NULL")',
        preamble="from safemigrate import safe\n",
    ),
    Step(
        "h16plainindex",
        "require-concurrent-index-creation",
        'op.execute("CREATE INDEX ix_items_extra ON items (extra)")',
        'op.execute("DROP INDEX ix_items_extra")',
    ),
]
HAZARDS = sum(1 for step in STEPS if step.hazard)
# The revisions that apply and undo on PostgreSQL: what the squash and the stairway get (the others
# fail at upgrade or downgrade, which the review says beforehand).
_FAILING = {"fails-in-transaction", "duplicate-name", "downgrade-cannot-run"}
RUNNABLE = [step for step in STEPS if step.hazard not in _FAILING]


def plant_history(directory, steps=STEPS) -> str:
    """Plant `steps` on the project's head, each on the one before unless it names its parents; the
    last revision (the new head)."""
    previous, planted = HEAD, set()
    for step in steps:
        down = tuple(d for d in step.down if d in planted) if step.down is not None else (previous,)
        plant(
            directory,
            step.revision,
            step.upgrade,
            step.downgrade,
            down_revision=down[0] if len(down) == 1 else down,
            message=f"history {step.revision}",
            preamble=step.preamble,
        )
        previous = step.revision
        planted.add(step.revision)
    return previous


@dataclass
class Figures:
    reviewed: int = 0  # revisions whose every statement was judged (no render or import failure)
    caught: int = 0  # hazards reported with the rule a reviewer expects
    false_alarms: int = 0  # errors on revisions a reviewer passes, or other rules than expected
    tracebacks: int = 0  # review crashes
    squashable: int = 0  # revisions the squash of the whole planted history replaces (0: refused)
    stairway: str = ""  # "walked N", or why it stopped
    squash_refusal: str = ""
    alarms: list[str] = field(default_factory=list)  # revision: rule, for each false alarm


UNREVIEWED = {"offline-render-failed", "module-import-failed"}


def measure(reviewed, runnable, engine) -> Figures:
    """The figures: the review of the whole history in `reviewed`; the squash and the stairway (on
    `engine`, an empty database) of the one in `runnable` (RUNNABLE planted)."""
    from alembic.script import ScriptDirectory

    from safemigrate.review import MigrationLinter
    from safemigrate.squash.plan import plan_squash
    from safemigrate.testing.stairway import walk_stairway

    figures = Figures()
    expected = {step.revision: step.hazard for step in STEPS}
    try:
        linter = MigrationLinter(reviewed)
        reports = [r for r in linter.lint(linter.select()) if r.script.revision in expected]
    except Exception:  # noqa: BLE001 (counted: a crash of the review)
        figures.tracebacks += 1
        reports = []
    for report in reports:
        rules = {f.rule for f in report.findings if f.level == "error"}
        hazard = expected[report.script.revision]
        figures.reviewed += not any(f.rule in UNREVIEWED for f in report.findings)
        figures.caught += hazard in rules
        alarms = sorted(rules - {hazard} - UNREVIEWED)
        figures.false_alarms += len(alarms)
        figures.alarms += [f"{report.script.revision}: {rule}" for rule in alarms]
    # The longest squashable range from the base, counted in planted revisions.
    for target in reversed([step.revision for step in RUNNABLE]):
        try:
            plan = plan_squash(ScriptDirectory(str(runnable)), target)
        except Exception as exc:  # noqa: BLE001
            figures.squash_refusal = figures.squash_refusal or str(exc)[:120]
            continue
        figures.squashable = sum(1 for s in plan.replaced if s.revision in expected)
        break
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            walked = walk_stairway(engine, runnable)
        figures.stairway = f"walked {sum(1 for r in walked if r in expected)}"
    except Exception as exc:  # noqa: BLE001
        figures.stairway = f"stopped: {str(exc)[:90]}"
    return figures
