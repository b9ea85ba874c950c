"""`flask users ...`: accounts an operator manages from a shell (the first superuser, deactivation)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from config import error_summary

EMAIL_HELP = "the account's email (or SUPERUSER_EMAIL)"


def _fail(message: str):
    raise click.ClickException(message)


def _first_error(errors: dict) -> str:
    field, messages = next(iter(errors.items()))
    return f"{field}: {messages[0]}"


def _commit(db) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _fail("a user with this email already exists")
    except SQLAlchemyError as exc:  # the statement's values are never printed (hide_parameters)
        db.session.rollback()
        _fail(f"database error: {error_summary(exc)}")


@click.group()
def users():
    """Create a superuser, deactivate a user."""


@users.command("create-superuser")
@click.option("--email", envvar="SUPERUSER_EMAIL", prompt=True, help=EMAIL_HELP)
@click.option(
    "--password",
    envvar="SUPERUSER_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="prompted for (twice) unless SUPERUSER_PASSWORD is set; never pass it on the command line",
)
@with_appcontext
def create_superuser(email: str, password: str):
    """Create a superuser. Scripts set SUPERUSER_EMAIL and SUPERUSER_PASSWORD instead of answering."""
    from app.api.auth import hash_password
    from app.api.schemas import UserCreateSchema
    from app.extensions import db
    from app.models import User

    # The API's own rules: the same email pattern and password strength as registration.
    errors = UserCreateSchema().validate({"email": email, "password": password})
    if errors:
        _fail(_first_error(errors))
    email = email.strip().lower()
    try:
        exists = db.session.scalar(sa.select(User.id).where(User.email == email)) is not None
    except SQLAlchemyError as exc:
        _fail(f"database error: {error_summary(exc)}")
    if exists:
        _fail("a user with this email already exists")
    db.session.add(User(email=email, password_hash=hash_password(password), is_superuser=True))
    _commit(db)
    click.echo(f"superuser {email} created")


@users.command()
@click.option("--email", required=True, help="the account's email")
@with_appcontext
def deactivate(email: str):
    """Deactivate a user: refused at login, and every token already issued stops working at once."""
    from app.api.auth import revoke_tokens
    from app.extensions import db
    from app.models import User

    try:
        user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    except SQLAlchemyError as exc:
        _fail(f"database error: {error_summary(exc)}")
    if user is None:
        _fail("no user with this email")
    user.is_active = False
    revoke_tokens(user)
    _commit(db)
    click.echo(f"user {user.email} deactivated; their tokens are revoked")
