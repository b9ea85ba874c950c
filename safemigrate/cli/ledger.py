"""`flask db validate`, `repair`, `ledger` and `drift`: can this database's history be trusted?

Exit codes: 0 all good, 1 something found (a changed/gone/skipped revision, a drift), 2 the
check could not run (database unreachable, no privilege to read it): one line, no traceback.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from safemigrate.cli import host
from safemigrate.errors import error_summary


class CannotCheck(click.ClickException):
    exit_code = 2


def _connect():
    return host.engine().connect()


def _scripts(directory: str | None):
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(host.migrations_directory(directory)))


def _cannot(what: str, exc: Exception) -> CannotCheck:
    return CannotCheck(f"cannot {what}: {error_summary(exc)}")


directory_option = click.option("-d", "--directory", default=None, help="Migration scripts folder.")


@click.command("validate")
@directory_option
@with_appcontext
def validate_command(directory: str):
    """Compare the ledger of applied revisions with today's revision files (exit 1 on a finding)."""
    from safemigrate.ledger import recorder as ledger
    from safemigrate.ledger.validate import validate

    scripts = _scripts(directory)
    try:
        with _connect() as connection:
            if not ledger.exists(connection):
                missing = ledger.unrecorded(connection, scripts)
                click.echo(
                    f"no ledger in this database yet: the next upgrade adopts its {len(missing)} "
                    "applied revision(s) with today's checksums"
                )
                return
            findings = validate(connection, scripts)
    except SQLAlchemyError as exc:
        raise _cannot("read the ledger", exc) from None
    for finding in findings:
        click.echo(finding.message)
    if findings:
        click.echo(
            f"{len(findings)} finding(s): restore the files, or accept them with "
            '`flask db repair --reason "..."`'
        )
        raise SystemExit(1)
    click.echo("ledger and revision files agree")


@click.command("repair")
@click.option("--reason", required=True, help="Why today's files are the truth (kept in the ledger).")
@directory_option
@with_appcontext
def repair_command(reason: str, directory: str):
    """Accept today's files for the revisions validate reports as changed or gone (nothing is deleted)."""
    from safemigrate.ledger.validate import repair, validate

    if not reason.strip():
        raise click.UsageError("--reason must say why")
    scripts = _scripts(directory)
    try:
        with _connect() as connection:
            repaired = repair(connection, validate(connection, scripts), reason.strip())
    except SQLAlchemyError as exc:
        raise _cannot("repair the ledger", exc) from None
    for finding in repaired:
        click.echo(f"repaired {finding.kind}: {finding.revision}")
    click.echo(f"{len(repaired)} revision(s) repaired; reason recorded: {reason.strip()}")


@click.command("ledger")
@click.option("-n", "--limit", type=click.IntRange(min=1), default=50, show_default=True)
@with_appcontext
def ledger_command(limit: int):
    """The ledger, newest first: when, what, by which version and role, how long."""
    from safemigrate.ledger import recorder as ledger

    try:
        with _connect() as connection:
            if not ledger.exists(connection):
                click.echo("no ledger in this database yet (the next upgrade creates it)")
                return
            entries = ledger.entries(connection, limit)
    except SQLAlchemyError as exc:
        raise _cannot("read the ledger", exc) from None
    for e in entries:
        took = f"{e.duration_ms} ms" if e.duration_ms is not None else "-"
        extra = f"  reason: {e.reason}" if e.reason else ""
        click.echo(
            f"{e.applied_at:%Y-%m-%d %H:%M:%S%z}  {e.direction:<9} {e.revision}  {took}  "
            f"version {e.app_version or '?'}  by {e.db_role}@{e.client_host or '?'}  "
            f"{e.checksum[:16]}{extra}"
        )


@click.command("drift")
@click.option("--sql", "sql_only", is_flag=True, help="Print only the SQL that repairs the live database.")
@directory_option
@with_appcontext
def drift_command(sql_only: bool, directory: str):
    """Compare the live schema with the one its revisions build in a scratch database (exit 1 on drift).

    Tables, columns (type, nullability, default), indexes (INVALID too), constraints (NOT VALID
    too), enums, sequences, views, triggers, functions: one line per difference, then its SQL.
    """
    from safemigrate.drift import DriftError, find_drift

    url = host.engine().url
    try:
        differences = find_drift(url, _scripts(directory), scratch_server=host.scratch_server())
    except DriftError as exc:
        raise CannotCheck(str(exc)) from None
    for difference in differences:
        if not sql_only:
            click.echo(difference.line)
        for statement in difference.sql:
            click.echo(statement if sql_only else f"    {statement}")
    if not sql_only:
        click.echo(
            f"{len(differences)} difference(s)"
            if differences
            else "no drift: the live schema is what its revisions build"
        )
    if differences:
        raise SystemExit(1)


def register(db_group: click.Group) -> None:
    db_group.add_command(drift_command)
    db_group.add_command(validate_command)
    db_group.add_command(repair_command)
    db_group.add_command(ledger_command)
