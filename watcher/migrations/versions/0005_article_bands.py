"""article_bands: the near-duplicate (LSH) index moves from each process's memory into the store

Every stored article with a signature gets one row per distinct band key (watcher.dedupe.band_keys).
The rows are computed here from the stored signatures: about 0.4-0.7 ms per article on SQLite (a
minute for 100,000 articles; the random keys miss SQLite's page cache, hence the larger cache while it
runs). A future change to the band hashing needs a migration like this one to recompute them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_CHUNK = 2_000  # articles read (and their band rows written) per round trip


def upgrade() -> None:
    bands = op.create_table(
        "article_bands",
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.PrimaryKeyConstraint("band", "article_id"),
        sqlite_with_rowid=False,
    )
    from watcher.dedupe import band_keys

    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("PRAGMA cache_size = -131072")  # 128 MiB for this connection's bulk insert
    last = 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, signature FROM articles WHERE id > :last AND story_id IS NOT NULL "
            "AND signature IS NOT NULL ORDER BY id LIMIT :n"), {"last": last, "n": _CHUNK}).all()
        if not rows:
            break
        values = [{"band": key, "article_id": article_id}
                  for article_id, signature in rows for key in band_keys(bytes(signature))]
        if values:
            conn.execute(bands.insert(), values)
        last = rows[-1][0]
    if sqlite:
        conn.exec_driver_sql("PRAGMA cache_size = -2000")  # back to SQLite's default
    else:  # fresh statistics, or the planner scans the whole table for a batch's band keys until autovacuum
        conn.exec_driver_sql("ANALYZE article_bands")


def downgrade() -> None:
    op.drop_table("article_bands")
