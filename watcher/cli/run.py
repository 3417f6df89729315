"""`watcher run`: the daemon (scheduler, alert dispatcher, /healthz and /metrics) until SIGTERM/SIGINT.

Signals: SIGTERM and SIGINT stop claiming work, let in-flight jobs finish for a grace period (then
release their leases) and exit within 10 s; SIGHUP reloads the configuration (an invalid one is
rejected with its located errors and the running one kept). On SQLite a second daemon on the same
database file refuses to start (exit 1) with a message naming the file.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from watcher import leases, memory
from watcher.cli.context import Context
from watcher.cli.seed import import_seeds
from watcher.config import parse_duration
from watcher.http import HttpServer, health_handler, metrics_handler, parse_address
from watcher.scheduler import Daemon, DaemonSettings
from watcher.store.db import head_revision, make_engine, stored_revision, upgrade

log = logging.getLogger(__name__)


def _duration(value: str) -> timedelta:
    try:
        result = parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if result <= timedelta(0):
        raise argparse.ArgumentTypeError(f"expected a positive duration, got {value!r}")
    return result


def _address(value: str) -> tuple[str, int] | None:
    try:
        return parse_address(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return int(value)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run the daemon: scheduled polls, alerts, /healthz and /metrics",
                            description="Run the daemon until SIGTERM/SIGINT; SIGHUP reloads the configuration.")
    parser.add_argument("--http", type=_address, default=("127.0.0.1", 8080), metavar="HOST:PORT",
                        help="serve the web view, /healthz and /metrics here (default 127.0.0.1:8080; 'none' disables)")
    parser.add_argument("--once", action="store_true", help="poll what is due, send what is due, then exit")
    # These override the config's `daemon:` section (tick 15s, lease 5m, batch 200, dispatch_every 10s).
    parser.add_argument("--tick", type=_duration, metavar="DURATION",
                        help="how often due sources are claimed (default: daemon.tick)")
    parser.add_argument("--lease", type=_duration, metavar="DURATION",
                        help="how long a claimed source stays ours; a killed replica's sources are taken "
                             "over after it (default: daemon.lease)")
    parser.add_argument("--dispatch-every", type=_duration, metavar="DURATION",
                        help="how often due alerts are sent (default: daemon.dispatch_every)")
    parser.add_argument("--watchdog-ticks", type=_positive, metavar="N",
                        help="unhealthy when no tick completed for N tick intervals (default: daemon.watchdog_ticks)")
    parser.add_argument("--batch", type=_positive, metavar="N", help="sources claimed at once (default: daemon.batch)")
    parser.add_argument("--owner", metavar="ID", help="lease owner id (default host:pid:random)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    memory.limit_arenas()  # before any thread starts (see watcher/memory.py)
    config = ctx.config
    settings = DaemonSettings.from_config(config.daemon, tick=args.tick, lease=args.lease, batch=args.batch,
                                          watchdog_ticks=args.watchdog_ticks, dispatch_every=args.dispatch_every)
    database = leases.sqlite_database_path(config.store.url)
    file_lock = leases.SqliteDaemonLock(database) if database is not None else None
    if file_lock is not None:
        try:
            file_lock.acquire()  # before opening the store: a second daemon must not even migrate
        except leases.AlreadyRunning as exc:
            print(f"watcher run: {exc}", file=sys.stderr)
            return 1
    try:
        _migrate(config.store.url)
        _import_seeds(ctx)
        daemon = Daemon(config, ctx.store, settings, owner=args.owner, exclusive=file_lock is not None)
        if args.once:
            stats = daemon.run_once()
            ctx.out.write(f"polled {stats.polled} source(s), {stats.failed} failed\n")
            return 0
        return _serve(daemon, args, ctx)
    finally:
        if file_lock is not None:
            file_lock.release()


def _migrate(url: str) -> None:
    """Bring the schema up to date, one replica at a time (the others then find nothing to do).

    Only when it is behind, and in a child process where the platform can fork: Alembic and what it
    imports (Mako, Pygments, every SQLAlchemy dialect) would stay in the daemon's memory, ~12 MB.
    """
    engine = make_engine(url)
    try:
        if stored_revision(engine) == head_revision():
            return
        with leases.advisory_lock(engine, "watcher:migrations"):
            if "fork" not in multiprocessing.get_all_start_methods():
                upgrade(engine)
                return
            child = multiprocessing.get_context("fork").Process(target=_upgrade, args=(url,), name="migrations")
            child.start()
            child.join()
            if child.exitcode != 0:  # its traceback is on stderr already
                raise RuntimeError(f"schema migration failed (exit code {child.exitcode}); see the error above")
    finally:
        engine.dispose()


def _upgrade(url: str) -> None:
    engine = make_engine(url)  # its own connections: a forked child must not use the parent's
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _import_seeds(ctx: Context) -> None:
    """The store starts from the seed articles: a container's first start imports them, later starts
    find them present (and pick up a new seed file). Seeds are history: never alerted."""
    directory = Path(ctx.config.seeds.path)
    if not directory.is_dir():
        log.info("seeds.none", extra={"path": str(directory)})
        return
    result, problems = import_seeds(ctx, directory)
    for problem in problems:
        log.warning("seeds.skipped", extra={"problem": str(problem)})
    log.info("seeds.imported", extra={"path": str(directory), "new": result.new + result.copies,
                                      "present": result.unchanged})


def _serve(daemon: Daemon, args: argparse.Namespace, ctx: Context) -> int:
    stop, reload = threading.Event(), threading.Event()

    def on_stop(signum: int, _frame: Any) -> None:
        log.info("daemon.signal", extra={"signal": signal.Signals(signum).name})
        stop.set()

    def on_hup(_signum: int, _frame: Any) -> None:
        reload.set()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, on_hup)

    server = None
    if args.http is not None:
        host, port = args.http
        try:
            server = HttpServer(host, port)
        except OSError as exc:
            print(f"watcher run: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        server.route("/healthz", health_handler(daemon.health))
        server.route("/metrics", metrics_handler)
        from watcher import web  # the read-only web view: stories, sources, Atom feeds, CSV

        web.mount(server, daemon.store, lambda: daemon.config, host)
        server.start()
    daemon.start()
    # The main thread only waits for signals; the work happens in the scheduler's threads.
    while not stop.wait(0.25):
        if reload.is_set():
            reload.clear()
            daemon.reload(ctx.config_path or daemon.config.path)
    clean = daemon.stop()
    if server is not None:
        server.stop()
    if not clean:
        # A job is still running past the grace period and its leases are released: leave now rather
        # than wait for it (the store is transactional; nothing half-done is committed).
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0
