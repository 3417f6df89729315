"""Give freed heap memory back to the operating system after bursts of work.

A poll that stores thousands of articles allocates and frees a lot of small objects; glibc keeps the
freed pages in its arenas, so a daemon's resident memory stays at its high-water mark (the soak
benchmark saw 264 MB fall to 210 MB on one `malloc_trim(0)`). The daemon calls `release()` after a
tick that stored something. Elsewhere than glibc (musl, macOS) it does nothing.

glibc also gives each thread that allocates its own arena (up to 8 per core), and each keeps its own
high-water mark: the daemon's jobs run in a thread pool, so a poll's garbage lands in whichever
arena its thread had. `limit_arenas()` (the daemon, at start, before its threads) caps them, the
documented MALLOC_ARENA_MAX remedy.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Callable


_M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h


@functools.cache
def _libc_function(name: str) -> Callable[..., int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return getattr(libc, name)  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


def release() -> bool:
    """Return free heap pages to the OS; True when the C library could do it."""
    trim = _libc_function("malloc_trim")
    return bool(trim(0)) if trim is not None else False


def limit_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (unless MALLOC_ARENA_MAX already says how many); True when set."""
    mallopt = _libc_function("mallopt")
    if mallopt is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))
