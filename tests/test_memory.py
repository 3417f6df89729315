"""memory.release(): freed heap pages go back to the OS (glibc), so a daemon's RSS follows its work."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Callable

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


_PROBE = """
import sys, threading
from watcher import memory
if sys.argv[1] == "limit":
    assert memory.limit_arenas(1)
kept, ready, done = [], threading.Barrier(9), threading.Event()
def work():  # each thread allocates and holds C-heap blocks, as the daemon's job threads do
    kept.append([bytes(2000) for _ in range(500)])
    ready.wait()
    done.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
ready.wait()
arenas = 0  # glibc's thread arenas: anonymous mappings aligned on their 64 MiB reservation
for line in open("/proc/self/maps"):
    fields = line.split()
    start, end = (int(x, 16) for x in fields[0].split("-"))
    arenas += len(fields) == 5 and start % (64 << 20) == 0 and end - start <= 64 << 20
done.set()
for t in threads:
    t.join()
print(arenas)
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
@pytest.mark.parametrize("mode, expected", [("free", lambda n: n >= 2), ("limit", lambda n: n == 0)])
def test_limit_arenas_keeps_threads_in_few_arenas(mode: str, expected: Callable[[int], bool]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], env=env, capture_output=True, text=True, check=True)
    assert expected(int(out.stdout)), f"{mode}: {out.stdout.strip()} thread arenas"
