"""The application factory.

Everything web-facing is imported inside the factory, one `register_*` step per concern: a
command that needs only part of the app (the release runner is another package, `safemigrate`,
which imports nothing of this one) does not pay for Flask-Smorest, marshmallow and the limiter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from config import INSTANCE_DIR, Config, config_from_env

if TYPE_CHECKING:
    from flask import Flask


def create_app(config_class: type[Config] | Config | None = None) -> Flask:
    """Build the app. With no argument the configuration comes from APP_ENV and the environment."""
    from app.flask_app import ApiFlask

    # Explicit, so the app and the release runner agree on where the dev database lives.
    app = ApiFlask(__name__, instance_path=str(INSTANCE_DIR), static_folder=None)
    app.config.from_object(_as_config(config_class))
    resolve_database_uri(app)
    register_proxy_fix(app)
    register_extensions(app)
    register_throttling(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def _as_config(config_class: type[Config] | Config | None) -> Config:
    if config_class is None:
        return config_from_env()
    return config_class() if isinstance(config_class, type) else config_class


def resolve_database_uri(app: Flask) -> None:
    # No DATABASE_URL (allowed in development and tests only): use the embedded server.
    uses_embedded = app.config.get("SQLALCHEMY_DATABASE_URI") is None
    app.config["EMBEDDED_DB_IN_USE"] = uses_embedded
    if uses_embedded:
        from devdb.embedded import dev_server

        app.config["SQLALCHEMY_DATABASE_URI"] = dev_server().url().render_as_string(hide_password=False)


def register_proxy_fix(app: Flask) -> None:
    # Behind the platform's router every request comes from the router: throttling per client IP
    # needs the address the router saw, and only the trusted hops of X-Forwarded-For are believed.
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def register_extensions(app: Flask) -> None:
    from app.api.schemas import ErrorSchema
    from app.extensions import api, db, migrate

    # The OpenAPI document describes the error body app/errors.py really sends.
    api.ERROR_SCHEMA = ErrorSchema
    db.init_app(app)
    migrate.init_app(app)
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})


def register_throttling(app: Flask) -> None:
    from app.api.limits import register_limiter

    register_limiter(app)


def register_blueprints(app: Flask) -> None:
    from app.api.items import bp as items_bp
    from app.api.tokens import bp as tokens_bp
    from app.api.users import bp as users_bp
    from app.extensions import api
    from app.health import bp as health_bp

    # A doubled slash is a 404 (JSON), not Werkzeug's HTML redirect to the merged URL.
    app.url_map.merge_slashes = False
    for blueprint in (health_bp, users_bp, tokens_bp, items_bp):
        api.register_blueprint(blueprint)


def register_error_handlers(app: Flask) -> None:
    from app.errors import register_error_handlers as register

    register(app)


def register_security_headers(app: Flask) -> None:
    from app.headers import register_security_headers as register

    register(app)


def register_commands(app: Flask) -> None:
    from flask_migrate.cli import db as db_group

    from app.users_cli import users
    from devdb.cli import devdb
    from safemigrate.cli import register as register_migration_commands
    from safemigrate.cli.host import SCRATCH_SERVER, UNREACHABLE_HINT

    app.cli.add_command(devdb)
    app.cli.add_command(users)
    register_migration_commands(db_group)
    if app.config.get("USE_EMBEDDED_DB"):
        # Development and tests only: `flask db drift` may build its expected schema on a throwaway
        # embedded server when the role cannot create databases. Production hands nothing.
        from devdb.embedded import throwaway_server

        app.extensions[SCRATCH_SERVER] = throwaway_server
    if app.config["EMBEDDED_DB_IN_USE"]:
        # A command that cannot connect says how to start it, not which socket file is missing.
        app.extensions[UNREACHABLE_HINT] = "the development database is not running: start it with `make db`"
