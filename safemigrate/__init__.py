"""The database schema: where it stands, and how it moves."""
