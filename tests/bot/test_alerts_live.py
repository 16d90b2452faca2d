"""The real bot with its scheduled ticks: the ingest tick stores three outlets' reports of one story,
queues the alert and wakes the delivery loop, which sends it to a reader with alerts on.

The reader is stored before the bot starts: the first ingest tick runs two seconds after start-up, and a
story that broke before anyone had alerts on is (rightly) never alerted later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import build_application, polling
from news.topics import BUILTIN_KEYS
from storage import chats as chat_store
from storage import feeds as feed_store
from storage.db import Database
from tests.bot.conftest import bot_settings
from tests.emulator import BotAPIEmulator, RateLimits
from tests.feedserver import FeedServer
from tests.fixtures.delivery.seed import add_chat
from tests.jobs.test_alerts import OUTLETS, REPORTS, rss


async def test_the_ingest_tick_sends_the_alert_through_the_delivery_loop(
    emulator: BotAPIEmulator, db_url: str, feed_server: FeedServer
) -> None:
    now = datetime.now(UTC)
    emulator.enable_rate_limits(RateLimits(speedup=10))
    db = Database(db_url)
    try:
        async with db.session() as s, s.begin():
            for outlet in range(3):
                published = now - timedelta(minutes=30 - 10 * outlet)
                path = f"/live{outlet}.xml"
                feed_server.route(
                    path, body=rss(outlet, [(13, published)]), content_type="application/rss+xml"
                )
                await feed_store.add_feed(s, feed_server.url(path), now=now - timedelta(minutes=1))
        user = emulator.create_user("رنا", language_code="ar")
        chat = emulator.create_private_chat(user)
        await add_chat(db, user.id, next_at=now + timedelta(hours=12), now=now, topics=BUILTIN_KEYS)
        async with db.session() as s, s.begin():
            # Whatever the hour of the test run, it is not a quiet hour.
            await chat_store.update_chat(s, user.id, alerts=True, quiet_start=None, quiet_end=None)
    finally:
        await db.dispose()
    settings = bot_settings(emulator, db_url)
    async with polling(build_application(settings, migrate=False, run_ticks=True)):
        alert = await emulator.wait_for_sent_async(chat, contains="عاجل", timeout=60)
    assert REPORTS[13].title in alert.text and all(outlet in alert.text for outlet in OUTLETS)
    assert emulator.rate_limit_hits == 0
