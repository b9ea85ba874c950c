"""The SQL of every revision, rendered offline (`--sql`) in one pass over one parsed ScriptDirectory.

Alembic marks each step of its offline output with a `-- Running upgrade A -> B` comment, so one
pass over the whole history is sliced into revisions. A revision whose rendering raises stops
the pass: it is recorded with the reason and the pass resumes after it.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass, field

from alembic.script import ScriptDirectory

from safemigrate.state import alembic_config, run_scripts

# Offline rendering never connects; the URL only chooses the dialect.
OFFLINE_URL = "postgresql+psycopg2://lint@localhost/lint"
_MARKER = re.compile(r"^-- Running (?:upgrade|downgrade) ", re.MULTILINE)


@dataclass
class Rendered:
    """One direction of many revisions: SQL by revision, and why a revision could not be rendered."""

    sql: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def render(scripts: ScriptDirectory, directory, direction: str, start, destination: str) -> Rendered:
    """Render `direction` from `start` (None: base) to `destination`, every step sliced out."""
    rendered = Rendered()
    step_fn = scripts._upgrade_revs if direction == "upgrade" else scripts._downgrade_revs
    while True:
        steps = list(step_fn(destination, start))
        if not steps:
            return rendered
        buffer = io.StringIO()
        config = alembic_config(url=OFFLINE_URL, directory=directory)
        config.output_buffer = buffer
        error = None
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                run_scripts(config, scripts, direction, destination, starting_rev=start, sql=True)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 (any error in a revision becomes a finding)
            error = one_line(exc)
        chunks = _MARKER.split(buffer.getvalue())[1:]
        for step, chunk in zip(steps, chunks, strict=False):
            rendered.sql[step.revision.revision] = chunk.split("\n", 1)[1] if "\n" in chunk else ""
        if error is None:
            return rendered
        failed = steps[max(len(chunks), 1) - 1]
        rendered.sql.pop(failed.revision.revision, None)
        rendered.failed[failed.revision.revision] = error
        if direction == "upgrade":
            start = failed.revision.revision
        else:
            after = failed.revision.down_revision
            if after is None or isinstance(after, tuple | list):
                for step in steps[steps.index(failed) + 1 :]:  # rare: one by one past a merge
                    one = render(scripts, directory, direction, step.revision.revision, _below(step))
                    rendered.sql.update(one.sql)
                    rendered.failed.update(one.failed)
                return rendered
            start = after


def _below(step) -> str:
    down = step.revision.down_revision
    return down if isinstance(down, str) else "base"


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
