"""Liveness and readiness probes."""

import marshmallow as ma
from sqlalchemy.exc import SQLAlchemyError

from app.api.docs import ApiBlueprint
from app.extensions import db
from config import MIGRATIONS_DIR
from safemigrate.state import read_schema_state, script_directory

bp = ApiBlueprint("health", __name__, description="Probes for the platform")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ready"})
    reason = ma.fields.String(metadata={"description": "why the app is not ready"})
    revision = ma.fields.String(allow_none=True, metadata={"description": "the database's revision"})
    head = ma.fields.String(allow_none=True, metadata={"description": "the code's head revision"})


@bp.get("/healthz")
@bp.response(200, HealthSchema)
def healthz():
    """The process is up. Never touches the database, so a slow database cannot fail it."""
    return {"status": "ok"}


@bp.get("/readyz")
@bp.response(200, ReadinessSchema)
@bp.alt_response(503, schema=ReadinessSchema, description="database unreachable or not at head")
def readyz():
    """Ready for traffic: the database answers and its schema is at the code's head."""
    try:
        with db.engine.connect() as connection:
            state = read_schema_state(connection, script_directory(MIGRATIONS_DIR))
    except SQLAlchemyError:
        return {"status": "unavailable", "reason": "database unreachable"}, 503
    body = {
        "revision": ",".join(state.current) or None,
        "head": ",".join(state.heads) or None,
    }
    if state.reason:
        return {"status": "unavailable", "reason": state.reason, **body}, 503
    return {"status": "ready", **body}
