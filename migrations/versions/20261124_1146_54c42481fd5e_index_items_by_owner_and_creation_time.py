"""index items by owner and creation time

Revision ID: 54c42481fd5e
Revises: 3a946a5e87fe
Create Date: 2026-11-24 11:46:53.751256+00:00

"""

from safemigrate import safe

# revision identifiers, used by Alembic.
revision = '54c42481fd5e'
down_revision = '3a946a5e87fe'
branch_labels = None
depends_on = None


def upgrade():
    # Concurrently: items keeps taking writes while the index builds.
    safe.create_index_concurrently('ix_items_owner_id_created_at', 'items', ['owner_id', 'created_at'])


def downgrade():
    safe.drop_index_concurrently('ix_items_owner_id_created_at', 'items')
