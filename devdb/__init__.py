"""Development infrastructure: the embedded PostgreSQL that `make run` and the tests start.

Production code never imports this package: the app reaches it only when no DATABASE_URL is set
(development and tests), and the migration toolkit is handed a scratch server by its host.
"""
