"""Liveness and readiness probes."""

from flask import Blueprint
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.schema.state import read_schema_state

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up. Never touches the database, so a slow database cannot fail it."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Ready for traffic: the database answers and its schema is at the code's head."""
    try:
        with db.engine.connect() as connection:
            state = read_schema_state(connection)
    except SQLAlchemyError:
        return {"status": "unavailable", "reason": "database unreachable"}, 503
    body = {
        "revision": ",".join(state.current) or None,
        "head": ",".join(state.heads) or None,
    }
    if state.reason:
        return {"status": "unavailable", "reason": state.reason, **body}, 503
    return {"status": "ready", **body}
