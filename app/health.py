"""Liveness and readiness probes."""

import marshmallow as ma
from sqlalchemy.exc import SQLAlchemyError

from app.api.docs import ApiBlueprint
from app.extensions import db
from config import MIGRATIONS_DIR
from safemigrate.ledger.ancestry import readiness
from safemigrate.state import script_directory

bp = ApiBlueprint("health", __name__, description="Probes for the platform")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ready"})
    reason = ma.fields.String(metadata={"description": "why the app is not ready"})
    revision = ma.fields.String(allow_none=True, metadata={"description": "the database's revision"})
    head = ma.fields.String(allow_none=True, metadata={"description": "the code's head revision"})
    ahead = ma.fields.Integer(
        metadata={"description": "revisions the database has beyond this code, all keeping it working"}
    )


@bp.get("/healthz")
@bp.response(200, HealthSchema)
def healthz():
    """The process is up. Never touches the database, so a slow database cannot fail it."""
    return {"status": "ok"}


@bp.get("/readyz")
@bp.response(200, ReadinessSchema)
@bp.alt_response(
    503,
    schema=ReadinessSchema,
    description="database unreachable, behind, or ahead on a revision that breaks this code",
)
def readyz():
    """Ready for traffic: the database answers and its schema is at the code's head, or ahead of it
    on revisions that all keep this release working (a newer release's overlap, a rollback)."""
    try:
        with db.engine.connect() as connection:
            found = readiness(connection, script_directory(MIGRATIONS_DIR))
    except SQLAlchemyError:
        return {"status": "unavailable", "reason": "database unreachable"}, 503
    body = {
        "revision": ",".join(found.state.current) or None,
        "head": ",".join(found.state.heads) or None,
    }
    if found.ahead is not None:
        body["ahead"] = found.ahead.count
    if found.reason:
        return {"status": "unavailable", "reason": found.reason, **body}, 503
    return {"status": "ready", **body}
