"""`watcher stories`: stored stories with who agreed with whom on what (parties, instrument, domains).

Party and domain filters accept a user's spelling ("tunisie", "l'Égypte", "UIT", "cybersécurité"),
resolved through the gazetteer (`watcher.agreements`). Agreements missing from stories stored before
extraction existed are extracted first (cheap when none is missing); `--refresh` re-extracts them all.
"""

from __future__ import annotations

import argparse
import sys

from watcher.cli.context import Context, since_argument
from watcher.cli.output import Column, render
from watcher.matching import TermError
from watcher.store import stories as story_store
from watcher.store.stories import StoryFilter

COLUMNS = [
    Column("id", "ID", 5), Column("date", "DATE", 10), Column("parties", "PARTIES", 24),
    Column("instrument", "INSTRUMENT", 11), Column("domains", "DOMAINS", 18), Column("copies", "CP", 2),
    Column("title", "TITLE"),
]
TABLE_WIDTH = 120


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("stories", help="list stories with their agreement: parties, instrument, domains")
    parser.add_argument("--party", metavar="NAME", help='a party, as you spell it ("tunisie", "ICESCO", "UIT")')
    parser.add_argument("--domain", metavar="NAME", help='a domain ("cybersécurité", "IA", "telecoms")')
    parser.add_argument("--source", action="append", metavar="NAME", help="carried by this source (repeatable)")
    parser.add_argument("--subscription", metavar="NAME", help="stories this subscription alerted on")
    parser.add_argument("--search", metavar="TEXT", help="words that must appear (case- and accent-insensitive)")
    parser.add_argument("--since", type=since_argument, metavar="DATE", help="published since DATE (2024-05-01) or for a duration (7d)")
    parser.add_argument("--limit", type=int, default=50, help="at most this many rows (0: no limit)")
    parser.add_argument("--refresh", action="store_true", help="re-extract every relevant story's agreement first")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from watcher import agreements

    party, domain, notes = story_store.resolve_filters(args.party, args.domain)
    for note in notes:
        print(f"watcher stories: {note}", file=sys.stderr)
    with ctx.store.session() as session:
        updated = agreements.refresh(session, only_missing=not args.refresh)
    if args.refresh:
        print(f"watcher stories: {updated} agreement(s) extracted again", file=sys.stderr)
    query = StoryFilter(party=party, domain=domain, sources=args.source or (), subscription=args.subscription,
                        search=args.search, since=args.since, limit=args.limit or None)
    try:
        with ctx.store.session() as session:
            page = story_store.list_stories(session, query)
    except TermError as exc:
        print(f"watcher stories: --search: {exc}", file=sys.stderr)
        return 2
    rows = [story.to_dict() for story in page.rows]
    if args.format == "json":
        render(rows, COLUMNS, "json", ctx.out)
    else:
        render([story_store.flat(r) for r in rows], COLUMNS, args.format, ctx.out, total_width=TABLE_WIDTH)
    if page.truncated:
        print(f"watcher stories: the search read the {story_store.SEARCH_SCAN} newest stories and stopped; "
              "narrow it with --since, --party or --source to look further back", file=sys.stderr)
    return 0
