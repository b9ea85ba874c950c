"""Keyset pagination: a page ends at a position (created_at, id), and the next page starts after it.

The cursor is that position written out, `<microseconds since the epoch>.<id>`, so every cursor
the OpenAPI pattern allows means something: stable under concurrent inserts, cheap at any depth.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

CURSOR_PATTERN = r"^[0-9]{1,16}\.[0-9]{1,10}$"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ID = 2**31 - 1  # items.id is a PostgreSQL integer


def encode_cursor(created_at: datetime, item_id: int) -> str:
    return f"{(created_at - EPOCH) // timedelta(microseconds=1)}.{item_id}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Decode a cursor that matched CURSOR_PATTERN (the schema validated it)."""
    micros, item_id = cursor.split(".")
    return EPOCH + timedelta(microseconds=int(micros)), min(int(item_id), MAX_ID + 1)
