"""Engine and sessions for SQLite (default, under ./data) or PostgreSQL; migrations applied at open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, create_engine, event, inspect, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Store:
    """An open database: `with store.session() as s:` (ORM) or `with store.connect() as c:` (Core) gives
    one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions: Any = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """An ORM session whose work commits on success and rolls back on error."""
        if self._sessions is None:  # the ORM is imported by the first caller that needs objects
            from sqlalchemy.orm import sessionmaker

            self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection in a transaction that commits on success and rolls back on error: for the
        row-level work of a poll cycle (watcher.store.tables), which then never imports the ORM."""
        with self.engine.begin() as connection:
            yield connection

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling emits BEGIN only before the first INSERT/UPDATE, so a
    # SAVEPOINT opened before any write starts the transaction and its RELEASE commits it: the rest of
    # the "transaction" (e.g. the outbox rows after a batch of articles) was then committed separately
    # and a crash between the two lost alerts. SQLAlchemy's documented fix: driver autocommit, and we
    # emit BEGIN ourselves (_sqlite_begin).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A new article's commit carries its 64 near-duplicate band rows: on a grown store one feed's commit
    # dirtied more than the default 1,000 WAL pages, so nearly every commit ran a checkpoint. 10,000 pages
    # (a WAL of ~40 MB at most) checkpoint once per several feeds: a cold 1,000-feed `watcher poll` took
    # 120.7 / 116.0 s before, 95.4 / 79.4 s after (bench/compare_peers.py's cold cycle, alternated).
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock at the start, so a transaction that reads then writes cannot fail
    # with SQLITE_BUSY_SNAPSHOT when another thread committed in between; waiting is bounded by
    # busy_timeout. SQLite has one writer at a time anyway.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


_MAX_PARAMETERS = 30_000


def insert_or_ignore(session: Session | Connection, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> int:
    """INSERT `rows` into `table`, skipping those whose `keys` already exist (another process may have
    inserted the same row a moment ago: several replicas, one database). Returns how many were new."""
    if not rows:
        return 0
    dialect = (session if isinstance(session, Connection) else session.get_bind()).dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # the constraint still holds elsewhere; only the quiet conflict handling is dialect-specific
        raise RuntimeError(f"the store supports SQLite and PostgreSQL, not {dialect}")
    # Statements stay under the drivers' bound-parameter limits (PostgreSQL 65,535, SQLite 32,766).
    per_statement = max(1, _MAX_PARAMETERS // len(rows[0]))
    created = 0
    for start in range(0, len(rows), per_statement):
        stmt = (insert(table).values(rows[start:start + per_statement])
                .on_conflict_do_nothing(index_elements=keys).returning(table.c.id))
        # RETURNING, not rowcount: psycopg reports -1 for an ORM insert's rowcount.
        created += len(session.execute(stmt).all())
    return created


def update_rows(db: Session | Connection, table: Any, key: str, rows: list[dict[str, Any]]) -> None:
    """UPDATE each row of `table` whose `key` column equals the row's `key` value, setting the row's
    other values; rows that change the same columns go to the database as one executemany."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(name for name in row if name != key)), []).append(row)
    statement = update(table).where(table.c[key] == bindparam("key_"))  # SET comes from the row keys
    for batch in shapes.values():
        db.execute(statement, [{**{k: v for k, v in row.items() if k != key}, "key_": row[key]} for row in batch])


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's directory is created if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Each pooled connection keeps its own page cache (~2 MB once warm); SQLite has one writer anyway,
        # so two stay open and a third concurrent user gets a connection closed after use.
        engine = create_engine(url, connect_args={"timeout": 30}, pool_size=2, max_overflow=8)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # configparser treats % as interpolation; URLs carry %-escapes (e.g. search_path options).
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` on `engine`."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest migration, read from the file names (`0003_name.py`): no alembic import needed."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def stored_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database (None for an empty one), read with plain SQL."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no alembic_version table yet
        return None


def open_store(url: str, migrate: bool = True) -> Store:
    """Open the store at `url`, bringing its schema up to date first unless `migrate` is false.

    Alembic (~35 MB of imports) is only loaded when the schema is behind.
    """
    engine = make_engine(url)
    if migrate and stored_revision(engine) != head_revision():
        upgrade(engine)
    return Store(engine)


def table_names(store: Store) -> list[str]:
    return sorted(inspect(store.engine).get_table_names())
