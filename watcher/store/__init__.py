"""The store: tables and models, engine, sessions and connections, migrations, and one module of queries per table."""

from watcher.store.db import Store, open_store

__all__ = ["Store", "open_store"]
