"""Generated values for a column, as the code that maps it would write them.

Values are distinct per row (`n`), at the column's declared limit where it has one (old code may
write that much; a narrowed column must refuse it), and round-trip exactly when the schema is what
the code believes it is.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

_EPOCH = dt.datetime(2026, 1, 2, 3, 4, 5, 678000)


class NoValue(Exception):
    """No generated value for this type: the probe leaves the column to its default."""


def value_for(column_type: sa.types.TypeEngine, n: int, *, largest: bool = False) -> Any:
    t = column_type
    if isinstance(t, sa.Enum):
        labels = list(t.enums)
        if not labels:
            raise NoValue(str(t))
        return _enum_value(t, labels[n % len(labels)])
    if isinstance(t, sa.Boolean):
        return n % 2 == 0
    if isinstance(t, sa.SmallInteger):
        return 32000 - n if largest else n + 1
    if isinstance(t, sa.BigInteger):
        return 2**62 - n if largest else n + 1
    if isinstance(t, sa.Integer):
        return 2**31 - 1 - n if largest else n + 1
    if isinstance(t, sa.Numeric) and not isinstance(t, sa.Float):
        return _numeric(t, n, largest)
    if isinstance(t, sa.Float):
        return float(n) + 0.5
    if isinstance(t, sa.String):  # String, Text, Unicode, VARCHAR, CHAR, citext
        return _text(t, n, largest)
    if isinstance(t, sa.DateTime):
        moment = _EPOCH + dt.timedelta(minutes=n)
        return moment.replace(tzinfo=dt.UTC) if t.timezone else moment
    if isinstance(t, sa.Date):
        return (_EPOCH + dt.timedelta(days=n)).date()
    if isinstance(t, sa.Time):
        return (_EPOCH + dt.timedelta(minutes=n)).time()
    if isinstance(t, sa.Interval):
        return dt.timedelta(seconds=n + 1)
    if isinstance(t, sa.Uuid | pg.UUID):
        value = uuid.UUID(int=n + 1)
        return value if getattr(t, "as_uuid", True) else str(value)
    if isinstance(t, sa.JSON):
        return {"n": n}
    if isinstance(t, sa.LargeBinary):
        return bytes([n % 256]) * 4
    if isinstance(t, sa.ARRAY):
        return [value_for(t.item_type, n)]
    raise NoValue(type(t).__name__)


def _enum_value(t: sa.Enum, label: str) -> Any:
    enum_class = getattr(t, "enum_class", None)
    return enum_class[label] if enum_class is not None and label in enum_class.__members__ else label


def _text(t: sa.String, n: int, largest: bool) -> str:
    base = f"v{n}-"
    length = getattr(t, "length", None)
    if length is None:
        return base + "x" * (2000 if largest else 8)
    if largest:
        return (base + "x" * length)[:length]
    return (base + "x" * 8)[: max(1, min(length, len(base) + 8))]


def _numeric(t: sa.Numeric, n: int, largest: bool) -> decimal.Decimal:
    precision, scale = t.precision, t.scale or 0
    if precision is None:
        return decimal.Decimal(n) + decimal.Decimal("0.25")
    digits = precision - scale
    whole = (10**digits - 1 - n) if largest else n % (10**digits)
    return decimal.Decimal(whole).scaleb(0) + (decimal.Decimal(1).scaleb(-scale) if scale else 0)
