"""JSON for every error: {"error": ..., "message": ...}, never an HTML page or a stack trace."""

from flask import Flask, current_app
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db


def error_response(status: int, message: str, details=None):
    body = {"error": _error_name(status), "message": message}
    if details is not None:
        body["details"] = details
    return body, status


def _error_name(status: int) -> str:
    from werkzeug.http import HTTP_STATUS_CODES

    return HTTP_STATUS_CODES.get(status, "Error").lower().replace(" ", "_")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        response = exc.get_response()
        body, _ = error_response(exc.code or 500, exc.description or "")
        response.data = current_app.json.dumps(body)
        response.content_type = "application/json"
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        # The session may be mid-transaction; never let the next request inherit it.
        db.session.rollback()
        current_app.logger.exception("unhandled error")
        return error_response(500, InternalServerError.description)
