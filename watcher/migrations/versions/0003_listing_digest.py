"""http_cache.body_digest and entries: skip parsing byte-identical listings in any process

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("http_cache") as batch:
        batch.add_column(sa.Column("body_digest", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("entries", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("http_cache") as batch:
        batch.drop_column("entries")
        batch.drop_column("body_digest")
