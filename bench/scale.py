"""Scale benchmark: how many mostly-unchanged feeds per minute daemons sustain, alone and sharing PostgreSQL.

Usage: .venv/bin/python bench/scale.py [--feeds 10000] [--daemons 1 2 3] [--window 60] [--sqlite/--no-sqlite]
                                      [--profile] [--concurrency 16] [--interval 10s]

One feed server process (bench/feed_server.py) serves N small feeds that start empty; 1% of them
(`--changing`) gain a new item every minute, so after the first cycle almost every request is a 304,
which is the steady state of a large deployment. Every source's interval (`--interval`, default 1 s)
is far shorter than a cycle, so every source is always due, the daemons are never idle, and what is
measured is their ceiling.

Runs, each a set of `watcher run` processes (tick 1 s, `--http none`):
1. one daemon on SQLite (the default store), when --sqlite;
2. for each K in --daemons: K daemons sharing one PostgreSQL database (127.0.0.1:5432, user postgres;
   a fresh database is created for the run and dropped at the end; the first configuration pays the
   first cycle, the next ones start warm).
For each run: seconds from start to the first request (config load, migrations, source sync) and to
the end of the first full cycle, then requests per second over `--window` seconds of steady state
(counted by the server), the 304 share, and the CPU used by the daemons and by the server (2 cores in
all). With --profile, py-spy samples the first daemon of each run during the window and the functions
where it spends its time are listed (py-spy must be installed in .venv: `pip install py-spy`; it is a
benchmark tool, not a dependency).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feed_server import FeedServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_ADMIN = os.environ.get("WATCHER_SCALE_PG", "postgresql://postgres@127.0.0.1:5432/test")
TARGET_PER_S = 100_000 / (15 * 60)  # 100,000 feeds per 15-minute cycle
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    label: str
    daemons: int
    startup_s: float | None  # start -> first request
    cycle_s: float | None  # start -> every feed requested once (None: the store was already warm)
    per_s: float
    not_modified_share: float
    daemon_cpu: float  # CPU seconds per wall second, all daemons together
    server_cpu: float
    profile: list[str]


def _cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and its reaped children, in seconds (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / CLK_TCK
    except (OSError, IndexError):
        return 0.0


def write_config(path: Path, store_url: str, server: FeedServer, interval: str, concurrency: int) -> None:
    lines = [f'store: {{url: "{store_url}"}}',
             f"defaults: {{interval: {interval}, timeout: 20s, concurrency: {concurrency}, "
             f"per_host: {concurrency}, robots: false}}",
             "daemon: {tick: 1s, batch: 500}",
             "sources:"]
    lines += [f'  - {{name: f{i}, kind: feed, url: "{url}"}}' for i, url in enumerate(server.urls())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Daemons:
    """K `watcher run` processes on one config; logs under bench/out/."""

    def __init__(self, config: Path, count: int, label: str) -> None:
        self.procs = []
        self.logs = []
        for k in range(count):
            log = open(OUT / f"scale_{label}_{k}.log", "wb")
            self.logs.append(log)
            self.procs.append(subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "watcher"), "--config", str(config), "--log-level", "warning",
                 "run", "--http", "none", "--tick", "1s"], stdout=log, stderr=subprocess.STDOUT, cwd=config.parent))

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def cpu(self) -> float:
        return sum(_cpu_seconds(p.pid) for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs:
            log.close()


def _wait(condition, timeout: float, what: str, daemons: Daemons) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not condition():
        if not daemons.alive():
            raise RuntimeError(f"a daemon exited while waiting for {what}; see bench/out/scale_*.log")
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)
    return time.monotonic() - started


def measure(label: str, config: Path, count: int, server: FeedServer, window: float, profile: bool,
            cold: bool) -> Result:
    base = server.stats()
    started = time.monotonic()
    daemons = Daemons(config, count, label)
    try:
        startup = _wait(lambda: server.stats()["requests"] > base["requests"], 1800, "the first request", daemons)
        cycle = None
        if cold:
            _wait(lambda: server.stats()["requests"] - base["requests"] >= server.feeds, 7200,
                  "the first full cycle", daemons)
            cycle = time.monotonic() - started
        else:
            time.sleep(10)  # let the new daemons claim their share
        spy = _start_profile(daemons.procs[0].pid, window, label) if profile else None
        before, cpu_before, server_before = server.stats(), daemons.cpu(), _cpu_seconds(server.pid or 0)
        t0 = time.monotonic()
        time.sleep(window)
        after, cpu_after, server_after = server.stats(), daemons.cpu(), _cpu_seconds(server.pid or 0)
        elapsed = time.monotonic() - t0
        lines = _finish_profile(spy) if spy else []
        if not daemons.alive():
            raise RuntimeError(f"a daemon exited during the window; see bench/out/scale_{label}_*.log")
    finally:
        daemons.stop()
    requests = after["requests"] - before["requests"]
    return Result(label=label, daemons=count, startup_s=startup, cycle_s=cycle, per_s=requests / elapsed,
                  not_modified_share=(after["not_modified"] - before["not_modified"]) / max(requests, 1),
                  daemon_cpu=(cpu_after - cpu_before) / elapsed, server_cpu=(server_after - server_before) / elapsed,
                  profile=lines)


# ---- profiling --------------------------------------------------------------------------------------

def _start_profile(pid: int, window: float, label: str) -> tuple[subprocess.Popen, Path] | None:
    spy = shutil.which("py-spy", path=str(ROOT / ".venv" / "bin")) or shutil.which("py-spy")
    if spy is None:
        print("py-spy not found (pip install py-spy into .venv); no profile", file=sys.stderr)
        return None
    out = OUT / f"scale_{label}.folded"
    proc = subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(int(window)), "--rate", "50",
                             "--format", "raw", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, out


def _finish_profile(spy: tuple[subprocess.Popen, Path]) -> list[str]:
    proc, out = spy
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if not out.exists():
        return ["(py-spy wrote nothing: ptrace not permitted?)"]
    return summarize_folded(out.read_text().splitlines())


def _frame(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"; keep "function (file.py)".
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rsplit("/", 1)[-1].rstrip(")")
    return f"{name} ({file})"


def summarize_folded(lines: list[str], top: int = 12) -> list[str]:
    """Top functions by own samples and top watcher/* functions by inclusive samples, from folded stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if f]
        if not frames:
            continue
        total += n
        own[_frame(frames[-1])] += n
        for frame in {_frame(f) for f in frames if "(watcher/" in f or "/watcher/" in f}:
            inclusive[frame] += n
    if not total:
        return ["(no samples)"]
    out = [f"{total} samples (all threads); own time:"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    out.append("inclusive, watcher code:")
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return out


# ---- PostgreSQL -------------------------------------------------------------------------------------

def create_database() -> tuple[str, str]:
    import psycopg

    name = f"watcher_scale_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    host = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return name, f"{host}/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- report -----------------------------------------------------------------------------------------

def table(feeds: int, results: list[Result]) -> str:
    lines = ["| store | daemons | feeds | start s | first cycle s | feeds/s | feeds/min | 304 share | "
             "daemon CPU | server CPU |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.label.split('-')[0]} | {r.daemons} | {feeds:,} | "
                     f"{'-' if r.startup_s is None else f'{r.startup_s:.1f}'} | "
                     f"{'-' if r.cycle_s is None else f'{r.cycle_s:.1f}'} | {r.per_s:,.0f} | {r.per_s * 60:,.0f} | "
                     f"{r.not_modified_share:.1%} | {r.daemon_cpu:.2f} | {r.server_cpu:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--daemons", type=int, nargs="*", default=[1, 2, 3],
                        help="daemon counts to run on PostgreSQL (none: skip PostgreSQL)")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True,
                        help="also run one daemon on SQLite (default: yes)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured in steady state")
    parser.add_argument("--interval", default="1s", help="every source's interval (far shorter than a cycle)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--changing", type=float, default=0.01, help="share of feeds gaining an item per minute")
    parser.add_argument("--profile", action="store_true", help="py-spy the first daemon of each run")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    with FeedServer(args.feeds, items=3, paragraphs=1, rotate=60, changing=args.changing,
                    start_empty=True) as server, tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        print(f"{args.feeds:,} feeds from one server process; {args.changing:.0%} gain an item per minute; "
              f"interval {args.interval}; concurrency {args.concurrency}; window {args.window:g} s", flush=True)
        if args.sqlite:
            config = Path(tmp) / "sqlite.yaml"
            write_config(config, f"sqlite:///{tmp}/scale.db", server, args.interval, args.concurrency)
            results.append(measure("sqlite-1", config, 1, server, args.window, args.profile, cold=True))
            _print(results[-1])
        pg = None
        if args.daemons:
            try:
                pg = create_database()
            except Exception as exc:  # no server here: the SQLite run still stands
                print(f"PostgreSQL at {PG_ADMIN} unusable, multi-daemon runs skipped: {type(exc).__name__}: {exc}")
        if pg is not None:
            name, url = pg
            try:
                config = Path(tmp) / "pg.yaml"
                write_config(config, url, server, args.interval, args.concurrency)
                for i, count in enumerate(args.daemons):
                    results.append(measure(f"postgresql-{count}", config, count, server, args.window,
                                           args.profile, cold=i == 0))
                    _print(results[-1])
            finally:
                drop_database(name)
    print()
    print(table(args.feeds, results))
    best = max(results, key=lambda r: r.per_s / r.daemons) if results else None
    if best:
        print(f"\nper daemon: best {best.per_s / best.daemons:,.0f} feeds/s ({best.label}); target "
              f"{TARGET_PER_S:.0f} feeds/s (100,000 per 15 minutes): "
              f"{'ok' if best.per_s / best.daemons >= TARGET_PER_S else 'MISSED'}")
    for r in results:
        if r.profile:
            print(f"\n---- where {r.label}'s first daemon spends its time ----")
            print("\n".join(r.profile))


def _print(r: Result) -> None:
    print(f"{r.label:14s} start {r.startup_s:6.1f} s  first cycle {'-' if r.cycle_s is None else f'{r.cycle_s:.1f}'} s  "
          f"{r.per_s:8,.0f} feeds/s ({r.per_s * 60:,.0f}/min)  304 {r.not_modified_share:.1%}  "
          f"daemon CPU {r.daemon_cpu:.2f}  server CPU {r.server_cpu:.2f}", flush=True)


if __name__ == "__main__":
    main()
