"""MigrationLinter: which revisions, rendered how, reviewed in what order."""

from __future__ import annotations

import ast as pyast
from pathlib import Path

from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from safemigrate.errors import EXIT_USAGE, SafeMigrateError
from safemigrate.offline import OFFLINE_URL, Rendered, one_line, render
from safemigrate.review.history import NeedHistory, Schema
from safemigrate.review.recording import recording_binds
from safemigrate.review.report import ERROR, Finding, RevisionReport, apply_acks
from safemigrate.review.revision import review_revision
from safemigrate.review.unimportable import StandIns, stand_ins


class LintError(SafeMigrateError):
    """Lint cannot run (bad range, unloadable scripts); the message is one line."""

    exit_code = EXIT_USAGE


class MigrationLinter:
    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        if not (self.directory / "env.py").is_file():
            raise LintError(f"no migration scripts in {self.directory}")
        self.scripts = ScriptDirectory(str(self.directory))
        self.stand_ins: StandIns | None = None
        self._loaded = False

    def _load(self) -> None:
        """Import the revision files (once, when first needed); unimportable ones get stand-ins."""
        if self._loaded:
            return
        self._loaded = True
        try:
            self.scripts.revision_map.heads  # noqa: B018 (imports every revision file)
        except Exception:  # noqa: BLE001 (select() reports what stand-ins cannot fix)
            self.stand_ins = stand_ins(self.directory, one_line)
            if self.stand_ins is not None:
                self.directory = self.stand_ins.directory
            self.scripts = ScriptDirectory(str(self.directory))

    # -- choosing revisions --------------------------------------------------------------------
    def select(self, spec: str | None = None) -> list[Script]:
        """Revisions, oldest first: all; `REV`; `A:B` (after A up to B); or a revision file path."""
        self._load()
        try:
            if not spec:
                return self.history()
            if spec.endswith(".py"):
                return [self._script_for_file(Path(spec))]
            if ":" in spec:
                lower, upper = spec.split(":", 1)
                return list(reversed(list(self.scripts.iterate_revisions(upper or "heads", lower or "base"))))
            script = self.scripts.get_revision(spec)
        except (CommandError, RevisionError) as exc:
            raise LintError(f"unknown revision range {spec!r}: {exc}") from None
        except LintError:
            raise
        except Exception as exc:  # noqa: BLE001 (a revision file that does not even load)
            raise LintError(f"cannot load the revisions in {self.directory}: {one_line(exc)}") from None
        if script is None:
            raise LintError(f"unknown revision {spec!r}")
        return [script]

    def history(self) -> list[Script]:
        self._load()
        try:
            return list(reversed(list(self.scripts.walk_revisions())))
        except (CommandError, RevisionError) as exc:
            raise LintError(f"the revision history is broken: {one_line(exc)}") from None
        except Exception as exc:  # noqa: BLE001
            raise LintError(f"cannot load the revisions in {self.directory}: {one_line(exc)}") from None

    def _script_for_file(self, path: Path) -> Script:
        resolved = path.resolve()
        for script in self.scripts.walk_revisions():
            same_file = self.stand_ins is not None and Path(script.path).name == path.name  # in the copy
            if Path(script.path).resolve() == resolved or same_file:
                return script
        raise LintError(f"{path} is not a revision in {self.directory}")

    # -- linting -------------------------------------------------------------------------------
    def lint(self, scripts: list[Script]) -> list[RevisionReport]:
        """One report per revision in `scripts`. One revision alone is rendered alone, unless an
        exemption needs the history before it; otherwise the whole history is rendered once."""
        if len(scripts) == 1:
            try:
                return [self._lint_alone(scripts[0])]
            except NeedHistory:
                pass
        wanted = {s.revision for s in scripts}
        reports = {r.script.revision: r for r in self._lint_history(wanted)}
        return [reports[s.revision] for s in scripts]

    def _lint_alone(self, script: Script) -> RevisionReport:
        down = script.down_revision
        if isinstance(down, tuple | list):  # a merge revision: no SQL of its own
            up, back = Rendered({script.revision: ""}), Rendered({script.revision: ""})
        else:
            up = _render(self.scripts, "upgrade", down, script.revision)
            back = _render(self.scripts, "downgrade", script.revision, down or "base")
        report = self._report(script, up, back, Schema(partial=True))
        assert report is not None  # kept: only a pass over the history drops the revisions not asked for
        return report

    def _lint_history(self, wanted: set[str]) -> list[RevisionReport]:
        up = _render(self.scripts, "upgrade", None, "heads")
        heads = self.scripts.get_heads()
        if len(heads) == 1:
            back = _render(self.scripts, "downgrade", heads[0], "base")
        else:
            back = Rendered()
            for script in self.history():
                down = script.down_revision
                below = down if isinstance(down, str) else "base"
                one = _render(self.scripts, "downgrade", script.revision, below)
                back.sql.update(one.sql)
                back.failed.update(one.failed)
        schema = Schema()
        reports = []
        for script in self.history():
            report = self._report(script, up, back, schema, keep=script.revision in wanted)
            if report is not None:
                reports.append(report)
        return reports

    def _report(
        self, script, up: Rendered, back: Rendered, schema: Schema, keep=True
    ) -> RevisionReport | None:
        rev = script.revision
        if self.stand_ins is not None and rev in self.stand_ins.why:
            why = Finding(
                "module-import-failed",
                ERROR,
                f"the revision cannot be imported ({self.stand_ins.why[rev]}); nothing in it was reviewed",
                fix="install what it imports (requirements*.txt), or import it inside upgrade()",
            )
            return RevisionReport(script, [why]) if keep else None
        source = Path(script.path).read_text()
        findings = review_revision(
            script,
            _downgrade_is_empty(source),
            (up.sql.get(rev, ""), up.failed.get(rev)),
            (back.sql.get(rev, ""), back.failed.get(rev)),
            schema,
            keep=keep,
            downgrade_never=_downgrade_never_runs(source),
        )
        return RevisionReport(script, apply_acks(findings, source)) if keep else None


def _downgrade_never_runs(source: str) -> str | None:
    """Why downgrade() fails whatever the database holds ("Irreversible" when it says so on purpose):
    a raise at its top level, or op.drop_constraint(None, ...) (autogenerate's unnamed constraint)."""
    try:
        tree = pyast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if not (isinstance(node, pyast.FunctionDef) and node.name == "downgrade"):
            continue
        for statement in node.body:
            if isinstance(statement, pyast.Raise) and statement.exc is not None:
                raised = statement.exc.func if isinstance(statement.exc, pyast.Call) else statement.exc
                name = pyast.unparse(raised).rsplit(".", 1)[-1]
                return name if name == "Irreversible" else f"downgrade() always raises {name}"
        for call in pyast.walk(node):
            if (
                isinstance(call, pyast.Call)
                and isinstance(call.func, pyast.Attribute)
                and call.func.attr == "drop_constraint"
                and call.args
                and isinstance(call.args[0], pyast.Constant)
                and call.args[0].value is None
            ):
                return (
                    f"{pyast.unparse(call)} names no constraint: PostgreSQL cannot drop it by no name, "
                    "on any database"
                )
    return None


def _render(*args) -> Rendered:
    """offline.render, with op.get_bind() a recording connection (recording.py): the review judges what
    a revision sends through it. The ledger's checksums render without it, as they always did."""
    with recording_binds(OFFLINE_URL):
        return render(*args)


def _downgrade_is_empty(source: str) -> bool:
    """downgrade() does nothing (only pass, docstrings, ...)."""
    try:
        tree = pyast.parse(source)
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, pyast.FunctionDef) and node.name == "downgrade":
            return all(
                isinstance(s, pyast.Pass)
                or (isinstance(s, pyast.Expr) and isinstance(s.value, pyast.Constant))
                for s in node.body
            )
    return True
