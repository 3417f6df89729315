"""What every command gets: the config and the store, each loaded on first use."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from watcher.config import Config, load_config, parse_since
from watcher.store import Store, open_store


@dataclass
class Context:
    config_path: str | None
    out: TextIO
    _config: Config | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        """The validated config; raises ConfigError (exit 2) when it is unusable."""
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def store(self) -> Store:
        """The store named by the config, migrated to the current schema."""
        if self._store is None:
            self._store = open_store(self.config.store.url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def since_argument(text: str) -> datetime:
    """`--since DATE|DURATION` for every command that has it (argparse shows the message)."""
    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
