"""memory.release(): freed heap pages go back to the OS (glibc), so a daemon's RSS follows its work."""

from __future__ import annotations

import platform

import pytest

from watcher import memory


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_freed_heap_goes_back_to_the_os() -> None:
    # 1 KB objects come from glibc's heap, not Python's arenas; a survivor every 64 objects pins the
    # heap so that free() alone cannot shrink it (what a poll cycle's garbage looks like).
    chunks = [bytes(1000) for _ in range(150_000)]
    survivors = chunks[::64]
    del chunks
    before = _rss_kb()
    assert memory.release()
    assert _rss_kb() < before - 50_000  # most of the ~150 MB freed is returned
    assert survivors
