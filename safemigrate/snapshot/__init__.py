"""A database's schema, read two ways for two jobs.

- dump.py, for `flask db squash`: the schema as DDL, a normalised `pg_dump --schema-only`. The squash
  is written from that text and verified by comparing it again, so everything pg_dump can create is
  both rendered and checked: column order, comments, identity and generated columns, collations,
  schemas, extensions, domains, partitions, policies, table options.
- catalogue.py + diff.py, for `flask db drift`: the schema as records per object, read from
  pg_catalog with the server's own deparsers, so each differing object gets a line and the SQL that
  repairs it (indexes CONCURRENTLY, NOT VALID constraints validated). It leaves out what drift cannot
  repair object by object (column order, comments, the kinds above) and needs no pg_dump binary.

One cannot replace the other: a squash rendered from records would need a reimplementation of
pg_dump, and drift's repairs need objects, not lines of text.
"""
