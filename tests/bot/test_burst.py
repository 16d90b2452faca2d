"""Readers who arrive at once: the real bot against the emulator with Telegram's flood limits on.

The emulator answers 429 beyond ~30 messages a second overall and one a second per private chat, as
Telegram does; the bot keeps Telegram's own limits (``send_speedup`` 1). Every reader must be answered,
without 429s and without a logged traceback, also while a broadcast is going out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from sqlalchemy import insert, select

from bot.app import budget_of, build_application, polling, services_of
from bot.settings import Settings
from jobs.deliver import Deliverer, make_bot
from news.models import DigestPage
from storage import deliveries as outbox
from storage.schema import Chat
from tests.emulator import DEFAULT_TOKEN, BotAPIEmulator, RateLimits

READERS = 500
WITHIN = 30.0


@pytest.fixture
async def flood_limited() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(rate_limits=RateLimits()) as emu:
        yield emu


def live_settings(emu: BotAPIEmulator, db_url: str) -> Settings:
    """Production limits: nothing is scaled, the emulator enforces Telegram's own."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(DEFAULT_TOKEN),
        telegram_api_url=emu.url,
        database_url=db_url,
        poll_timeout_seconds=1,
    )


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info is not None or r.levelno >= logging.ERROR]


def assert_flood_waits_were_waited_out(emu: BotAPIEmulator) -> None:
    """The bot keeps under the limits; when jitter on a busy machine still bunches a few arrivals into
    one of Telegram's seconds, each 429 is waited out and the same message arrives afterwards."""
    refused = [c for c in emu.calls_to("sendMessage") if c.error_code == 429]
    assert len(refused) <= 0.01 * emu.counters["messages_sent"]
    for call in refused:
        later = [c for c in emu.calls_to("sendMessage") if c.seq > call.seq and c.chat_id == call.chat_id]
        assert any(c.ok and c.params.get("text") == call.params.get("text") for c in later)


async def _all_answered(emu: BotAPIEmulator, chat_ids: list[int], within: float) -> float:
    started = time.monotonic()
    await emu.wait_for_async(
        lambda: all(emu.sent(c) for c in chat_ids), within, f"all {len(chat_ids)} readers answered"
    )
    return time.monotonic() - started


async def test_500_readers_pressing_start_at_once_are_all_answered_within_the_limits(
    flood_limited: BotAPIEmulator, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    emu = flood_limited
    caplog.set_level(logging.WARNING)
    async with polling(build_application(live_settings(emu, db_url), migrate=False, run_ticks=False)):
        await emu.wait_until_polling_async()
        readers = emu.create_users(READERS)
        started = time.monotonic()
        for user in readers:
            emu.send_command(user, user, "start")
        assert time.monotonic() - started < 1.0
        took = await _all_answered(emu, [u.id for u in readers], WITHIN)

    assert took < WITHIN
    assert all("/topics" in emu.sent(u)[0].text or emu.sent(u)[0].inline_keyboard for u in readers)
    assert all(len(emu.sent(u)) == 1 for u in readers)  # one answer each: a 429 is retried, not doubled
    assert_flood_waits_were_waited_out(emu)
    assert tracebacks(caplog) == []


async def test_readers_are_answered_first_while_a_broadcast_goes_out(
    flood_limited: BotAPIEmulator, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """300 pages queued for 150 other readers, then 500 readers press /start: every reader is answered
    within the limit, the pages all arrive (after the readers' answers, mostly), and there is no 429."""
    emu = flood_limited
    caplog.set_level(logging.WARNING)
    subscribers = emu.create_users(150)
    async with polling(build_application(live_settings(emu, db_url), migrate=False, run_ticks=False)) as app:
        db = services_of(app).db
        now = datetime.now(UTC)
        async with db.session() as s, s.begin():
            await s.execute(
                insert(Chat),
                [{"telegram_id": u.id, "type": "private", "timezone": "Asia/Riyadh"} for u in subscribers],
            )
            pks = {tid: pk for tid, pk in await s.execute(select(Chat.telegram_id, Chat.id))}
            for user in subscribers:
                pages = [DigestPage(index=p, html=f"digest {user.id}:{p}") for p in range(2)]
                await outbox.enqueue_pages(s, pks[user.id], "daily:burst", pages, now=now)
        bot = make_bot(emu.token, emu.base_url)
        deliverer = Deliverer(db, bot, budget=budget_of(app))
        stop = asyncio.Event()
        async with bot:
            delivery = asyncio.create_task(deliverer.run(should_stop=stop.is_set, poll=1.0))
            await emu.wait_for_async(
                lambda: emu.counters["messages_sent"] >= 20, 10, "the broadcast to start"
            )
            readers = emu.create_users(READERS)
            for user in readers:
                emu.send_command(user, user, "start")
            took = await _all_answered(emu, [u.id for u in readers], WITHIN)
            pages_by_then = sum(len(emu.sent(u)) for u in subscribers)
            await _all_answered(emu, [u.id for u in subscribers], 30)
            await emu.wait_for_async(
                lambda: all(len(emu.sent(u)) == 2 for u in subscribers), 30, "every page delivered"
            )
            stop.set()
            await asyncio.wait_for(delivery, 10)

    assert took < WITHIN
    assert pages_by_then < 300  # the pages waited for the readers
    assert [m.text for m in emu.sent(subscribers[0])] == [f"digest {subscribers[0].id}:{p}" for p in range(2)]
    assert_flood_waits_were_waited_out(emu)
    assert tracebacks(caplog) == []
