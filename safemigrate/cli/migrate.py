"""`flask db migrate`: Flask-Migrate's command, every option kept, plus the answers autogenerate may
need (--rename, --backfill, --drop, --no-input) and output for a person: what was detected, the questions,
warnings and the review of the new file; not Alembic's INFO lines."""

from __future__ import annotations

import logging
import sys

import click
from alembic import command
from flask import current_app
from flask.cli import with_appcontext

from safemigrate.autogenerate.answers import ATTRIBUTE, Answers, AutogenerateRefused


class _Refused(click.ClickException):
    """One line (`Error: ...`), exit 1, no usage block."""

    exit_code = 1


@click.command("migrate")
@click.option("-d", "--directory", default=None, help='Migration script directory (default is "migrations")')
@click.option("-m", "--message", default=None, help="Revision message")
@click.option("--sql", is_flag=True, help="Don't emit SQL to database - dump to standard output instead")
@click.option(
    "--head", default="head", help="Specify head revision or <branchname>@head to base new revision on"
)
@click.option("--splice", is_flag=True, help='Allow a non-head revision as the "head" to splice onto')
@click.option("--branch-label", default=None, help="Specify a branch label to apply to the new revision")
@click.option("--version-path", default=None, help="Specify specific path from config for version file")
@click.option("--rev-id", default=None, help="Specify a hardcoded revision id instead of generating one")
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts")
@click.option(
    "--rename",
    "renames",
    multiple=True,
    metavar="TABLE.OLD:NEW",
    help="A column was renamed, not dropped and added: keep its data (repeatable).",
)
@click.option(
    "--backfill",
    multiple=True,
    metavar="TABLE.COLUMN=VALUE",
    help="Value for the existing rows of a new NOT NULL column without a server default (repeatable).",
)
@click.option(
    "--drop",
    "drops",
    multiple=True,
    metavar="TABLE.COLUMN|TABLE",
    help="Dropped on purpose, not renamed: answers the rename question with no (repeatable).",
)
@click.option(
    "--no-input",
    is_flag=True,
    help="Never ask; a question no option answers stops the command (one line, no file written).",
)
@with_appcontext
def migrate_command(
    directory,
    message,
    sql,
    head,
    splice,
    branch_label,
    version_path,
    rev_id,
    x_arg,
    renames,
    backfill,
    drops,
    no_input,
):
    """Autogenerate a new revision file (Alias for 'revision --autogenerate'), in its safe form.

    Asks (in a terminal) whether a dropped + added column is a rename, and for a one-off value for a
    new NOT NULL column; --rename/--drop/--backfill answer without a terminal, and a question no
    option answers stops the command with one line, writing no file.
    """
    migrate = current_app.extensions["migrate"]
    try:
        answers = Answers.parse(
            backfill, renames, interactive=sys.stdin.isatty() and not no_input, drops=drops
        )
    except AutogenerateRefused as exc:
        raise _Refused(str(exc)) from None
    config = migrate.migrate.get_config(directory or migrate.directory, opts=["autogenerate"], x_arg=x_arg)
    config.attributes[ATTRIBUTE] = answers
    config.attributes["configure_logging"] = False
    _quiet_logging()
    try:
        command.revision(
            config,
            message,
            autogenerate=True,
            sql=sql,
            head=head,
            splice=splice,
            branch_label=branch_label,
            version_path=version_path,
            rev_id=rev_id,
        )
    except AutogenerateRefused as exc:
        raise _Refused(str(exc).splitlines()[0]) from None
    for note in answers.notes:
        click.secho(note, err=True, fg="red" if note.startswith(("WARNING", "REVIEW")) else None, bold=True)


def _quiet_logging() -> None:
    """What autogenerate detected, and warnings; not the plugin loader's or the context's INFO lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for name in ("alembic", "flask_migrate"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("alembic.autogenerate").setLevel(logging.INFO)
    logging.getLogger("alembic.env").setLevel(logging.INFO)
