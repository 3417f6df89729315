"""The one clock: every module asks here for the time, so tests can move it."""

from __future__ import annotations

from datetime import datetime, timezone

_frozen: datetime | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


def freeze(at: datetime | None) -> None:
    """Pin the clock (tests only); `freeze(None)` lets it run again."""
    global _frozen
    _frozen = at.astimezone(timezone.utc) if at is not None else None
