"""Every rule the review can emit, with the PostgreSQL fact behind it. MIGRATIONS.md documents each
one with its fix (tests/test_docs.py keeps the two in step)."""

from __future__ import annotations

REWRITE = "rewrites the table under an ACCESS EXCLUSIVE lock (no reads or writes until it ends)"
SCAN = "scans the whole table while holding a lock that blocks writes"

RULES: dict[str, str] = {
    # the schema change itself
    "ban-drop-column": "data loss; the running release still reads and writes the column",
    "ban-drop-table": "data loss; the running release still uses the table",
    "ban-truncate": "data loss, under an ACCESS EXCLUSIVE lock",
    "adding-required-field": "fails at run time on a table with rows (NOT NULL without a default)",
    "adding-not-nullable-field": SCAN + " (SET NOT NULL without a valid CHECK (col IS NOT NULL))",
    "add-column-rewrites-table": "a volatile default, identity or stored generated column " + REWRITE,
    "adding-serial-column": "a serial column fills every row from its sequence: " + REWRITE,
    "changing-column-type": "a type change that is not metadata-only " + REWRITE,
    "renaming-column": "breaks the running release, which still uses the old name",
    "renaming-table": "breaks the running release, which still uses the old name",
    "require-concurrent-index-creation": "CREATE INDEX blocks writes for the whole build",
    "constraint-missing-not-valid": "a CHECK constraint added valid " + SCAN,
    "adding-foreign-key-constraint": "a foreign key added valid " + SCAN + " (both tables)",
    "disallowed-unique-constraint": "a UNIQUE, PRIMARY KEY or EXCLUDE constraint builds its index under "
    "an ACCESS EXCLUSIVE lock",
    "constraint-validated-in-same-transaction": "VALIDATE in the transaction that added the constraint "
    "scans while the ADD's strong lock is still held",
    "unbatched-data-change": "an UPDATE/DELETE over many rows holds their row locks until it commits",
    "lock-table": "an explicit LOCK TABLE that blocks writes (or reads) until the revision commits",
    "vacuum-full": "VACUUM FULL " + REWRITE,
    "cluster": "CLUSTER " + REWRITE,
    "set-logged-unlogged": "SET LOGGED / SET UNLOGGED " + REWRITE,
    "set-tablespace": "SET TABLESPACE / SET ACCESS METHOD " + REWRITE,
    "reindex-without-concurrently": "REINDEX without CONCURRENTLY blocks writes (and reads using the index)",
    "fails-in-transaction": "fails at run time: the statement cannot run inside a transaction block",
    "new-enum-value-used-in-transaction": "fails at run time: an enum value added in a transaction cannot "
    "be used until it commits",
    "refresh-materialized-view": "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of the "
    "view while it runs",
    "changing-column-collation": "a collation change rebuilds every index on the column under an ACCESS "
    "EXCLUSIVE lock (the table itself is not rewritten)",
    "not-rerunnable": "a step committed before later work (by a safe helper's or an autocommit block), or a "
    "concurrent index build with no drop of a failed attempt's INVALID index before it: if the revision "
    "fails after it, running it again fails on that step",
    "session-timeout": "a session-level SET lock_timeout / statement_timeout outlives the revision: later "
    "revisions of a `flask db upgrade` run wait as long for their locks while live queries queue",
    "duplicate-name": "fails at run time: an index or constraint name already taken in its schema or table",
    "sql-syntax-error": "fails at run time: PostgreSQL cannot parse the statement",
    "module-import-failed": "the revision file cannot be imported (a missing package): nothing in it was "
    "reviewed, the rest of the history was",
    "offline-render-failed": "the revision cannot be rendered to SQL offline, so nothing in it was reviewed",
    # the revision file
    "missing-message": "a revision without a message",
    "unwritten-review": "autogenerate's `# REVIEW:` block is still there: its change is not written",
    "empty-downgrade": "upgrade() changes the schema but downgrade() does nothing",
    "ack-without-reason": "an acknowledgement that does not say why",
    "unused-ack": "an acknowledgement nothing triggers (warning)",
    # the way back
    "downgrade-cannot-run": "a downgrade that fails every time (an unnamed constraint, an unconditional "
    "raise) instead of declaring the revision irreversible",
    "destructive-downgrade": "downgrading destroys data (warning)",
}
