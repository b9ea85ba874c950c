"""Security headers on every response, for an API that serves JSON only (no HTML, no scripts)."""

from __future__ import annotations

from flask import Flask, request

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",  # a JSON body is never sniffed into HTML or a script
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Production is served over HTTPS only (the platform's router terminates TLS).
HSTS = "max-age=31536000; includeSubDomains"


def register_security_headers(app: Flask) -> None:
    production = app.config.get("ENV_NAME") == "production"

    @app.after_request
    def add_security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if production:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if "Authorization" in request.headers:
            # Answers to a signed-in caller are theirs alone: no shared or browser cache keeps them.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
