"""JSON for every error: {"error": ..., "message": ..., "details"?: ...}, never HTML or a stack trace."""

from flask import Flask, current_app
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from app.extensions import db


def error_body(status: int, message: str, details=None) -> dict:
    body = {"error": HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "_"), "message": message}
    if details:
        body["details"] = details
    return body


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        # flask-smorest's abort() and webargs put a message, per-field errors and headers in exc.data.
        data = getattr(exc, "data", None) or {}
        status = exc.code or 500
        details = data.get("errors") or data.get("messages")
        message = data.get("message") or _default_message(status, exc, details)
        response = exc.get_response()  # keeps headers such as Allow on a 405
        response.data = current_app.json.dumps(error_body(status, message, details))
        response.content_type = "application/json"
        for name, value in (data.get("headers") or {}).items():
            response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        # The session may be mid-transaction; never let the next request inherit it.
        db.session.rollback()
        current_app.logger.exception("unhandled error")
        return error_body(500, InternalServerError.description), 500


def _default_message(status: int, exc: HTTPException, details) -> str:
    if status == 422:
        return "the request is not valid"
    if status == 400 and "Invalid JSON body" in str(details):  # webargs' word for unparseable JSON
        return "malformed JSON body"
    return exc.description or HTTP_STATUS_CODES.get(status, "error")
