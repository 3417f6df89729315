"""`watcher test-alert NOTIFIER [--to ADDRESS]`: send a sample alert and report success or the exact error."""

from __future__ import annotations

import argparse
import sys
import uuid

from watcher import clock
from watcher.cli.context import Context
from watcher.log import redact
from watcher.notifiers import notifier_for
from watcher.notifiers.base import AlertMessage, AlertStory, NotifierError, NotifierUnavailable


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("test-alert", help="send a sample alert through one notifier and report the result")
    parser.add_argument("notifier", metavar="NOTIFIER", help="a notifier name from the configuration")
    parser.add_argument("--to", action="append", metavar="ADDRESS",
                        help="recipient (email; repeatable); default: the notifier's `to`")
    parser.set_defaults(func=run)


def sample_message(to: list[str]) -> AlertMessage:
    """A realistic alert, so the test shows what subscribers will see."""
    return AlertMessage(
        subscription="test-alert",
        stories=[AlertStory(
            title="Test de Cooperation Watcher : accord de coopération numérique Sénégal–Maroc",
            url="https://example.org/cooperation-watcher/test-alert",
            source="cooperation-watcher",
            published=clock.now(),
            snippet="Ceci est un message de test envoyé par « watcher test-alert ». S'il vous parvient, "
                    "ce canal est prêt à recevoir les alertes.",
            matched_terms=["coopération", "numérique"],
        )],
        to=to,
        key=f"watcher-test-{uuid.uuid4().hex}",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    config = ctx.config
    name = args.notifier
    if name not in config.notifiers:
        known = ", ".join(sorted(config.notifiers)) or "none defined"
        print(f"watcher test-alert: no notifier named {name!r} (known: {known})", file=sys.stderr)
        return 2
    notifier_config = config.notifiers[name]
    to = list(args.to or []) or list(getattr(notifier_config, "to", None) or [])
    if notifier_config.type == "email" and not to:
        print(f"watcher test-alert: notifier {name!r} has no `to`: give --to ADDRESS", file=sys.stderr)
        return 2
    try:
        notifier = notifier_for(name, config)
    except NotifierUnavailable as exc:
        print(f"watcher test-alert: {redact(exc.reason)}", file=sys.stderr)
        return 2
    except NotifierError as exc:
        print(f"watcher test-alert: {redact(exc.reason)}", file=sys.stderr)
        return 1
    try:
        notifier.send(sample_message(to))
    except NotifierError as exc:
        print(f"watcher test-alert: FAILED ({exc.kind}): {redact(exc.reason)}", file=sys.stderr)
        return 1
    finally:
        notifier.close()
    recipients = f" to {', '.join(to)}" if to else ""
    ctx.out.write(f"ok: test alert sent by {name} ({notifier_config.type}, {redact(notifier.describe())}){recipients}\n")
    return 0
