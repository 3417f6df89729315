"""`watcher check-config`: validate the configuration and summarise it."""

from __future__ import annotations

import argparse

from watcher.cli.context import Context


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check-config", help="validate the configuration and print a summary")
    parser.add_argument("--strict", action="store_true", help="also fail (exit 2) when a notifier is unusable")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    config, out = ctx.config, ctx.out
    out.write(f"{config.path}: OK\n")
    out.write(f"store: {config.store.url}\n")
    out.write(f"sources ({len(config.sources)}):\n")
    for s in config.sources:
        every = int(s.interval.total_seconds() // 60) if s.interval else "?"
        out.write(f"  {s.name:<28} {s.kind:<5} every {every} min  {s.url}\n")
    out.write(f"notifiers ({len(config.notifiers)}):\n")
    unusable = 0
    for name, n in config.notifiers.items():
        state = f"UNUSABLE: {n.unavailable}" if n.unavailable else "ok"
        unusable += bool(n.unavailable)
        out.write(f"  {name:<28} {n.type:<6} {state}\n")
    out.write(f"subscriptions ({len(config.subscriptions)}):\n")
    for sub in config.subscriptions:
        targets = ", ".join(t.notifier for t in sub.notify) or "no notifier"
        out.write(f"  {sub.name:<28} {sub.digest:<9} -> {targets}\n")
    return 2 if (args.strict and unusable) else 0
