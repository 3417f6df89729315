"""Source kinds: the registry mapping a config `kind:` name to the class that parses that kind's listing.

A kind is one module in this package defining a `SourceKind` subclass with a `name`; defining the class
registers it, and every module here is imported on first lookup, so adding a kind is adding a module.
Kinds only turn fetched bytes into entries: they never fetch and never touch the store.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, ClassVar

from watcher.sources.entry import Entry, Listing, ParseError

__all__ = ["Entry", "Listing", "ParseError", "SourceKind", "UnknownKind", "get_kind", "kinds"]

_REGISTRY: dict[str, type[SourceKind]] = {}
# Modules of this package that hold helpers, not kinds.
_NOT_KINDS = {"entry", "dates"}
_loaded = False


class UnknownKind(KeyError):
    """No source kind is registered under this name."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown source kind {self.name!r} (known: {', '.join(kinds())})"


class SourceKind:
    """Base class of the source kinds; a subclass with a `name` registers itself under it.

    Kinds hold no state, so `parse_listing` is a classmethod: `get_kind("feed").parse_listing(...)`.
    """

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if name:
            if name in _REGISTRY and _REGISTRY[name] is not cls:
                raise ValueError(f"source kind {name!r} registered twice ({_REGISTRY[name].__module__}, {cls.__module__})")
            _REGISTRY[name] = cls

    @classmethod
    def parse_listing(cls, body: bytes, url: str, content_type: str | None, source: Any) -> Listing:
        """Turn the fetched listing `body` of `url` into entries; raise ParseError naming `url` if it cannot.

        `source` is the SourceConfig (kinds read their own options from it, e.g. `links`, `next`).
        """
        raise NotImplementedError(f"source kind {cls.name!r} does not implement parse_listing")


def _load_kinds() -> None:
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _NOT_KINDS and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


def get_kind(name: str) -> type[SourceKind]:
    """The source kind class registered as `name`; raises UnknownKind (a KeyError) listing the known ones."""
    _load_kinds()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownKind(name) from None


def kinds() -> list[str]:
    """Names of every registered source kind, sorted."""
    _load_kinds()
    return sorted(_REGISTRY)
