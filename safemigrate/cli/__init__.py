"""`flask db lint`, `status` and `reset-migrations`, added to Flask-Migrate's `db` command group, and
`register`, which adds every command of the toolkit and words every failure as one line (errors.py)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from safemigrate.cli import host
from safemigrate.cli.downgrade import guard_downgrade
from safemigrate.cli.errors import one_line_errors
from safemigrate.cli.squash import guard_upgrade, squash_command
from safemigrate.errors import error_summary
from safemigrate.review import hook as lint_hook  # noqa: F401 (registers the post-write hook named in alembic.ini)


class _UsageError(click.ClickException):
    """One line (`Error: ...`), exit 2: no usage block for a wrong revision."""

    exit_code = 2


@click.command("lint")
@click.argument("revision_range", required=False)
@click.option("-d", "--directory", default=None, help="Migration scripts folder.")
@with_appcontext
def lint_command(revision_range: str | None, directory: str | None):
    """Review revisions for dangerous operations (all; REV; A:B after A up to B; or a file).

    Exits 1 when any revision has an error it does not acknowledge with
    `# lint-ack: <rule>: <reason>`; warnings do not fail.
    """
    from safemigrate.review import LintError, MigrationLinter, format_report  # only when used: pglast

    try:
        linter = MigrationLinter(host.migrations_directory(directory))
        reports = linter.lint(linter.select(revision_range))
    except LintError as exc:
        raise _UsageError(str(exc)) from None
    for report in reports:
        click.echo(format_report(report))
    errors = sum(len(r.errors) for r in reports)
    click.echo(f"{len(reports)} revision(s) linted: {errors} unacknowledged error(s)")
    if errors:
        raise SystemExit(1)


@click.command("status")
@click.option("-d", "--directory", default=None, help="Migration scripts folder.")
@with_appcontext
def status_command(directory: str | None):
    """Every revision, oldest first: [X] applied / [ ] pending, markers, message, lint verdict."""
    from safemigrate.ledger.ancestry import readiness
    from safemigrate.ledger.recorder import applied_when
    from safemigrate.review import LintError, MigrationLinter, revision_message
    from safemigrate.state import read_applied

    try:
        linter = MigrationLinter(host.migrations_directory(directory))
        scripts = linter.select()
    except LintError as exc:
        raise _UsageError(str(exc)) from None
    try:
        verdicts = {r.script.revision: r.verdict for r in linter.lint(scripts)}
    except LintError as exc:
        verdicts = {}
        click.echo(f"lint verdicts not shown: {exc}")

    applied: set[str] | None
    ahead = None
    try:
        with host.engine().connect() as connection:
            ahead = readiness(connection, linter.scripts).ahead
            applied = (
                read_applied(connection, linter.scripts) if ahead is None else _known_applied(ahead, linter)
            )
            when = applied_when(connection)
    except SQLAlchemyError as exc:
        applied = None
        hint = f"; {host.unreachable_hint()}" if host.unreachable_hint() else ""
        click.echo(f"database unreachable ({error_summary(exc)}{hint}): applied marks not shown")

    for script in scripts:
        mark = "   " if applied is None else ("[X]" if script.revision in applied else "[ ]")
        markers = [
            label
            for label, present in (
                ("head", script.is_head),
                ("branchpoint", script.is_branch_point),
                ("mergepoint", script.is_merge_point),
            )
            if present
        ]
        suffix = f" ({', '.join(markers)})" if markers else ""
        message = revision_message(script) or "<no message>"
        recorded = when.get(script.revision, "") if applied and script.revision in applied else ""
        verdict = verdicts.get(script.revision, "?")
        click.echo(f"{mark} {script.revision}  {message}{suffix}  lint: {verdict}{recorded}")
    if applied is not None:
        pending = sum(1 for s in scripts if s.revision not in applied)
        click.echo(f"{len(scripts) - pending} applied, {pending} pending")
    if ahead is not None:
        click.echo(ahead.refusal(tuple(linter.scripts.get_heads())) or ahead.summary())


def _known_applied(ahead, linter) -> set[str]:
    """Applied revisions of this code when the database is ahead: everything below what the walk reached."""
    reached = [r for r in ahead.reached if r]
    if not reached:
        return set()
    return {s.revision for s in linter.scripts.iterate_revisions(tuple(reached), "base")}


@click.command("reset-migrations")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("-m", "--message", default="initial migration", show_default=True)
@with_appcontext
def reset_migrations_command(yes: bool, message: str):
    """Development only: replace the history with one fresh initial revision.

    Old revision files move to instance/, the old database is renamed (not dropped).
    Refuses in production and on a non-local database.
    """
    import flask_migrate
    from flask import current_app

    from safemigrate.reset import (
        ResetRefused,
        check,
        new_plan,
        refuse_unless_local_development,
        restore,
        set_aside,
    )

    try:
        url = refuse_unless_local_development(
            current_app.config.get("ENV_NAME", ""), current_app.config["SQLALCHEMY_DATABASE_URI"]
        )
    except ResetRefused as exc:
        raise click.ClickException(str(exc)) from None
    plan = new_plan(url, host.migrations_directory() / "versions", host.instance_path())
    click.echo(plan.describe())
    if not yes and not click.confirm("Go ahead?", default=False):
        raise click.ClickException("nothing changed")
    check(plan)
    host.engine().dispose()
    set_aside(plan)
    host.engine().dispose()
    try:
        # Flask-Migrate's functions themselves, not their wrappers that log and exit: a failure must
        # reach the `except` that puts the old files and database back.
        flask_migrate.migrate.__wrapped__(message=message)
        flask_migrate.upgrade.__wrapped__()
    except BaseException:
        host.engine().dispose()
        restore(plan)
        click.echo("reset undone: the old revision files and database are back", err=True)
        raise
    click.echo(f"done: old revisions in {plan.backup_dir}, old data in database {plan.old_database!r}")


def register(db_group: click.Group) -> None:
    from safemigrate.cli import ledger as trust_cli
    from safemigrate.cli.compat import compat_command
    from safemigrate.cli.current import wrap_current
    from safemigrate.cli.migrate import migrate_command

    db_group.add_command(migrate_command)  # replaces Flask-Migrate's, keeping its options
    trust_cli.register(db_group)
    db_group.add_command(lint_command)
    db_group.add_command(status_command)
    db_group.add_command(reset_migrations_command)
    db_group.add_command(squash_command)
    guard_upgrade(db_group)
    wrap_current(db_group)
    db_group.add_command(compat_command)
    guard_downgrade(db_group)
    one_line_errors(db_group)  # last: it wraps every command above, Flask-Migrate's included
