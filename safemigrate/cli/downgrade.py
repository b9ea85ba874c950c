"""`flask db downgrade`: Flask-Migrate's command, stopping in one line on an irreversible revision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from safemigrate.cli.wrapping import wrap_command
from safemigrate.errors import Irreversible


class _Irreversible(click.ClickException):
    exit_code = Irreversible.exit_code


def guard_downgrade(db_group: click.Group) -> None:
    """Replace Flask-Migrate's `downgrade` by the same command that reports a revision whose
    downgrade() raises Irreversible as one line (the revisions below it stay applied) instead of a
    traceback. Each revision runs in its own transaction: the ones undone before it stay undone."""
    wrap_command(db_group, "downgrade", _guarded_downgrade)


def _guarded_downgrade(run: Callable[[], Any], options: dict[str, Any]) -> Any:
    try:
        return run()
    except Irreversible as exc:
        raise _Irreversible(
            f"revision {_raised_in(exc) or '?'} is irreversible: {exc}; the downgrade stopped there "
            "(revisions undone before it stay undone)"
        ) from None


def _raised_in(exc: BaseException) -> str | None:
    """The revision whose module raised `exc`: the innermost frame in a revision file."""
    found = None
    traceback = exc.__traceback__
    while traceback is not None:
        names = traceback.tb_frame.f_globals
        if "revision" in names and "down_revision" in names:
            found = names["revision"]
        traceback = traceback.tb_next
    return found
