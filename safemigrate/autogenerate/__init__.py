"""Autogenerate that writes the revision you can ship, on Alembic's documented hooks.

- comparators.py: what stock autogenerate misses (enum values, serial sequences), as
  an Alembic plugin; CHECK constraints by Alembic's opt-in plugin;
- rewriter.py: process_revision_directives, every operation on an existing table in its safe form;
- renderers.py: those operations as readable `safe.…` calls;
- renames.py: a drop and an add of the same shape (a table, a column) that may be a rename;
- questioner.py and answers.py: renames confirmed and backfill values, asked or given as options;
- safemigrate/cli/migrate.py: `flask db migrate` with --rename and --backfill.

`context_options()` is what migrations/env.py hands to Alembic's context.configure().
"""

from __future__ import annotations

from safemigrate.autogenerate import comparators, renderers  # noqa: F401  (register the plugin, the renderers)
from safemigrate.autogenerate.rewriter import process_revision_directives

PLUGINS = ["alembic.autogenerate.*", "alembic.ext.checkconstraint_byname", comparators.PLUGIN]


def context_options(then=None, metadata=None) -> dict:
    """Options for context.configure(); `then` runs after the rewriter (e.g. skip an empty revision).

    The schemas compared are the default one and those the tables of `metadata` name: Alembic's
    default (the default schema only) would write a model's `{"schema": "audit"}` table again in every
    revision, and `check` would never be clean; all schemas would offer to drop what the models do not
    own (another tool's tables)."""

    def directives(context, revision, directives_):
        process_revision_directives(context, revision, directives_)
        if then is not None:
            then(context, revision, directives_)

    schemas = {table.schema for table in metadata.tables.values()} if metadata is not None else set()

    def include_name(name, type_, parent_names) -> bool:
        return type_ != "schema" or name is None or name in schemas

    return {
        "include_schemas": True,
        "include_name": include_name,
        "autogenerate_plugins": PLUGINS,
        "process_revision_directives": directives,
        "compare_type": comparators.compare_type,
    }
