"""Why the squash verifies with the dump and not with drift's catalogue snapshot: schemas that differ
in what only pg_dump renders compare equal by the catalogue and differ by the dump. Should the
catalogue learn these, squash could verify with it; until then this test says it cannot."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from safemigrate.snapshot.catalogue import snapshot
from safemigrate.snapshot.dump import compare


def _build(url, *statements: str) -> dict:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
            return snapshot(connection)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(
            ["CREATE TABLE t (a integer, b text)"], ["CREATE TABLE t (b text, a integer)"], id="column order"
        ),
        pytest.param(
            ["CREATE TABLE t (a integer)"],
            ["CREATE TABLE t (a integer)", "COMMENT ON COLUMN t.a IS 'kept by the squash'"],
            id="comment",
        ),
        pytest.param(
            ["CREATE TABLE t (a text)"], ['CREATE TABLE t (a text COLLATE "C")'], id="column collation"
        ),
        pytest.param(
            ["CREATE TABLE t (a integer)"], ["CREATE UNLOGGED TABLE t (a integer)"], id="unlogged table"
        ),
    ],
)
def test_what_only_the_dump_sees(make_database, first, second):
    one, other = make_database(), make_database()
    assert _build(one, *first) == _build(other, *second)
    differences = [
        line for line in compare(one, other) if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert differences, "the dump must tell the two schemas apart"
