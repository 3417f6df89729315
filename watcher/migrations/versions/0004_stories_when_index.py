"""stories: an index on the listing order (coalesce(published_at, created_at), id)

The web view and `watcher stories` list newest first; without this index every page sorted the whole
stories table (0.3-0.4 s for page 1 at 100,000 stories on SQLite).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_stories_when", "stories", [sa.text("coalesce(published_at, created_at)"), "id"])


def downgrade() -> None:
    op.drop_index("ix_stories_when", table_name="stories")
