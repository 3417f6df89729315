"""Notifier registry: one Notifier class per channel type, registered under its config `type` name.

Built-in types (`email`, `slack`, and `apprise` when the library is installed) register exactly as a
user extension would:

    from watcher.notifiers import Notifier, register

    @register("teams")
    class TeamsNotifier(Notifier):
        def send(self, message): ...

Extensions installed as packages can also declare an entry point in the `watcher.notifiers` group.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from watcher.notifiers.base import (
    AlertMessage,
    AlertStory,
    Copy,
    Notifier,
    NotifierError,
    NotifierUnavailable,
    PermanentError,
    TransientError,
)

log = logging.getLogger(__name__)

_REGISTRY: dict[str, type[Notifier]] = {}
_BUILTINS = ("watcher.notifiers.email", "watcher.notifiers.slack", "watcher.notifiers.apprise_notifier")
_loaded = False

N = TypeVar("N", bound=type[Notifier])


def register(type_name: str) -> Callable[[N], N]:
    """Class decorator: make `cls` the notifier for config `type: <type_name>`."""

    def decorate(cls: N) -> N:
        existing = _REGISTRY.get(type_name)
        if existing is not None and existing is not cls:
            raise ValueError(f"notifier type {type_name!r} is already registered by {existing.__qualname__}")
        cls.type = type_name
        _REGISTRY[type_name] = cls
        return cls

    return decorate


def _load() -> None:
    """Import built-ins and entry-point extensions once (lazily, so importing this package is cheap)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _BUILTINS:
        try:
            importlib.import_module(module)
        except ImportError as exc:  # an optional library (apprise) is missing: that type is unavailable
            log.debug("notifier.builtin_unavailable", extra={"module": module, "error": str(exc)})
    for ep in entry_points(group="watcher.notifiers"):
        try:
            ep.load()
        except Exception as exc:
            log.warning("notifier.extension_failed", extra={"entry_point": ep.name, "error": str(exc)})


def notifier_types() -> list[str]:
    """Registered type names."""
    _load()
    return sorted(_REGISTRY)


def notifier_class(type_name: str) -> type[Notifier]:
    """The class registered for `type_name`; KeyError names the known types."""
    _load()
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise KeyError(f"no notifier type {type_name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def notifier_for(name: str, config: Any) -> Notifier:
    """Build the notifier called `name` in `config.notifiers`.

    Raises PermanentError when no such notifier is configured, NotifierUnavailable (transient) when
    its configuration is unusable (a missing `${VAR}`) or its type's library is not installed.
    """
    notifier_config = config.notifiers.get(name)
    if notifier_config is None:
        raise PermanentError(f"notifier {name!r} is not in the configuration")
    unavailable = getattr(notifier_config, "unavailable", None)
    if unavailable:
        raise NotifierUnavailable(f"notifier {name!r} is unusable: {unavailable}")
    try:
        cls = notifier_class(notifier_config.type)
    except KeyError as exc:
        raise NotifierUnavailable(f"notifier {name!r}: {exc.args[0]}") from None
    path = getattr(config, "path", None)
    return cls(name, notifier_config, base_dir=Path(path).parent if path else None)


__all__ = [
    "AlertMessage",
    "AlertStory",
    "Copy",
    "Notifier",
    "NotifierError",
    "NotifierUnavailable",
    "PermanentError",
    "TransientError",
    "notifier_class",
    "notifier_for",
    "notifier_types",
    "register",
]
