"""`watcher seed`: import the seed articles (idempotent; new files are picked up next time)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from watcher.cli.context import Context
from watcher.ingest import Draft, Ingestor, IngestResult
from watcher.seeds import SeedArticle, SeedError, iter_seeds


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("seed", help="import the seed articles from the seeds directory")
    parser.add_argument("--path", help="seed directory (default: seeds.path from the config)")
    parser.set_defaults(func=run)


def draft_from_seed(seed: SeedArticle) -> Draft:
    return Draft(source=seed.source, guid=seed.guid, title=seed.title, body=seed.body, url=seed.url,
                 origin="seed", published_at=seed.published_at, author=seed.author, language="fr")


def import_seeds(ctx: Context, directory: Path) -> tuple[IngestResult, list[SeedError]]:
    """Import every readable seed file; unreadable ones are returned, the others still import."""
    drafts, problems = [], []
    for item in iter_seeds(directory):
        if isinstance(item, SeedError):
            problems.append(item)
        else:
            drafts.append(draft_from_seed(item))
    ingestor = Ingestor(ctx.config)
    with ctx.store.session() as session:
        result = ingestor.ingest(session, drafts, silent=True)  # seeds are history: never alerted
    return result, problems


def run(args: argparse.Namespace, ctx: Context) -> int:
    directory = Path(args.path or ctx.config.seeds.path)
    if not directory.is_dir():
        print(f"watcher seed: {directory}: no such directory", file=sys.stderr)
        return 1
    result, problems = import_seeds(ctx, directory)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    ctx.out.write(
        f"seeds from {directory}: {result.new + result.copies} imported ({result.copies} joined an existing story), "
        f"{result.unchanged} already present, {result.updated} updated, {len(problems)} skipped\n"
    )
    return 0
