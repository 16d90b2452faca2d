"""Long polling that stores every update before Telegram is told it arrived.

Telegram hands an update out again until a later ``getUpdates`` asks for an offset past it. PTB's own
``Updater`` asks for that offset as soon as the updates sit in its in-memory queue, so a crash loses
whatever was fetched and not yet handled. Here a batch is written to the ``updates`` table (``update_id``
is the key: a batch fetched twice is stored once) before the next request confirms it; handling then
reads from the table (``bot.inbox``), so a restarted process finds what the dead one had not finished.

Uses ``telegram.Bot`` and ``telegram.error`` only, never ``telegram.ext``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError, TimedOut

from storage import updates as inbox
from storage.db import Database
from storage.updates import IncomingUpdate

log = logging.getLogger(__name__)


def incoming(update: Update) -> IncomingUpdate:
    """What the inbox keeps of an update: its id, its chat (for per-chat order) and its JSON."""
    chat = update.effective_chat
    return IncomingUpdate(update.update_id, chat.id if chat is not None else None, update.to_json())


async def store_updates(db: Database, updates: Sequence[Update]) -> list[int]:
    """Write ``updates`` to the inbox in one transaction; returns the ids that were not stored before."""
    async with db.engine.begin() as conn:
        return await inbox.store(conn, [incoming(u) for u in updates], datetime.now(UTC))


class UpdatePoller:
    """``getUpdates`` in a loop: fetch, store, then (with the next request) confirm.

    ``stored`` is called after every batch that added updates, so the handler loop looks at once instead
    of at its next poll. Network trouble is retried with backoff; a 409 (a webhook is set, or another
    process polls) is retried slowly and logged, never fought over; a refused token stops the loop.
    """

    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        allowed_updates: Sequence[str] | None,
        timeout: float = 10.0,
        stored: Callable[[], None] = lambda: None,
        max_backoff: float = 30.0,
    ) -> None:
        self.db = db
        self.bot = bot
        self.allowed_updates = list(allowed_updates) if allowed_updates is not None else None
        self.timeout = timeout
        self.stored = stored
        self.max_backoff = max_backoff
        self.offset: int | None = None
        self.received = 0

    async def start_offset(self) -> None:
        """Resume after what the inbox holds: those updates are safe, so the first poll confirms them."""
        async with self.db.session() as s:
            self.offset = await inbox.next_offset(s)

    async def poll_once(self, *, long_poll: float | None = None) -> int:
        """One ``getUpdates`` (waiting up to ``long_poll`` seconds); returns how many new were stored."""
        updates = await self.bot.get_updates(
            offset=self.offset,
            timeout=int(self.timeout if long_poll is None else long_poll),
            allowed_updates=self.allowed_updates,
        )
        if not updates:
            return 0
        new = await store_updates(self.db, updates)
        # Only now may the next request confirm them.
        self.offset = max(u.update_id for u in updates) + 1
        self.received += len(new)
        if new:
            self.stored()
        return len(new)

    async def run(self, should_stop: Callable[[], bool]) -> None:
        await self.start_offset()
        failures = 0
        while not should_stop():
            try:
                await self.poll_once()
                failures = 0
            except InvalidToken:
                log.critical("polling stopped: Telegram refused the bot token")
                raise
            except TimedOut:
                continue  # a long poll that outlived its read timeout: ask again
            except Conflict as exc:
                failures += 1
                log.warning("getUpdates refused (%s): another poller or a webhook; waiting", exc.message)
                await asyncio.sleep(min(self.max_backoff, 5.0 * failures))
            except (NetworkError, TelegramError) as exc:
                failures += 1
                delay = min(self.max_backoff, 0.5 * 2 ** min(failures, 8))
                log.warning("getUpdates failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
            except Exception:  # the database: nothing was confirmed, so nothing is lost by waiting
                failures += 1
                delay = min(self.max_backoff, 0.5 * 2 ** min(failures, 8))
                log.exception("storing updates failed; retrying in %.1f s", delay)
                await asyncio.sleep(delay)
