"""Access tokens: sign in, sign out."""

from __future__ import annotations

from flask_smorest import abort

from app.api.auth import authenticate, current_user, issue_token, login_required, revoke_tokens
from app.api.docs import BEARER, BODY_ERRORS, NO_STORE, ApiBlueprint
from app.api.limits import document_throttling, login_limits
from app.api.schemas import TokenRequestSchema, TokenSchema
from app.extensions import db

bp = ApiBlueprint("tokens", __name__, url_prefix="/api/v1", description="Access tokens")


@bp.post("/auth/token")
@login_limits
@bp.arguments(TokenRequestSchema)
@bp.response(200, TokenSchema, headers={"Cache-Control": {"schema": {"type": "string"}}})
@bp.errors(*BODY_ERRORS, 401)
@document_throttling(bp)
def create_token(body):
    """Exchange email and password for a bearer token."""
    user = authenticate(body["email"], body["password"])
    if user is None:
        # The same answer whether or not the email exists.
        abort(401, message="wrong email or password")
    token, ttl = issue_token(user)
    return {"access_token": token, "token_type": "bearer", "expires_in": ttl}, 200, NO_STORE


@bp.post("/auth/logout")
@login_required
@bp.response(204)
@bp.doc(security=BEARER)
@bp.errors(401)
def logout():
    """Revoke the caller's tokens: this one and every other token issued to the same user."""
    revoke_tokens(current_user())
    db.session.commit()
