"""The static verdict (safemigrate/review/compat.py) on statements the corpus of revisions does not
spell out: each one breaks the previous release, or keeps it, for the reason given."""

from __future__ import annotations

import pytest

from safemigrate.review.compat import judge

BREAKS = {
    "ALTER TABLE users SET SCHEMA archive;": "moves users to schema archive",
    "DROP TYPE status CASCADE;": "drops a type with CASCADE",
    "DROP SCHEMA app CASCADE;": "drops a schema with CASCADE",
    "DROP EXTENSION citext CASCADE;": "drops an extension with CASCADE",
    "ALTER TABLE users ALTER COLUMN id DROP IDENTITY;": "drops the identity of users.id",
    "ALTER TABLE users ADD PRIMARY KEY (email);": "adds a primary key on users",
    "ALTER TABLE t ADD COLUMN x int NOT NULL DEFAULT NULL;": "adds t.x NOT NULL without a default",
}
KEEPS = [
    "DROP TYPE status;",
    "DROP INDEX ix_a CASCADE;",
    "CREATE TABLE t (id int PRIMARY KEY); ALTER TABLE t SET SCHEMA archive;",
    "ALTER TABLE t ADD COLUMN x int NOT NULL DEFAULT 0;",
]


@pytest.mark.parametrize("sql", list(BREAKS))
def test_breaks(sql):
    verdict = judge(sql)
    assert verdict.keeps_previous is False
    assert verdict.reason.startswith(BREAKS[sql])


@pytest.mark.parametrize("sql", KEEPS)
def test_keeps(sql):
    assert judge(sql).keeps_previous is True
