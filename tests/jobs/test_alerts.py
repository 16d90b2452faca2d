"""Breaking-news alerts end to end: outlets' feeds on a loopback HTTP server → real ingestion → the alert
pass → the outbox → the delivery worker → the Bot API emulator (PTB's HTTP stack), on SQLite and
PostgreSQL. Stories are real ANT-corpus articles (``tests/fixtures/feeds/alarabiya.xml``), each retold by
three made-up outlets with their own headline wording, published minutes ago.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from jobs.alerts import run_alerts
from jobs.deliver import Deliverer, RetryPolicy, SendLimits, make_bot
from jobs.digest import DigestPolicy, run_digests
from jobs.fetcher import Fetcher, FetchPolicy
from jobs.ingest import Ingestor
from news.models import Topic
from news.parse import parse_feed
from news.topics import BUILTIN_KEYS
from storage import chats as chat_store
from storage import deliveries as outbox
from storage import feeds as feed_store
from storage.db import Database
from storage.schema import Delivery, Story
from tests.emulator import BotAPIEmulator, RateLimits
from tests.feedserver import FeedServer
from tests.fixtures.delivery.seed import add_chat

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "feeds" / "alarabiya.xml"
OUTLETS = ("وكالة الشرق", "إذاعة النيل", "صحيفة الخليج")
# Each outlet's own way of heading the same report, so titles (and fingerprints) differ.
WORDING = ("", "تقرير: ", "متابعة: ")


@dataclass(frozen=True)
class Report:
    title: str
    text: str


def _corpus_reports() -> list[Report]:
    parsed = parse_feed(FIXTURE.read_bytes(), {}, "https://www.alarabiya.net/rss.xml")
    return [Report(e.title, e.content_html) for e in parsed.entries if len(e.content_html) > 300]


REPORTS = _corpus_reports()


def rss(outlet: int, items: Sequence[tuple[int, datetime]], *, urgent: Sequence[int] = ()) -> str:
    """One outlet's feed: ``(report index, published)`` pairs; indexes in ``urgent`` carry «عاجل:»."""
    body = []
    for index, published in items:
        report = REPORTS[index]
        prefix = "عاجل: " if index in urgent else WORDING[outlet]
        body.append(
            "<item>"
            f"<title>{html.escape(prefix + report.title)}</title>"
            f"<link>https://outlet{outlet}.example/news/{index}</link>"
            f"<guid isPermaLink='false'>o{outlet}-{index}</guid>"
            f"<description>{html.escape(report.text)}</description>"
            f"<pubDate>{format_datetime(published)}</pubDate>"
            "</item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{OUTLETS[outlet]}</title><link>https://outlet{outlet}.example/</link>"
        f"{''.join(body)}</channel></rss>"
    )


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(FetchPolicy(allow_private=True, timeout_s=3, max_bytes=2 * 1024 * 1024)) as f:
        yield f


class Newsroom:
    """Three outlets' feeds on the feed server, ingested on demand at a chosen ``now``."""

    def __init__(self, db: Database, server: FeedServer, fetcher: Fetcher) -> None:
        self.db = db
        self.server = server
        self.ingestor = Ingestor(db, fetcher, interval=timedelta(minutes=15))
        self.items: list[list[tuple[int, datetime]]] = [[], [], []]
        self.urgent: list[set[int]] = [set(), set(), set()]

    async def start(self, now: datetime) -> None:
        async with self.db.session() as s, s.begin():
            for outlet in range(3):
                self._publish(outlet)
                await feed_store.add_feed(s, self.server.url(f"/outlet{outlet}.xml"), now=now)

    def _publish(self, outlet: int) -> None:
        self.server.route(
            f"/outlet{outlet}.xml",
            body=rss(outlet, self.items[outlet], urgent=sorted(self.urgent[outlet])),
            content_type="application/rss+xml",
        )

    def report(self, outlet: int, index: int, published: datetime, *, urgent: bool = False) -> None:
        self.items[outlet].append((index, published))
        if urgent:
            self.urgent[outlet].add(index)
        self._publish(outlet)

    async def ingest(self, now: datetime) -> None:
        summary = await self.ingestor.run(now, include_all=True)
        assert summary.feeds_failed == 0, summary.failures


@pytest.fixture
async def newsroom(db: Database, feed_server: FeedServer, fetcher: Fetcher) -> Newsroom:
    room = Newsroom(db, feed_server, fetcher)
    await room.start(datetime.now(UTC))
    return room


@asynccontextmanager
async def deliverer(db: Database, emu: BotAPIEmulator, *, speedup: float = 1.0) -> AsyncIterator[Deliverer]:
    bot = make_bot(emu.token, emu.base_url, timeout=5.0)
    async with bot:
        retry = RetryPolicy(base=0.05, cap=0.5, long_wait=5.0)
        yield Deliverer(db, bot, limits=SendLimits().scaled(speedup), retry=retry)


async def drain(d: Deliverer, db: Database, *, within: float = 30.0) -> None:
    import asyncio
    import time

    deadline = time.monotonic() + within
    while True:
        await d.drain()
        async with db.session() as s:
            counts = await outbox.status_counts(s)
        if not counts.get("pending") and not counts.get("sending"):
            return
        assert time.monotonic() < deadline, f"outbox not drained: {counts}"
        await asyncio.sleep(0.05)


async def reader(
    db: Database,
    emu: BotAPIEmulator,
    name: str,
    now: datetime,
    *,
    alerts: bool = True,
    cap: int = 5,
    quiet: tuple[int, int] | None = None,
    muted: Sequence[str] = (),
    timezone: str = "UTC",
) -> int:
    user = emu.create_user(name)
    emu.create_private_chat(user)
    await add_chat(db, user.id, next_at=None, now=now, topics=BUILTIN_KEYS, timezone=timezone)
    async with db.session() as s, s.begin():
        await chat_store.update_chat(
            s,
            user.id,
            alerts=alerts,
            alerts_per_day=cap,
            quiet_start=quiet[0] if quiet else None,
            quiet_end=quiet[1] if quiet else None,
            muted_sources=set(muted),
        )
    return user.id


def texts(emu: BotAPIEmulator, chat_id: int) -> list[str]:
    return [m.source_text for m in emu.sent(chat_id)]


def not_quiet(now: datetime) -> tuple[int, int]:
    """Quiet hours that do not contain ``now`` (UTC)."""
    minute = now.hour * 60 + now.minute
    return ((minute + 120) % 1440, (minute + 180) % 1440)


def quiet_around(now: datetime) -> tuple[int, int]:
    minute = now.hour * 60 + now.minute
    return ((minute - 60) % 1440, (minute + 60) % 1440)


async def test_three_outlets_reporting_the_same_story_fire_one_alert_per_reader(
    db: Database, emu: BotAPIEmulator, newsroom: Newsroom
) -> None:
    now = datetime.now(UTC)
    amal = await reader(db, emu, "أمل", now, quiet=not_quiet(now))
    off = await reader(db, emu, "سالم", now, alerts=False)
    newsroom.report(0, 0, now - timedelta(minutes=40))
    newsroom.report(1, 0, now - timedelta(minutes=20))
    await newsroom.ingest(now)
    two = await run_alerts(db, now)
    assert two.queued == 0 and not two.breaking  # two outlets, no «عاجل»: not yet breaking

    newsroom.report(2, 0, now - timedelta(minutes=5))
    await newsroom.ingest(now)
    run = await run_alerts(db, now)
    assert len(run.breaking) == 1 and run.chats == [amal]
    async with deliverer(db, emu) as d:
        await drain(d, db)
    (alert,) = emu.sent(amal)
    assert "عاجل" in alert.text and REPORTS[0].title in alert.text
    assert all(outlet in alert.text for outlet in OUTLETS)
    assert alert.message["entities"] and any(e["type"] == "text_link" for e in alert.message["entities"])
    assert emu.sent(off) == []

    # Another pass (a fourth report, a double tick) never alerts the same story again.
    newsroom.report(0, 1, now - timedelta(minutes=3))
    await newsroom.ingest(now + timedelta(minutes=1))
    again = await run_alerts(db, now + timedelta(minutes=1))
    assert again.queued == 0
    async with db.session() as s:
        stored = list(await s.scalars(select(Delivery).where(Delivery.kind == "alert")))
        story = await s.get(Story, run.breaking[0])
    assert (
        len(stored) == 1 and stored[0].status == "sent" and stored[0].digest_key == f"alert:{run.breaking[0]}"
    )
    assert story is not None and story.breaking_at is not None


async def test_an_urgent_item_and_a_second_outlet_within_half_an_hour_fire(
    db: Database, emu: BotAPIEmulator, newsroom: Newsroom
) -> None:
    now = datetime.now(UTC)
    chat = await reader(db, emu, "ليلى", now, quiet=not_quiet(now))
    newsroom.report(0, 2, now - timedelta(minutes=25), urgent=True)
    newsroom.report(1, 2, now - timedelta(minutes=10))
    await newsroom.ingest(now)
    run = await run_alerts(db, now)
    assert run.chats == [chat]
    async with deliverer(db, emu) as d:
        await drain(d, db)
    (alert,) = emu.sent(chat)
    assert REPORTS[2].title in alert.text


async def test_nothing_fires_in_quiet_hours_and_the_digest_carries_the_story_unmarked(
    db: Database, emu: BotAPIEmulator, newsroom: Newsroom
) -> None:
    now = datetime.now(UTC)
    sleeper = await reader(db, emu, "نائم", now, quiet=quiet_around(now))
    awake = await reader(db, emu, "صاحٍ", now, quiet=not_quiet(now))
    for outlet in range(3):
        newsroom.report(outlet, 3, now - timedelta(minutes=30 - 10 * outlet))
    await newsroom.ingest(now)
    run = await run_alerts(db, now)
    assert run.chats == [awake] and run.quiet == 1
    async with db.session() as s, s.begin():
        for chat_id in (sleeper, awake):
            await chat_store.update_chat(s, chat_id, next_digest_at=now - timedelta(minutes=1))
    await run_digests(db, now, policy=DigestPolicy())
    async with deliverer(db, emu) as d:
        await drain(d, db)
    sleeper_texts = texts(emu, sleeper)
    assert len(sleeper_texts) >= 1 and not any("🔴" in t for t in sleeper_texts)
    assert any(REPORTS[3].title in t for t in sleeper_texts)
    assert "سبق التنبيه" not in "".join(sleeper_texts)
    awake_texts = texts(emu, awake)
    assert "🔴" in awake_texts[0]
    marked = [t for t in awake_texts[1:] if REPORTS[3].title in t]
    assert marked and "سبق التنبيه" in marked[0]


async def test_the_daily_cap_holds_and_the_biggest_stories_go_first(
    db: Database, emu: BotAPIEmulator, newsroom: Newsroom
) -> None:
    now = datetime.now(UTC)
    capped = await reader(db, emu, "قارئ", now, cap=2, quiet=not_quiet(now))
    roomy = await reader(db, emu, "قارئة", now, cap=20, quiet=not_quiet(now))
    for index in range(4, 8):
        for outlet in range(3):
            newsroom.report(outlet, index, now - timedelta(minutes=30 - 5 * outlet))
    await newsroom.ingest(now)
    run = await run_alerts(db, now)
    assert len(run.breaking) == 4 and run.capped == 2
    async with deliverer(db, emu) as d:
        await drain(d, db)
    assert len(emu.sent(capped)) == 2
    assert len(emu.sent(roomy)) == 4
    # Later the same (UTC) day: the cap still holds.
    for outlet in range(3):
        newsroom.report(outlet, 8, now - timedelta(minutes=20 - 5 * outlet))
    later = datetime.now(UTC)  # real time: the alert rows' not_before is the pass's now
    await newsroom.ingest(later)
    assert (await run_alerts(db, later)).capped >= 1 or later.date() != now.date()
    async with deliverer(db, emu) as d:
        await drain(d, db)
    assert len(emu.sent(capped)) == (2 if later.date() == now.date() else 3)
    assert len(emu.sent(roomy)) == 5


async def test_muted_outlets_disappear_from_alerts_and_digests(
    db: Database, emu: BotAPIEmulator, newsroom: Newsroom
) -> None:
    now = datetime.now(UTC)
    muted = await reader(db, emu, "منتقٍ", now, quiet=not_quiet(now), muted=[OUTLETS[0]])
    all_muted = await reader(db, emu, "زاهد", now, quiet=not_quiet(now), muted=OUTLETS)
    for outlet in range(3):
        newsroom.report(outlet, 9, now - timedelta(minutes=30 - 10 * outlet))
    newsroom.report(0, 10, now - timedelta(minutes=15))  # only the muted outlet tells this one
    await newsroom.ingest(now)
    run = await run_alerts(db, now)
    assert run.chats == [muted] and run.muted == 1
    async with db.session() as s, s.begin():
        for chat_id in (muted, all_muted):
            await chat_store.update_chat(s, chat_id, next_digest_at=now - timedelta(minutes=1))
    await run_digests(db, now, policy=DigestPolicy())
    async with deliverer(db, emu) as d:
        await drain(d, db)
    got = texts(emu, muted)
    assert got and all(OUTLETS[0] not in t for t in got)
    assert OUTLETS[1] in got[0] and OUTLETS[2] in got[0]
    assert REPORTS[9].title in got[0] or f"{WORDING[1]}{REPORTS[9].title}" in got[0]
    assert not any(REPORTS[10].title in t for t in got)
    assert emu.sent(all_muted) == []


async def test_alerts_follow_keyword_topics_too(
    db: Database, emu: BotAPIEmulator, newsroom: Newsroom
) -> None:
    now = datetime.now(UTC)
    word = max(REPORTS[14].title.split(), key=len)
    follower = await reader(db, emu, "متابع", now, quiet=not_quiet(now))
    stranger = await reader(db, emu, "غريب", now, quiet=not_quiet(now))
    async with db.session() as s, s.begin():
        for chat_id, keyword in ((follower, word), (stranger, "بطريق")):
            chat = await chat_store.update_chat(s, chat_id, topics=())
            topic = Topic(key=f"kw{chat_id}", name_ar="موضوعي", keywords=(keyword,))
            await chat_store.save_keyword_topic(s, chat.id, topic, created_by=None, now=now)
    for outlet in range(3):
        newsroom.report(outlet, 14, now - timedelta(minutes=30 - 10 * outlet))
    await newsroom.ingest(now)
    run = await run_alerts(db, now)
    assert run.chats == [follower]


async def test_ten_readers_get_their_alerts_within_telegrams_flood_limits(
    db: Database, emu: BotAPIEmulator, newsroom: Newsroom
) -> None:
    """Load, scaled down: readers in groups and private chats, the emulator enforcing Telegram's limits."""
    now = datetime.now(UTC)
    emu.enable_rate_limits(RateLimits(speedup=20))
    ids = [await reader(db, emu, f"قارئ {i}", now, quiet=not_quiet(now)) for i in range(10)]
    for index in (11, 12):
        for outlet in range(3):
            newsroom.report(outlet, index, now - timedelta(minutes=30 - 10 * outlet))
    await newsroom.ingest(now)
    run = await run_alerts(db, now)
    assert run.queued == 20
    async with deliverer(db, emu, speedup=20) as d:
        await drain(d, db)
    assert all(len(emu.sent(chat_id)) == 2 for chat_id in ids)
    assert emu.rate_limit_hits == 0
