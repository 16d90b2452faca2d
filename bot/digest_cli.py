"""Operator commands for digests and their delivery: ``nashra digest preview`` and ``nashra deliver``.

``deliver`` runs the outbox worker on its own, without the bot: for a second worker next to ``nashra
run``, to flush the outbox by hand (``--once``), and for the crash tests that kill it mid-broadcast. It
builds only a database and a ``telegram.Bot``; ``python -m bot.digest_cli deliver`` is ``nashra deliver``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

# Imported by each command, not here: registering the commands must not load Telegram or SQLAlchemy
# for every other `nashra` command.
if TYPE_CHECKING:
    from telegram import Bot

    from bot.fetchsettings import FetchSettings
    from bot.settings import Settings
    from jobs.deliver import Deliverer, SendLimits
    from jobs.digest import DigestPolicy
    from jobs.sendbudget import SendBudget
    from news.alerts import AlertRules
    from storage.db import Database

log = logging.getLogger(__name__)


def digest_policy(settings: Settings) -> DigestPolicy:
    from jobs.digest import DigestPolicy

    return DigestPolicy(catch_up=timedelta(hours=settings.digest_catch_up_hours))


def alert_rules(settings: Settings | FetchSettings) -> AlertRules:
    from news.alerts import AlertRules

    return AlertRules(
        outlets=settings.alert_min_outlets,
        window=timedelta(minutes=settings.alert_window_minutes),
        urgent_window=timedelta(minutes=settings.alert_urgent_window_minutes),
    )


def send_limits(settings: Settings, speedup: float = 1.0) -> SendLimits:
    return settings.send_limits().scaled(speedup)


def build_deliverer(
    settings: Settings,
    db: Database,
    bot: Bot,
    *,
    speedup: float = 1.0,
    concurrency: int = 16,
    owner: str | None = None,
    budget: SendBudget | None = None,
) -> Deliverer:
    """The outbox worker as every role runs it: limits and retries from settings (scaled for the emulator).

    On PostgreSQL several delivery processes may share the outbox, so claims carry a lease
    (``DELIVERY_LEASE_SECONDS``) and only lapsed ones are taken back; on SQLite there is one process and
    anything left ``sending`` at start-up is stuck.
    """
    from jobs.deliver import Deliverer, RetryPolicy

    speedup = max(speedup, 1e-6)
    clock_speed = speedup * settings.send_speedup  # retries and leases run on the emulator's clock too
    retry = RetryPolicy(base=2.0 / clock_speed, cap=600.0 / clock_speed, long_wait=60.0 / clock_speed)
    shared = db.dialect == "postgresql"
    return Deliverer(
        db,
        bot,
        limits=send_limits(settings, speedup),
        budget=budget,
        retry=retry,
        concurrency=concurrency,
        # Several workers: claim a few seconds' worth at a time, not 500 heads, so that one worker does
        # not hoard the queue (and a dead one's claims, which wait out the lease, stay few).
        claim_batch=max(64, 4 * concurrency) if shared else 500,
        owner=owner,
        lease=timedelta(seconds=settings.delivery_lease_seconds / clock_speed) if shared else None,
        paid_broadcast=settings.send_paid_broadcast,
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``digest preview`` and ``deliver`` to the ``nashra`` command line."""
    digest = sub.add_parser("digest", help="daily digests").add_subparsers(
        dest="digest_command", required=True
    )
    p = digest.add_parser("preview", help="print a chat's next digest pages (changes nothing)")
    p.add_argument("--chat", type=int, required=True, help="the chat's Telegram id")
    p.add_argument("--json", action="store_true", help="one JSON object per page")
    p.set_defaults(func=cmd_digest_preview)

    p = sub.add_parser("deliver", help="send queued digest pages (runs until interrupted)")
    p.add_argument(
        "--once",
        action="store_true",
        help="send what is due now, then exit (takes back pages left in flight: stop other workers first)",
    )
    p.add_argument("--concurrency", type=int, default=16, help="sends in flight (default 16)")
    # For the Bot API emulator, whose flood windows can be shrunk: scales every limit and retry delay.
    p.add_argument("--speedup", type=float, default=1.0, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_deliver)


async def cmd_digest_preview(settings: Settings, args: argparse.Namespace) -> int:
    from jobs.digest import preview_digest
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        pages = await preview_digest(db, args.chat, datetime.now(UTC), policy=digest_policy(settings))
    except LookupError:
        print(f"nashra: no chat {args.chat}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    if args.json:
        for page in pages:
            print(json.dumps({"page": page.index, "html": page.html}, ensure_ascii=False))
    elif not pages:
        print("nothing new for this chat: no digest would be sent", file=sys.stderr)
    else:
        print(("\n\n" + "─" * 40 + "\n\n").join(page.html for page in pages))
    return 0


async def cmd_deliver(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio  # here, not at the top: every command builds this parser, few of them run a loop
    import signal

    from jobs.deliver import make_bot
    from storage.db import Database

    db = Database(settings.database_url)
    bot = make_bot(settings.require_token(), settings.bot_api_base_url, concurrency=args.concurrency)
    deliverer = build_deliverer(settings, db, bot, speedup=args.speedup, concurrency=args.concurrency)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        async with bot:
            if args.once:
                # An operator's flush: whatever is left ``sending`` belongs to no live worker.
                await deliverer.recover(stale_after=timedelta(0))
                stats = await deliverer.drain(should_stop=stopping.is_set)
                print(json.dumps({"delivered": stats.sent, "failed": stats.failed, "retry": stats.retried}))
            else:
                await deliverer.run(should_stop=stopping.is_set)
    finally:
        await db.dispose()
    return 0


if __name__ == "__main__":
    # ``python -m bot.digest_cli deliver`` is the full CLI under another name: one start-up path
    # (settings, logging, error exits) whichever way the worker is launched.
    from bot.cli import main

    sys.exit(main())
