"""``make demo``: Nashra end to end, offline, in under a minute, with no token.

What runs is the real thing: the bot built by ``bot.app.build_application`` polling through
python-telegram-bot's own HTTP stack, its scheduled ticks, a SQLite database, the ingestion pass over
HTTP. What is stood in for: Telegram (the Bot API emulator from ``tests/emulator``) and the outlets'
servers (real ANT-corpus articles from ``tests/fixtures/feeds`` served on 127.0.0.1). A reader
subscribes in a private chat and links a channel; the bot ingests, the reader asks for a digest, and
the clock is moved forward to the channel's delivery time. Everything each of them receives is
printed as Telegram would show it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402

from bot.app import build_application, polling, services_of  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.ticks import wake_delivery  # noqa: E402
from jobs.digest import run_digests  # noqa: E402
from storage import chats as chat_store  # noqa: E402
from storage import feeds as feed_store  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.emulator import BotAPIEmulator, SentMessage  # noqa: E402
from tests.feedserver import FeedServer  # noqa: E402

OUTLETS = ["alarabiya.xml", "bbc.xml", "cnn.xml", "france24.xml", "skynews.xml"]
FIXTURES = ROOT / "tests" / "fixtures" / "feeds"
_PUBDATE = re.compile(rb"<pubDate>([^<]+)</pubDate>")


def as_of_today(body: bytes, now: datetime) -> bytes:
    """The sample articles are from 2018: shift their dates so the newest was published an hour ago.

    A digest holds what was published since the last one, so without this the demo would rightly
    find nothing new.
    """
    dates = [parsedate_to_datetime(m.decode()) for m in _PUBDATE.findall(body)]
    if not dates:
        return body
    shift = (now - timedelta(hours=1)) - max(dates)

    def moved(match: re.Match[bytes]) -> bytes:
        when = parsedate_to_datetime(match.group(1).decode()) + shift
        return b"<pubDate>" + format_datetime(when).encode() + b"</pubDate>"

    return _PUBDATE.sub(moved, body)


WIDTH = min(shutil.get_terminal_size((100, 20)).columns, 100)


def show(who: str, messages: list[SentMessage]) -> None:
    for m in messages:
        print(f"\n┌─ {who} ─ message {m.message_id}" + (" (edited)" if m.history else ""))
        for line in m.text.splitlines() or [""]:
            for part in textwrap.wrap(line, WIDTH - 2) or [""]:
                print(f"│ {part}")
        for row in m.inline_keyboard or []:
            print("│ " + "  ".join(f"[{b.get('text', '')}]" for b in row))
        print("└" + "─" * (WIDTH - 1))


def step(text: str) -> None:
    print(f"\n\033[1m▶ {text}\033[0m" if sys.stdout.isatty() else f"\n▶ {text}")


async def demo(workdir: Path) -> None:
    started = time.monotonic()
    db_url = f"sqlite:///{workdir}/demo.db"
    with FeedServer() as feeds:
        async with BotAPIEmulator(bot_username="NashraDemoBot") as emu:
            upgrade(db_url)
            db = Database(db_url)
            now = datetime.now(UTC)
            async with db.session() as s, s.begin():
                for name in OUTLETS:
                    body = as_of_today((FIXTURES / name).read_bytes(), now)
                    url = feeds.route(
                        f"/demo/{name}", body=body, content_type="application/rss+xml; charset=utf-8"
                    )
                    await feed_store.add_feed(s, url, now=now)
            await db.dispose()
            step(f"{len(OUTLETS)} sample Arabic feeds on {feeds.base_url}; Bot API emulator on {emu.url}")

            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                telegram_bot_token=SecretStr(emu.token),
                telegram_api_url=emu.url,
                database_url=db_url,
                fetch_allow_private_networks=True,
                default_timezone="Asia/Riyadh",
            )
            async with polling(build_application(settings)) as app:
                await run_story(app, emu)
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s")


async def run_story(app, emu: BotAPIEmulator) -> None:  # type: ignore[no-untyped-def]
    svc = services_of(app)
    reader = emu.create_user("أمل", username="amal", language_code="ar")
    private = emu.create_private_chat(reader)
    channel = emu.create_channel("نشرة الصباح", username="nashra_morning", creator=reader)

    async def say(text: str, replies: int = 1) -> list[SentMessage]:
        before = len(emu.sent(private))
        emu.send_text(private, reader, text)
        await emu.wait_for_sent_async(private, count=before + replies, timeout=15)
        await emu.wait_until_idle_async(timeout=15)
        return emu.sent(private)[before:]

    step("the reader opens the bot: /start")
    greeting = await say("/start")
    show("أمل (private chat)", greeting)

    picker = greeting[-1]
    sport = next((d for d in picker.button_data if d.endswith("|sport")), None)
    if sport:
        step("she taps «رياضة» to stop following sport")
        query = emu.press_button(private, reader, picker.message_id, data=sport)
        await emu.wait_for_async(
            lambda: any(a["callback_query_id"] == query for a in emu.callback_answers),
            15,
            "the button answer",
        )
        await emu.wait_until_idle_async(timeout=15)
        show("أمل (private chat)", [m for m in emu.sent(private) if m.message_id == picker.message_id])

    step("she sets her delivery time and timezone: /time 07:30, /timezone Africa/Cairo")
    show("أمل (private chat)", await say("/time 07:30") + await say("/timezone Africa/Cairo"))

    step("the bot ingests the feeds (what the ingest tick does every minute)")
    summary = await svc.ingestor.run(datetime.now(UTC), include_all=True)
    print(
        f"  feeds ok {summary.feeds_ok}, failed {summary.feeds_failed}; "
        f"{summary.new} new articles, {summary.duplicates} duplicates"
    )

    step("she asks for her digest now: /digest")
    before = len(emu.sent(private))
    emu.send_text(private, reader, "/digest")
    await emu.wait_for_sent_async(private, count=before + 1, timeout=20)
    await asyncio.sleep(1.5)  # let the remaining pages of the digest arrive
    await emu.wait_until_idle_async(timeout=15)
    show("أمل (private chat)", emu.sent(private)[before:])

    step("she searches the stored news: /search النفط")
    show("أمل (private chat)", await say("/search النفط"))

    step("she links her channel @nashra_morning, where the bot is an admin: /channel @nashra_morning")
    show("أمل (private chat)", await say("/channel @nashra_morning"))

    # Rather than wait for 07:00 in Riyadh, the demo makes the channel's digest due now.
    now = datetime.now(UTC)
    async with svc.db.session() as s, s.begin():
        await chat_store.update_chat(s, channel.id, next_digest_at=now)
    step("the channel's delivery time comes (moved to now for the demo); the digest tick runs")
    run = await run_digests(svc.db, now)
    print(f"  digest tick: {run.queued_chats} chat(s) due, {run.pages} page(s) queued")
    wake_delivery(app)
    await emu.wait_for_sent_async(channel, count=max(run.pages, 1), timeout=20)
    show("@nashra_morning (channel)", emu.sent(channel))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="nashra-demo-") as tmp:
        asyncio.run(demo(Path(tmp)))


if __name__ == "__main__":
    main()
