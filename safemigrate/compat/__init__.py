"""`flask db compat --against REF`: prove that the previous release runs on the new schema.

The review judges statically which revisions break the release still running (review/compat.py);
some breakages no SQL rule sees: SQLAlchemy raises LookupError reading an enum value the old model
does not list, an old insert omits a new NOT NULL column, old code writes past a narrowed type. This
package runs the previous release's own mappers against a scratch database upgraded one revision at a
time: for every mapped class an insert (the columns old code must set, then every column at its
largest value), a read back compared with what was written, an update and a delete, and a read of rows
the new schema admits (every enum label). Probes are generated from the mappers, not taken from the old
release's test suite.

- previous.py: the previous release's models and migrations, from a directory or a git ref;
- values.py: generated values for a column type;
- probes.py: the probes, each one line when it fails;
- proof.py: the scratch database, the walk from the old head to the new one, the findings.
"""
