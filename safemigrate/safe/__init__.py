"""Zero-downtime building blocks for revision authors. Import them in a migration file:

    from safemigrate import safe

    def upgrade():
        safe.create_index_concurrently("ix_items_owner_id_created_at", "items", ["owner_id", "created_at"])

Each helper commits what Alembic has done so far and works outside a transaction (Alembic's
`autocommit_block`), one short statement at a time, so no long-lived lock is ever held. Each is
idempotent, so a revision that failed half-way (a lock timeout, a killed runner) can simply be run
again. `flask db lint` recognises the SQL they produce as safe. `flask db migrate` writes these
calls itself (safemigrate/autogenerate/).
"""

from safemigrate.safe.columns import add_not_null_column, set_not_null
from safemigrate.safe.constraints import create_check_constraint, create_foreign_key, create_unique_constraint
from safemigrate.safe.data import backfill_in_batches
from safemigrate.safe.enums import add_enum_value, create_enum, drop_enum_if_unused, keep_enum_value
from safemigrate.safe.indexes import create_index_concurrently, drop_index_concurrently, drop_invalid_index
from safemigrate.safe.run import log, outside_transaction

__all__ = [
    "add_enum_value",
    "add_not_null_column",
    "backfill_in_batches",
    "create_check_constraint",
    "create_enum",
    "create_foreign_key",
    "create_index_concurrently",
    "create_unique_constraint",
    "drop_enum_if_unused",
    "drop_index_concurrently",
    "drop_invalid_index",
    "keep_enum_value",
    "log",
    "outside_transaction",
    "set_not_null",
]
