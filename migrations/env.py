"""Alembic environment for `flask db`, plain `alembic -c migrations/alembic.ini`, the release runner
and the tests.

Metadata and context options come from the app's modules, not from a Flask app context, so
the same environment serves every caller. A caller that manages its own connection (tests,
the release runner) hands it in as `config.attributes["connection"]`.
"""

import logging
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from app.extensions import db, migrate
from config import ConfigError, error_summary, safe_url
from safemigrate import autogenerate
from safemigrate.errors import DatabaseUnreachable, SafeMigrateError
from safemigrate.ledger import hook as ledger_hook
from safemigrate.ledger.recorder import not_the_ledger

config = context.config
if config.config_file_name and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

# A caller may compare against other models (the autogenerate corpus tests edit a copy of them).
target_metadata = config.attributes.get("target_metadata")
if target_metadata is None:
    target_metadata = db.metadata


def skip_empty_autogenerate(context, revision, directives):
    """`flask db migrate` with no model change writes no file."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def context_options() -> dict:
    options = dict(migrate.alembic_ctx_kwargs)
    given = options.get("include_name")
    # The safe forms, questions and extra comparisons of safemigrate/autogenerate/, then the skip.
    options.update(
        autogenerate.context_options(
            then=options.pop("process_revision_directives", skip_empty_autogenerate), metadata=target_metadata
        )
    )
    schemas = options["include_name"]  # the default schema and the models' (autogenerate/__init__.py)
    options["include_name"] = lambda *args: (
        not_the_ledger(*args) and schemas(*args) and (given is None or given(*args))
    )
    return options


def database_url() -> str:
    from flask import current_app

    return current_app.config["SQLALCHEMY_DATABASE_URI"]


def run_migrations_offline() -> None:
    """`--sql`: print the SQL instead of running it."""
    context.configure(
        url=config.attributes.get("url") or database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        # psycopg2's "pyformat" would print every % of a statement doubled ('50%' as '50%%').
        dialect_opts={"paramstyle": "named"},
        **context_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_with_connection(connection) -> None:
    options = context_options()
    try:
        destination = context.get_revision_argument()
    except KeyError:  # current, check, migrate: nothing is applied
        destination = None
    if destination is not None:  # upgrade, downgrade, stamp: record them
        options["on_version_apply"] = ledger_hook.prepare(connection, context.script, destination)
    context.configure(connection=connection, target_metadata=target_metadata, **options)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    handed_in = config.attributes.get("connection")
    if isinstance(handed_in, Connection):
        run_with_connection(handed_in)
        return
    # pytest-alembic hands in an Engine; `flask db` uses the app's.
    engine = handed_in if isinstance(handed_in, Engine) else db.engine
    try:
        connection = engine.connect()
    except OperationalError as exc:
        raise DatabaseUnreachable(f"cannot connect to {safe_url(engine.url)}: {error_summary(exc)}") from exc
    with connection:
        run_with_connection(connection)


@contextmanager
def plain_alembic():
    """Plain `alembic -c migrations/alembic.ini ...` (the seed guide's commands): no `flask` command
    built the app, so build it here, with the same configuration (DATABASE_URL honoured) and hooks,
    and word the toolkit's errors as Alembic's own: one `FAILED: ...` line, not a traceback.
    Callers that hand in a connection or a URL (the runner, the tests, the checksums) need no app."""
    from flask import has_app_context

    given = config.attributes.get("url" if context.is_offline_mode() else "connection")
    if given is not None or has_app_context():
        yield
        return
    from alembic.util import CommandError

    from app import create_app

    try:
        app = create_app()
    except ConfigError as exc:
        raise CommandError(f"configuration error: {exc}") from None
    try:
        with app.app_context():
            yield
    except SafeMigrateError as exc:
        raise CommandError(str(exc)) from None


with plain_alembic():
    if context.is_offline_mode():
        run_migrations_offline()
    else:
        run_migrations_online()
