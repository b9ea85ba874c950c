"""add token_version to users

Revision ID: 19b1a6f1c40a
Revises: 54c42481fd5e
Create Date: 2026-11-24 14:50:26.732075+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '19b1a6f1c40a'
down_revision = '54c42481fd5e'
branch_labels = None
depends_on = None


def upgrade():
    # NOT NULL with a constant server default: since PostgreSQL 11 this only touches the catalogue
    # (no table rewrite, no scan), so the ACCESS EXCLUSIVE lock is held for milliseconds.
    op.add_column('users', sa.Column('token_version', sa.Integer(), server_default=sa.text('0'), nullable=False))


def downgrade():
    # Forgets which tokens were revoked: tokens issued before a logout become valid again until they expire.
    op.drop_column('users', 'token_version')
