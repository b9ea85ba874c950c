"""OpenAPI details shared by the API blueprints."""

from __future__ import annotations

from http import HTTPStatus

from flask_smorest import Blueprint

from app.api.parsing import SafeParser
from app.api.schemas import ErrorSchema

BEARER = [{"bearerAuth": []}]
# What any endpoint reading a JSON body may answer before its own logic runs.
BODY_ERRORS = (400, 413)
# A response carrying a token must not be stored by any cache (RFC 6749 section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class ApiBlueprint(Blueprint):
    # @arguments reads bodies through the bounded JSON parser (app/api/parsing.py).
    ARGUMENTS_PARSER = SafeParser()

    def errors(self, *statuses: int):
        """Document error answers, all with the common error body."""

        def decorate(view):
            for status in statuses:
                view = self.alt_response(status, schema=ErrorSchema, description=HTTPStatus(status).phrase)(
                    view
                )
            return view

        return decorate
