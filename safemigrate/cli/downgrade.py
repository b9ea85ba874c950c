"""`flask db downgrade`: Flask-Migrate's command, stopping in one line on an irreversible revision."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from safemigrate.errors import Irreversible


class _Irreversible(click.ClickException):
    exit_code = Irreversible.exit_code


class _Guarded(click.Command):
    """`downgrade` guarded: keeps the command it wraps."""

    unguarded: click.Command


def guard_downgrade(db_group: click.Group) -> None:
    """Replace Flask-Migrate's `downgrade` by the same command that reports a revision whose
    downgrade() raises Irreversible as one line (the revisions below it stay applied) instead of a
    traceback. Each revision runs in its own transaction: the ones undone before it stay undone."""
    original = db_group.commands["downgrade"]
    original = getattr(original, "unguarded", original)  # every create_app() registers again
    callback = original.callback
    assert callback is not None  # Flask-Migrate's `downgrade` is a command with a function

    @with_appcontext
    def downgrade(**kwargs):
        try:
            return click.get_current_context().invoke(callback, **kwargs)
        except Irreversible as exc:
            raise _Irreversible(
                f"revision {_raised_in(exc) or '?'} is irreversible: {exc}; the downgrade stopped there "
                "(revisions undone before it stay undone)"
            ) from None

    guarded = _Guarded(
        "downgrade",
        params=original.params,
        callback=downgrade,
        help=original.help,
        short_help=original.short_help,
    )
    guarded.unguarded = original
    db_group.add_command(guarded, "downgrade")


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
