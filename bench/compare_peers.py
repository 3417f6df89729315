"""Side-by-side benchmark: watcher, urlwatch 2.29 and rss2email 3.14 over the same N loopback feeds.

Usage: .venv/bin/python bench/compare_peers.py [--feeds 100 1000] [--tools watcher urlwatch rss2email floor]
                                               [--skip-cold rss2email:1000] [--warm-runs 5] [--json PATH]

One feed server (bench/feed_server.py, a separate process: N WordPress-shaped RSS feeds, 20 items,
~100 KB each, ETag + Last-Modified, 304 on a conditional request) serves every tool in turn. For each
N, each tool in its own empty temporary state runs one cold cycle (every feed new), the tools one after
another; then five rounds in which each tool runs its warm cycle (every feed answers 304), taking
turns, the median reported. Each cycle is a whole process timed from spawn to exit:
- watcher: `watcher poll --all` with a temporary config and SQLite store (the whole pipeline: fetch,
  parse, candidates, relevance, dedupe, store, matching, outbox; 16 connections);
- urlwatch: `urlwatch` with one url job per feed and every reporter off (its 10 worker threads);
- rss2email: `r2e run` with every feed imported from OPML, mail written to a temporary maildir (one
  message per new item, which is its design);
- floor: bench/floor_poll.py, not a peer but the least any Python poller does (aiohttp, conditional
  requests, fastfeedparser, validators kept in a JSON file; nothing stored, extracted or matched).
  No tool can beat it, so its row says how much of each ratio target is reachable at all.
The peers are pip-installed into their own venvs under bench/out/peers/ the first time (kept for later
runs). Peak RSS is the largest resident set of one process of the tree (wait4 rusage); "tree" is the
largest sum over the tree's processes at one moment (sampled every 0.1 s: watcher starts a worker
process in a big cycle, rss2email a sendmail per mail); requests and 304s are counted by the server.
The last lines give watcher's ratios: warm against the faster peer's warm, cold against urlwatch, peak
RSS against both, and watcher's warm time as a multiple of the floor's.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feed_server import FeedServer  # noqa: E402
from procs import TreePeak  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PEERS = {"urlwatch": "urlwatch==2.29", "rss2email": "rss2email==3.14"}
CONCURRENCY = 16


@dataclass
class Run:
    """One process run: wall seconds, peak RSS of its tree, what the server saw."""

    seconds: float
    rss_mb: float
    tree_mb: float
    requests: int
    not_modified: int
    code: int


@dataclass
class Row:
    tool: str
    feeds: int
    cold: Run | None = None
    warm: Run | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rss_mb(self) -> float:
        return max(r.rss_mb for r in (self.cold, self.warm) if r is not None)

    @property
    def tree_mb(self) -> float:
        return max(r.tree_mb for r in (self.cold, self.warm) if r is not None)


# ---- peers' venvs ---------------------------------------------------------------------------------

def peer_bin(name: str) -> Path:
    """bench/out/peers/<name>/bin, created and pip-installed on first use."""
    venv = OUT / "peers" / name
    marker = venv / ".installed"
    if not marker.exists():
        print(f"installing {PEERS[name]} into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", PEERS[name]], check=True)
        marker.write_text(PEERS[name] + "\n")
    return venv / "bin"


# ---- measuring ------------------------------------------------------------------------------------

def measure(command: list[str], server: FeedServer, cwd: Path, log: Path, env: dict[str, str] | None = None) -> Run:
    """Run `command` to completion; wall time, peak RSS of the tree (wait4), server-side counters."""
    before = server.stats()
    with open(log, "ab") as out:
        out.write(f"$ {' '.join(command)}\n".encode())
        out.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})
        # wait4's rusage covers the child and every descendant it waited for (rss2email's sendmail, etc.)
        with TreePeak(proc.pid) as tree:
            _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    after = server.stats()
    return Run(seconds=seconds, rss_mb=usage.ru_maxrss / 1024, tree_mb=max(tree.peak, usage.ru_maxrss / 1024),
               requests=after["requests"] - before["requests"] + after["robots"] - before["robots"],
               not_modified=after["not_modified"] - before["not_modified"], code=proc.returncode)


# ---- the three tools ------------------------------------------------------------------------------

def watcher_tool(work: Path, server: FeedServer) -> list[str]:
    config = work / "watcher.yaml"
    lines = [f'store: {{url: "sqlite:///{work}/watcher.db"}}',
             f"defaults: {{interval: 30m, concurrency: {CONCURRENCY}, per_host: {CONCURRENCY}}}",
             "sources:"]
    lines += [f'  - {{name: feed-{i}, kind: feed, url: "{url}"}}' for i, url in enumerate(server.urls())]
    lines += ["notifiers:", '  hook: {type: slack, webhook_url: "http://127.0.0.1:9/hook"}',
              "subscriptions:",
              '  - {name: tunisie-numerique, any: ["Tunisie"], all: ["numérique"], notify: [{notifier: hook}]}']
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [str(ROOT / ".venv" / "bin" / "watcher"), "--config", str(config), "--log-level", "warning",
            "poll", "--all"]


def urlwatch_tool(work: Path, server: FeedServer) -> list[str]:
    urls = work / "urls.yaml"
    urls.write_text("".join(f"---\nname: feed-{i}\nurl: {url}\n" for i, url in enumerate(server.urls())))
    config = work / "urlwatch.yaml"
    # Merged over urlwatch's defaults: every reporter off, so a run only fetches, diffs and stores.
    config.write_text("report:\n  stdout: {enabled: false}\n  email: {enabled: false}\n"
                      "display: {new: false, error: true, unchanged: false, empty-diff: false}\n")
    return [str(peer_bin("urlwatch") / "urlwatch"), "--urls", str(urls), "--config", str(config),
            "--cache", str(work / "cache.db"), "--hooks", str(work / "hooks.py")]


def rss2email_tool(work: Path, server: FeedServer) -> list[str]:
    r2e = str(peer_bin("rss2email") / "r2e")
    config, data = work / "rss2email.cfg", work / "rss2email.json"
    base = [r2e, "-c", str(config), "-d", str(data)]
    subprocess.run(base + ["new", "bench@example.org"], check=True, capture_output=True)
    opml = work / "feeds.opml"
    outlines = "".join(f'<outline type="rss" text="feed-{i}" xmlUrl={quoteattr(url)}/>\n'
                       for i, url in enumerate(server.urls()))
    opml.write_text(f'<?xml version="1.0"?><opml version="1.0"><head/><body>\n{outlines}</body></opml>\n')
    subprocess.run(base + ["opmlimport", str(opml)], check=True, capture_output=True)
    maildir = work / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / "INBOX" / sub).mkdir(parents=True, exist_ok=True)
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read(config)
    parsed["DEFAULT"].update({"email-protocol": "maildir", "maildir-path": str(maildir),
                              "maildir-mailbox": "INBOX", "verbose": "warning"})
    with open(config, "w") as out:
        parsed.write(out)
    return base + ["run"]


def floor_tool(work: Path, server: FeedServer) -> list[str]:
    urls = work / "urls.txt"
    urls.write_text("\n".join(server.urls()) + "\n")
    return [sys.executable, str(ROOT / "bench" / "floor_poll.py"), str(urls), str(work / "state.json"),
            "--concurrency", str(CONCURRENCY)]


TOOLS: dict[str, Callable[[Path, FeedServer], list[str]]] = {
    "watcher": watcher_tool, "urlwatch": urlwatch_tool, "rss2email": rss2email_tool, "floor": floor_tool}
# Not a peer: the least any Python poller can do (bench/floor_poll.py); its row bounds the ratios.
FLOOR = "floor"


@dataclass
class _Tool:
    """One tool's state for one N: its command, working directory, log and environment."""

    name: str
    command: list[str]
    work: Path
    log: Path
    env: dict[str, str]

    def run(self, server: FeedServer) -> Run:
        return measure(self.command, server, self.work, self.log, self.env)


def bench_tools(names: list[str], server: FeedServer, skip_cold: set[str], warm_runs: int = 5) -> list[Row]:
    """Each tool's cold cycle, one after another; then `warm_runs` rounds in which every tool runs its
    warm cycle once, so the tools take turns (this machine's speed drifted by 25% within minutes: run
    one tool's warm cycles together and the drift lands in the ratio). The median warm run is reported."""
    rows = {name: Row(name, server.feeds) for name in names}
    with ExitStack() as stack:
        tools = []
        for name in names:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"peers-{name}-")))
            log = OUT / f"compare_{name}_{server.feeds}.log"
            log.unlink(missing_ok=True)
            # HOME: peers write their state and caches under it otherwise.
            tool = _Tool(name, TOOLS[name](work, server), work, log, {"HOME": str(work)})
            tools.append(tool)
            cold = tool.run(server)  # a warm cycle needs the cold one first, reported or not
            if name in skip_cold:
                rows[name].notes.append("cold not reported (--skip-cold)")
            else:
                rows[name].cold = cold
        warm: dict[str, list[Run]] = {tool.name: [] for tool in tools}
        for _ in range(max(1, warm_runs)):
            for tool in tools:
                warm[tool.name].append(tool.run(server))
        for tool in tools:
            row, runs = rows[tool.name], sorted(warm[tool.name], key=lambda r: r.seconds)
            row.warm = runs[len(runs) // 2]
            row.warm.rss_mb = max(r.rss_mb for r in runs)
            row.warm.tree_mb = max(r.tree_mb for r in runs)
            if len(runs) > 1:
                row.notes.append("warm: median of " + ", ".join(f"{r.seconds:.2f}" for r in runs) + " s")
            for label, run in (("cold", row.cold), ("warm", row.warm)):
                if run is not None and run.code != 0:
                    row.notes.append(f"{label} exit {run.code} (see {tool.log})")
            if tool.name == "rss2email":
                mails = sum(1 for _ in (tool.work / "Maildir" / "INBOX" / "new").iterdir())
                row.notes.append(f"{mails} mails written")
            if tool.name == "watcher":
                row.notes.append(_watcher_articles(tool.work))
    return list(rows.values())


def _watcher_articles(work: Path) -> str:
    import sqlite3

    with sqlite3.connect(work / "watcher.db") as db:
        articles = db.execute("select count(*) from articles").fetchone()[0]
        alerts = db.execute("select count(*) from alerts").fetchone()[0]
    return f"{articles} articles stored, {alerts} alerts queued"


# ---- report ---------------------------------------------------------------------------------------

def _cell(run: Run | None, attr: str, fmt: str) -> str:
    return "-" if run is None else format(getattr(run, attr), fmt)


def table(rows: list[Row]) -> str:
    lines = ["| tool | N | cold s | warm s | peak RSS MB | tree MB | requests (cold+warm) | 304s | notes |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        runs = [x for x in (r.cold, r.warm) if x is not None]
        lines.append(f"| {r.tool} | {r.feeds:,} | {_cell(r.cold, 'seconds', '.2f')} | {_cell(r.warm, 'seconds', '.2f')} "
                     f"| {r.rss_mb:.0f} | {r.tree_mb:.0f} | {sum(x.requests for x in runs):,} | {sum(x.not_modified for x in runs):,} "
                     f"| {'; '.join(r.notes)} |")
    return "\n".join(lines)


def ratios(rows: list[Row]) -> list[str]:
    out = []
    for n in sorted({r.feeds for r in rows}):
        mine = {r.tool: r for r in rows if r.feeds == n}
        watcher = mine.get("watcher")
        peers = [r for t, r in mine.items() if t not in ("watcher", FLOOR)]
        if watcher is None or not peers:
            continue
        warm_peer = min((p for p in peers if p.warm), key=lambda p: p.warm.seconds, default=None)
        parts = []
        if warm_peer is not None and watcher.warm:
            parts.append(f"warm {warm_peer.warm.seconds / watcher.warm.seconds:.1f}x faster than {warm_peer.tool} "
                         f"(the faster peer warm; target >= 5x)")
        cold_peers = [p for p in peers if p.cold]
        if cold_peers and watcher.cold:
            fastest = min(cold_peers, key=lambda p: p.cold.seconds)
            parts.append(f"cold {fastest.cold.seconds / watcher.cold.seconds:.1f}x faster than {fastest.tool} "
                         f"(the faster peer cold; target >= 2x against urlwatch)")
        parts.append("peak RSS (tree) " + ", ".join(f"{watcher.tree_mb:.0f} MB vs {p.tool} {p.tree_mb:.0f} MB"
                                                   for p in peers))
        floor = mine.get(FLOOR)
        if floor is not None and floor.cold and floor.warm and watcher.cold and watcher.warm:
            parts.append(f"the floor (fetch + parse only): cold {floor.cold.seconds:.2f} s, warm {floor.warm.seconds:.2f} s, "
                         f"{floor.tree_mb:.0f} MB; watcher {watcher.warm.seconds / floor.warm.seconds:.2f}x its warm time")
        out.append(f"N = {n:,}: " + "; ".join(parts))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--tools", nargs="+", choices=list(TOOLS), default=list(TOOLS))
    parser.add_argument("--skip-cold", action="append", default=[], metavar="TOOL:N",
                        help="run but do not report TOOL's cold cycle at N feeds (e.g. rss2email:1000 takes minutes)")
    parser.add_argument("--json", type=Path, default=OUT / "compare_peers.json", help="also write the rows here")
    parser.add_argument("--warm-runs", type=int, default=5,
                        help="warm cycles per tool, the tools taking turns; the median is reported")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for tool in args.tools:
        if tool in PEERS:
            peer_bin(tool)  # install before any timing
    # pip compiled the peers' packages when it installed them; compile ours too (an editable install
    # does not), so no tool pays for compiling its own sources at every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "watcher")], check=True)
    rows: list[Row] = []
    for n in args.feeds:
        with FeedServer(n) as server:
            skip = {tool for tool in args.tools if f"{tool}:{n}" in args.skip_cold}
            for row in bench_tools(args.tools, server, skip, args.warm_runs):
                rows.append(row)
                print(f"{row.tool:9s} N={n:<6,} cold {_cell(row.cold, 'seconds', '7.2f')} s  "
                      f"warm {_cell(row.warm, 'seconds', '6.2f')} s  peak RSS {row.rss_mb:5.0f} MB  tree {row.tree_mb:5.0f} MB  "
                      f"{'; '.join(row.notes)}", flush=True)
    print()
    print(table(rows))
    print()
    for line in ratios(rows):
        print(line)
    args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))


if __name__ == "__main__":
    main()
