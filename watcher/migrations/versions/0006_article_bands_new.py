"""article_bands_new: recent near-duplicate band rows, moved into article_bands in bulk

SQLite writes every page a transaction dirtied into the WAL at commit. An article's 64 band keys are
random, so on a grown store one feed's commit rewrote about a thousand pages of article_bands (4 MB):
40% of a cold 1,000-feed cycle. New rows now go to this small table (a few hundred pages that stay in
the page cache) and move into article_bands in key order once it holds enough of them (store/bands.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_bands_new",
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.PrimaryKeyConstraint("band", "article_id"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.execute("INSERT INTO article_bands (band, article_id) SELECT band, article_id FROM article_bands_new")
    op.drop_table("article_bands_new")
