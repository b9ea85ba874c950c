"""JSON request bodies that cannot make the parser raise: bounded nesting, bounded numbers.

Python's json module recurses once per nesting level (RecursionError past ~1,000) and int() refuses
more than 4,300 digits (ValueError): both were 500s. Every body is read through `loads`, whether by
Flask (`request.get_json`, the app's JSON provider) or by webargs (the API's argument parser), and
anything it refuses is a JSONLimitError, which the API answers with a 400.
"""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider
from flask_smorest import abort
from webargs import core
from webargs.flaskparser import FlaskParser

MAX_DEPTH = 32  # the API's own bodies are 1 level deep
MAX_NUMBER_LENGTH = 40  # characters of one number literal: any 64-bit integer or double fits


class JSONLimitError(ValueError):
    """The body is JSON the API refuses to parse; the message is safe to send back."""


def _number(convert):
    def parse(literal: str):
        if len(literal) > MAX_NUMBER_LENGTH:
            raise JSONLimitError(f"JSON number longer than {MAX_NUMBER_LENGTH} characters")
        return convert(literal)

    return parse


def _no_constant(name: str):
    raise JSONLimitError(f"{name} is not JSON")


def _check_depth(value: Any) -> None:
    """Iterative, so measuring a deep document cannot recurse either."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_DEPTH:
                    raise JSONLimitError(f"JSON nested deeper than {MAX_DEPTH} levels")
                stack.append((child, depth + 1))


def loads(data: str | bytes | bytearray) -> Any:
    try:
        value = json.loads(
            data, parse_int=_number(int), parse_float=_number(float), parse_constant=_no_constant
        )
    except RecursionError:
        raise JSONLimitError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    _check_depth(value)
    return value


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, reading through `loads` (request.get_json answers 400 on a refusal)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)


class SafeParser(FlaskParser):
    """webargs' Flask parser (what flask-smorest's @arguments uses), reading through `loads`."""

    def _raw_load_json(self, req):
        if not core.is_json(req.mimetype):
            return core.missing
        try:
            return loads(req.get_data(cache=True))
        except JSONLimitError as exc:
            abort(400, message=str(exc))
        # Malformed JSON (JSONDecodeError, UnicodeDecodeError) goes on to webargs: 400 "Invalid JSON body".
