"""The Flask class the factory builds: JSON parsing that cannot raise, and no HTML answers of its own."""

from __future__ import annotations

from flask import Flask

from app.api.parsing import SafeJSONProvider


class ApiFlask(Flask):
    json_provider_class = SafeJSONProvider

    def make_default_options_response(self):
        """OPTIONS: 204 with the Allow header, instead of Flask's empty text/html 200."""
        response = super().make_default_options_response()
        response.status_code = 204
        response.headers.pop("Content-Type", None)
        response.set_data(b"")
        return response
