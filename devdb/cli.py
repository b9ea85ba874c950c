"""`flask devdb ...`: the embedded development PostgreSQL."""

import click
from flask import current_app
from flask.cli import with_appcontext

from config import safe_url


def _server():
    from devdb.embedded import dev_server

    return dev_server()


def _fail(exc: Exception):
    raise click.ClickException(str(exc))


@click.group()
def devdb():
    """The embedded PostgreSQL used in development when DATABASE_URL is not set."""


@devdb.command()
@with_appcontext
def start():
    """Start it (does nothing if it is running) and create the app's database."""
    from devdb.embedded import EmbeddedDatabaseError

    if not current_app.config["EMBEDDED_DB_IN_USE"]:
        click.echo(f"DATABASE_URL is set: using {safe_url(current_app.config['SQLALCHEMY_DATABASE_URI'])}")
        return
    server = _server()
    was_running = server.is_running()
    try:
        url = server.start()
    except EmbeddedDatabaseError as exc:
        _fail(exc)
    click.echo(f"embedded PostgreSQL {'already running' if was_running else 'started'}: {safe_url(url)}")


@devdb.command()
@with_appcontext
def stop():
    """Stop it."""
    from devdb.embedded import EmbeddedDatabaseError

    try:
        stopped = _server().stop()
    except EmbeddedDatabaseError as exc:
        _fail(exc)
    click.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")


@devdb.command()
@with_appcontext
def status():
    """Say whether it runs; exit 1 when it does not."""
    server = _server()
    info = server.info()
    if info is None:
        click.echo(f"embedded PostgreSQL is not running (data: {server.pgdata})")
        raise SystemExit(1)
    click.echo(f"embedded PostgreSQL is running: pid {info.pid}, data {server.pgdata}")


@devdb.command()
@with_appcontext
def url():
    """Print the app's database URL (password masked)."""
    click.echo(safe_url(current_app.config["SQLALCHEMY_DATABASE_URI"]))
