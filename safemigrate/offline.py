"""Revisions rendered to SQL offline (`--sql`): nothing is applied and no connection is made.

The one place the toolkit renders offline, on one parsed ScriptDirectory:
- `offline_sql`: a revision range as one text, exactly as `alembic upgrade A:B --sql` prints it
  (the release runner's `--sql`);
- `render`: every revision of one direction in one pass, sliced per revision (the review, the
  ledger's checksums). Alembic marks each step of its offline output with a
  `-- Running upgrade A -> B` comment, so one pass over the whole history is sliced into revisions.
  A revision whose rendering raises stops the pass: it is recorded with the reason and the pass
  resumes after it.
"""

from __future__ import annotations

import contextlib
import io
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from alembic.runtime.migration import RevisionStep
from alembic.script import ScriptDirectory

from safemigrate.errors import SourceError, source_origin
from safemigrate.library_compat import downgrade_steps, upgrade_steps, version_locations
from safemigrate.state import alembic_config, run_scripts

# Offline rendering never connects; the URL only chooses the dialect.
OFFLINE_URL = "postgresql+psycopg2://lint@localhost/lint"
_MARKER = re.compile(r"^-- Running (?:upgrade|downgrade) ", re.MULTILINE)


def offline_sql(
    scripts: ScriptDirectory, revision_range: str, *, url: str = OFFLINE_URL, direction: str = "upgrade"
) -> str:
    """The SQL `alembic upgrade|downgrade REVISION_RANGE --sql` prints for `scripts`.

    `revision_range` is `A:B` (from A, exclusive, to B) or `B` (from base); `url` picks the dialect
    and is never connected to.
    """
    start, _, destination = revision_range.rpartition(":")
    buffer = io.StringIO()
    _render_into(buffer, scripts, url, direction, start or None, destination)
    return buffer.getvalue()


@dataclass
class Rendered:
    """One direction of many revisions: SQL by revision, and why a revision could not be rendered."""

    sql: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def render(
    scripts: ScriptDirectory,
    direction: str,
    start: str | tuple[str, ...] | None,
    destination: str | tuple[str, ...],
) -> Rendered:
    """Render `direction` from `start` (None: base) to `destination`, every step sliced out."""
    rendered = Rendered()
    step_fn = upgrade_steps if direction == "upgrade" else downgrade_steps
    while True:
        steps = list(step_fn(scripts, destination, start))
        if not steps:
            return rendered
        buffer = io.StringIO()
        error = None
        try:
            # Revisions may print(); that is not their SQL.
            with contextlib.redirect_stdout(io.StringIO()):
                _render_into(buffer, scripts, OFFLINE_URL, direction, start, destination)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 (any error in a revision becomes a finding)
            error = one_line(exc)
            failure = exc
        chunks = _MARKER.split(buffer.getvalue())[1:]
        if error is not None and not chunks and not _raised_in_a_revision(failure, scripts):
            # env.py (or the models it imports) failed before any revision ran: no revision is to
            # blame, and a source checksum for each would call every applied one "changed".
            raise SourceError(f"the migration environment cannot load: {source_origin(failure)}") from None
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
                    one = render(scripts, direction, step.revision.revision, _below(step))
                    rendered.sql.update(one.sql)
                    rendered.failed.update(one.failed)
                return rendered
            start = after


def _render_into(
    buffer: io.StringIO,
    scripts: ScriptDirectory,
    url: str,
    direction: str,
    start: str | tuple[str, ...] | None,
    destination: str | tuple[str, ...],
) -> None:
    config = alembic_config(url=url, directory=Path(scripts.dir))
    config.output_buffer = buffer
    run_scripts(config, scripts, direction, destination, starting_rev=start, sql=True)


def _raised_in_a_revision(exc: BaseException, scripts: ScriptDirectory) -> bool:
    versions = {Path(location).resolve() for location in version_locations(scripts)}
    return any(
        Path(frame.filename).resolve().parent in versions for frame in traceback.extract_tb(exc.__traceback__)
    )


def _below(step: RevisionStep) -> str:
    down = step.revision.down_revision
    return down if isinstance(down, str) else "base"


def one_line(exc: BaseException) -> str:
    """An error as one line: its type, and the first line of its message."""
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
