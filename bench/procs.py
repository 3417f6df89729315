"""Resident memory of a process and of its whole tree, for the benchmarks that run tools as processes.

A tool that starts helper processes (watcher's worker in a big cycle, rss2email's sendmail) is only
measured fairly by the sum over its tree at each moment: wait4's ru_maxrss is the largest single process.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType


def rss_mb(pid: int) -> float:
    """VmRSS of one process, 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc/*/stat (this kernel has no /proc/PID/task/TID/children)."""
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                # "pid (comm) state ppid ...": comm may hold spaces and parentheses
                ppid = int(stat.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        tree.setdefault(ppid, []).append(int(name))
    return tree


def tree_rss_mb(pid: int) -> float:
    """Sum of VmRSS over `pid` and all its descendants."""
    tree, todo, total = _children(), [pid], 0.0
    while todo:
        current = todo.pop()
        total += rss_mb(current)
        todo.extend(tree.get(current, ()))
    return total


class TreePeak:
    """Samples tree_rss_mb(pid) every `every` seconds in a thread until the block ends; `.peak` is the largest."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.pid, self.every, self.peak = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid))
            self._stop.wait(self.every)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
