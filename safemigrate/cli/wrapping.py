"""Flask-Migrate's commands with a step of ours around them: same name, options and help.

The `db` group is global and every create_app() registers the project's commands again, so a
command already wrapped by the same step is left alone; one wrapped by an earlier import of the
module (a copy of the project imported afresh) is wrapped again from the original, so the step that
runs is always the current module's code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask.cli import with_appcontext

# around(run, options): `run()` runs Flask-Migrate's command with the same options.
Around = Callable[[Callable[[], Any], dict[str, Any]], Any]


class Wrapped(click.Command):
    """A command with `around` around it; keeps the command it wraps."""

    around: Around
    original: click.Command


def wrap_command(db_group: click.Group, name: str, around: Around) -> None:
    existing = db_group.commands[name]
    if getattr(existing, "around", None) is around:
        return
    original: click.Command = getattr(existing, "original", existing)
    callback = original.callback
    assert callback is not None  # Flask-Migrate's commands are commands with a function

    @with_appcontext
    def run(**options: Any) -> Any:
        return around(lambda: click.get_current_context().invoke(callback, **options), options)

    wrapped = Wrapped(
        name, params=original.params, callback=run, help=original.help, short_help=original.short_help
    )
    wrapped.around, wrapped.original = around, original
    db_group.add_command(wrapped, name)
