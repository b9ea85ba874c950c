"""The OpenAPI document describes the real server: every route is in it, and a property-based
fuzz generated from it (schemathesis) never gets a 5xx or a response that breaks the document."""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

EXCLUDED_ENDPOINTS = {"api-docs.openapi_json"}  # the document itself
# Bounded so `make test` stays quick; FUZZ_EXAMPLES=500 make test digs deeper.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))


def test_document_is_openapi_3(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}


def test_every_route_is_documented(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXCLUDED_ENDPOINTS:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in paths.get(path, {}):
                missing.append(f"{method} {path}")
    assert not missing, f"routes missing from the OpenAPI document: {missing}"


def test_every_documented_operation_exists(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods
    }
    for path, operations in paths.items():
        for method in operations.keys() - {"parameters", "summary", "description"}:
            assert (path, method) in routes, f"{method.upper()} {path} is documented but not served"


@pytest.fixture
def web_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("web_schema")
# derandomize: the same examples every run, so CI is repeatable.
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@schema.parametrize()
@settings(FUZZ, max_examples=EXAMPLES)
def test_fuzz_authenticated(case, alice):
    case.call_and_validate(headers=alice.headers)


@schema.parametrize()
@settings(FUZZ, max_examples=max(EXAMPLES // 3, 1))
def test_fuzz_anonymous(case):
    case.call_and_validate()
