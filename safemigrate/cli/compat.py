"""`flask db compat --against REF`: does the previous release run on the schema this code migrates to?

Exit codes: 0 it does (every probe of every revision passed), 1 an incompatibility (one line each:
the revision, the previous release's mapper, what failed), 2 the proof could not run (REF names
nothing, holds no models, is on another branch, the database is unreachable). Nothing is written to
the app's database: the proof runs on a scratch database of the same server, dropped afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask.cli import with_appcontext

from safemigrate.cli import host
from safemigrate.cli.errors import CommandFailed
from safemigrate.errors import SafeMigrateError


@click.command("compat")
@click.option(
    "--against",
    required=True,
    metavar="REF",
    help="The previous release: a git ref of this repository (e.g. origin/main), or a directory of its code.",
)
@click.option("-d", "--directory", default=None, help="Migration scripts folder.")
@with_appcontext
def compat_command(against: str, directory: str | None):
    """Prove that the previous release's code runs on every revision up to this code's head.

    Its mappers insert, read back, update and delete generated rows, and read rows the new schema
    admits (every enum label), on a scratch database upgraded one revision at a time.
    """
    from safemigrate.compat.previous import find_previous, scratch_folder
    from safemigrate.compat.proof import prove

    # The previous release is laid out as this project is: its models and its migrations folder
    # (Flask-Migrate's, whatever -d says for this code) at the same places under the project root.
    own = host.migrations_directory().resolve()
    models_file = host.models_file().resolve()
    root = Path(os.path.commonpath([own, models_file]))
    try:
        with scratch_folder() as folder:
            previous = find_previous(
                against, root, models_file.relative_to(root), own.relative_to(root), folder=Path(folder)
            )
            scripts = ScriptDirectory(str(host.migrations_directory(directory).resolve()))
            proof = prove(host.engine().url, scripts, previous)
    except SafeMigrateError as exc:
        raise CommandFailed(str(exc), exc.exit_code) from None
    for failure in proof.already_failing:
        # Not this history's doing, but a probe that fails at the start cannot catch anything later.
        click.echo(f"note: already failing at the previous release's own head: {failure.line()}")
    for incompatibility in proof.incompatibilities:
        click.echo(f"incompatible: {incompatibility.line()}")
    breaking = {i.revision for i in proof.incompatibilities}
    for revision in sorted(breaking, key=proof.revisions.index):
        if proof.static.get(revision) is True:
            click.echo(
                f"note: the review judges revision {revision} compatible: add "
                f'previous_release = "breaks: <what failed>" to its file, so a rollback over it is refused'
            )
    for revision in proof.revisions:
        if proof.static.get(revision) is False and revision not in breaking:
            click.echo(
                f"note: the review judges revision {revision} breaking, but the previous release ran on it "
                "(the ledger keeps the review's verdict: a rollback over it is refused)"
            )
    walked = f"{len(proof.revisions)} revision(s) from {', '.join(proof.previous_heads)} to {proof.head}"
    if proof.compatible:
        click.echo(f"compatible: the previous release ({against}) runs on every one of {walked}")
        return
    count = len(proof.incompatibilities)
    click.echo(f"{count} incompatibilit(ies) with the previous release ({against}) in {walked}")
    raise SystemExit(1)
