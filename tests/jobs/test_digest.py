"""The digest tick against a real database: when a digest is due, what goes into it, and that a slot is
queued once whatever happens (double ticks, concurrent runs, restarts within and beyond the catch-up)."""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select, text
from telegram.ext import Application

from bot import ticks
from bot.app import build_application, polling, services_of
from bot.settings import Settings
from jobs.digest import (
    DigestPolicy,
    NotSubscribed,
    nothing_new,
    preview_digest,
    queue_digest_now,
    run_digests,
)
from news.models import DigestStory, Topic
from storage import chats as chat_store
from storage import deliveries as outbox
from storage.db import Database
from storage.schema import SentStory
from tests.conftest import count_rows
from tests.emulator import DEFAULT_TOKEN, BotAPIEmulator
from tests.fixtures.delivery.seed import add_chat, add_story

# 07:00 in Riyadh (UTC+3) on Sunday 29 November 2026.
SLOT = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
POLICY = DigestPolicy(catch_up=timedelta(hours=6))


async def _chat(db: Database, telegram_id: int):  # type: ignore[no-untyped-def]
    async with db.session() as s:
        chat = await chat_store.get_chat(s, telegram_id)
    assert chat is not None
    return chat


async def _pages(db: Database, telegram_id: int) -> list[tuple[str, int, str, str]]:
    chat = await _chat(db, telegram_id)
    async with db.session() as s:
        return await outbox.pages_of(s, chat.id)


async def test_due_chat_gets_its_stories_once_and_moves_to_tomorrow(db: Database) -> None:
    await add_story(db, "قمة عربية في الرياض", at=SLOT - timedelta(hours=3))
    await add_story(db, "مباراة الكأس", at=SLOT - timedelta(hours=2), topics=("sport",))
    await add_chat(db, 1, next_at=SLOT, now=SLOT - timedelta(days=1))
    await add_chat(db, 2, next_at=SLOT + timedelta(hours=1), now=SLOT - timedelta(days=1))

    run = await run_digests(db, SLOT, policy=POLICY)

    assert (run.due, run.queued_chats) == (1, 1)
    pages = await _pages(db, 1)
    assert [(k, p, s) for k, p, s, _ in pages] == [("daily:2026-11-29T07:00", 0, "pending")]
    assert "قمة عربية في الرياض" in pages[0][3]
    assert "مباراة الكأس" not in pages[0][3]  # not one of the chat's topics
    assert await _pages(db, 2) == []  # not due yet
    chat = await _chat(db, 1)
    assert chat.next_digest_at == SLOT + timedelta(days=1)
    assert chat.last_digest_at == SLOT

    again = await run_digests(db, SLOT + timedelta(seconds=30), policy=POLICY)
    assert again.due == 0
    assert len(await _pages(db, 1)) == 1


async def test_next_digest_sends_only_what_is_new(db: Database) -> None:
    await add_story(db, "خبر الأمس", at=SLOT - timedelta(hours=1))
    await add_story(db, "خبر قديم جدا", at=SLOT - timedelta(hours=30))  # older than a first digest's day
    await add_chat(db, 1, next_at=SLOT, now=SLOT - timedelta(days=3))
    await run_digests(db, SLOT, policy=POLICY)
    first = (await _pages(db, 1))[0][3]
    assert "خبر الأمس" in first
    assert "خبر قديم جدا" not in first

    tomorrow = SLOT + timedelta(days=1)
    await add_story(db, "خبر اليوم", at=tomorrow - timedelta(hours=2))
    await run_digests(db, tomorrow, policy=POLICY)
    pages = await _pages(db, 1)
    assert [k for k, *_ in pages] == ["daily:2026-11-29T07:00", "daily:2026-11-30T07:00"]
    assert "خبر اليوم" in pages[1][3]
    assert "خبر الأمس" not in pages[1][3]
    assert await count_rows(db, "sent_stories") == 2


# Twelve unrelated stories: the digest's day pass merges stories that tell one event, so a test that
# needs twelve entries gives them twelve different subjects.
HEADLINES = (
    "البرلمان يقر موازنة العام المقبل",
    "منتخب المغرب يفوز على سلوفاكيا وديا",
    "زلزال بقوة خمس درجات يهز شرق اليابان",
    "أسعار النفط تتجاوز ثمانين دولارا للبرميل",
    "افتتاح مهرجان كان السينمائي بفيلم إسباني",
    "شركة أبل تكشف ميزة جديدة لهواتفها",
    "الأمم المتحدة تطلق حملة تلقيح ضد الكوليرا",
    "إغلاق مطار هيثرو بسبب العاصفة الثلجية",
    "بيع لوحة نادرة في مزاد بباريس",
    "دراسة تربط الحر بتراجع نتائج الامتحانات",
    "الشرطة تفكك شبكة لتهريب المهاجرين",
    "وكالة الفضاء ترسل مسبارا جديدا إلى المريخ",
)


async def test_double_tick_queues_one_set_of_pages(db: Database) -> None:
    policy = DigestPolicy(limit_per_topic=30)
    for i, headline in enumerate(HEADLINES):
        await add_story(db, headline, summary=f"{headline}. " * 12, at=SLOT - timedelta(minutes=10 + i))
    for tid in (1, 2, 3):
        await add_chat(db, tid, next_at=SLOT, now=SLOT - timedelta(days=1))

    runs = await asyncio.gather(run_digests(db, SLOT, policy=policy), run_digests(db, SLOT, policy=policy))

    assert sum(r.queued_chats for r in runs) == 3
    for tid in (1, 2, 3):
        pages = await _pages(db, tid)
        assert [p for _, p, _, _ in pages] == [0, 1]
        assert {k for k, *_ in pages} == {"daily:2026-11-29T07:00"}
    assert await count_rows(db, "sent_stories") == 3 * 12


async def test_a_rerun_of_a_slot_already_in_the_outbox_queues_nothing_more(db: Database) -> None:
    """As if the tick crashed after queueing but a stale schedule were read again: the key collides."""
    await add_story(db, "خبر", at=SLOT - timedelta(hours=1))
    chat = await add_chat(db, 1, next_at=SLOT, now=SLOT - timedelta(days=1))
    await run_digests(db, SLOT, policy=POLICY)
    async with db.session() as s, s.begin():
        await chat_store.update_chat(s, 1, next_digest_at=SLOT, last_digest_at=None)
        await s.execute(SentStory.__table__.delete())
    run = await run_digests(db, SLOT + timedelta(minutes=1), policy=POLICY)
    assert run.already_queued == 1
    assert len(await _pages(db, 1)) == 1
    assert (await _chat(db, 1)).next_digest_at == SLOT + timedelta(days=1)
    assert chat.id == (await _chat(db, 1)).id


async def test_missed_digest_goes_out_once_within_catch_up(db: Database) -> None:
    await add_story(db, "خبر", at=SLOT - timedelta(hours=1))
    await add_chat(db, 1, next_at=SLOT, now=SLOT - timedelta(days=1))
    restart = SLOT + timedelta(hours=5)
    run = await run_digests(db, restart, policy=POLICY)
    assert run.queued_chats == 1
    assert [k for k, *_ in await _pages(db, 1)] == ["daily:2026-11-29T07:00"]
    assert (await _chat(db, 1)).next_digest_at == SLOT + timedelta(days=1)
    assert (await run_digests(db, restart + timedelta(minutes=1), policy=POLICY)).due == 0


async def test_digest_missed_beyond_catch_up_is_skipped_to_the_next_day(db: Database) -> None:
    await add_story(db, "خبر", at=SLOT - timedelta(hours=1))
    await add_chat(db, 1, next_at=SLOT, now=SLOT - timedelta(days=1))
    restart = SLOT + timedelta(hours=7)
    run = await run_digests(db, restart, policy=POLICY)
    assert (run.skipped_late, run.queued_chats) == (1, 0)
    assert await _pages(db, 1) == []
    assert (await _chat(db, 1)).next_digest_at == SLOT + timedelta(days=1)
    assert (await _chat(db, 1)).last_digest_at is None


async def test_schedule_follows_daylight_saving_time(db: Database) -> None:
    # New York, 07:00 local: EST (UTC-5) on Saturday 7 March 2026, EDT (UTC-4) from Sunday 8 March.
    before = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    await add_story(db, "خبر", at=before - timedelta(hours=1))
    await add_chat(db, 1, next_at=before, now=before - timedelta(days=1), timezone="America/New_York")
    await run_digests(db, before, policy=POLICY)
    after = datetime(2026, 3, 8, 11, 0, tzinfo=UTC)
    assert (await _chat(db, 1)).next_digest_at == after

    await add_story(db, "خبر آخر", at=after - timedelta(hours=1))
    assert (await run_digests(db, after - timedelta(minutes=1), policy=POLICY)).due == 0
    run = await run_digests(db, after, policy=POLICY)
    assert run.queued_chats == 1
    assert [k for k, *_ in await _pages(db, 1)] == ["daily:2026-03-07T07:00", "daily:2026-03-08T07:00"]


async def test_chats_with_equal_choices_share_one_rendering(db: Database) -> None:
    await add_story(db, "خبر سياسي", at=SLOT - timedelta(hours=1))
    await add_story(db, "خبر اقتصادي", at=SLOT - timedelta(hours=2), topics=("economy",))
    for tid in (1, 2, 3):
        await add_chat(db, tid, next_at=SLOT, now=SLOT, topics=("politics", "economy"))
    await add_chat(db, 4, next_at=SLOT, now=SLOT, topics=("politics", "economy"), digits="western")
    await add_chat(db, 5, next_at=SLOT, now=SLOT, topics=("economy",))

    run = await run_digests(db, SLOT, policy=POLICY)

    assert run.queued_chats == 5
    assert run.renderings == 3
    texts = {tid: (await _pages(db, tid))[0][3] for tid in (1, 2, 3, 4, 5)}
    assert texts[1] == texts[2] == texts[3]
    assert texts[4] != texts[1]
    assert "٢٠٢٦" in texts[1] and "2026" in texts[4]
    assert "خبر سياسي" not in texts[5] and "خبر اقتصادي" in texts[5]


async def test_keyword_topics_pick_stories_by_their_words(db: Database) -> None:
    await add_story(db, "ارتفاع أسعار النفط", at=SLOT - timedelta(hours=1), topics=("economy",))
    await add_story(
        db, "مؤتمر الطاقة", at=SLOT - timedelta(hours=2), topics=("economy",), summary="الغاز والنفط"
    )
    await add_story(db, "النفط والغاز الصخري", at=SLOT - timedelta(hours=3), topics=("economy",))
    await add_story(db, "انتخابات", at=SLOT - timedelta(hours=4))
    chat = await add_chat(db, 1, next_at=SLOT, now=SLOT, topics=("politics",))
    async with db.session() as s, s.begin():
        await chat_store.save_keyword_topic(
            s,
            chat.id,
            Topic(key="kw_energy", name_ar="طاقة", keywords=("نفط",), excluded=("الغاز الصخري",)),
            created_by=None,
            now=SLOT,
        )
    await add_chat(db, 2, next_at=SLOT, now=SLOT, topics=("politics",))

    await run_digests(db, SLOT, policy=POLICY)

    text = (await _pages(db, 1))[0][3]
    assert "ارتفاع أسعار النفط" in text and "مؤتمر الطاقة" in text  # title and summary match
    assert "النفط والغاز الصخري" not in text  # excluded phrase vetoes
    assert "طاقة" in text and "انتخابات" in text
    assert "النفط" not in (await _pages(db, 2))[0][3]


async def test_no_empty_digest_on_schedule(db: Database) -> None:
    await add_story(db, "مباراة", at=SLOT - timedelta(hours=1), topics=("sport",))
    await add_chat(db, -1001, next_at=SLOT, now=SLOT, type="channel", topics=("politics",))
    await add_chat(db, -5, next_at=SLOT, now=SLOT, type="group", topics=("economy",))
    await add_chat(db, 7, next_at=SLOT, now=SLOT, type="private", topics=("culture",))

    run = await run_digests(db, SLOT, policy=POLICY)

    assert (run.due, run.empty, run.queued_chats) == (3, 3, 0)
    assert await count_rows(db, "deliveries") == 0
    for tid in (-1001, -5, 7):
        assert (await _chat(db, tid)).next_digest_at == SLOT + timedelta(days=1)


async def test_digest_on_request_and_nothing_new(db: Database) -> None:
    await add_story(db, "خبر", at=SLOT - timedelta(hours=1))
    await add_chat(db, 1, next_at=SLOT + timedelta(hours=3), now=SLOT)
    assert await queue_digest_now(db, 1, SLOT, policy=POLICY) == 1
    pages = await _pages(db, 1)
    assert [(k, p) for k, p, *_ in pages] == [("now:2026-11-29T04:00:00", 0)]
    assert (await _chat(db, 1)).next_digest_at == SLOT + timedelta(hours=3)  # schedule untouched

    assert await queue_digest_now(db, 1, SLOT + timedelta(minutes=1), policy=POLICY) == 0
    # The scheduled digest does not repeat what was sent on request, and nothing new means no message.
    run = await run_digests(db, SLOT + timedelta(hours=3), policy=POLICY)
    assert (run.due, run.empty) == (1, 1)
    assert len(await _pages(db, 1)) == 1
    with pytest.raises(NotSubscribed):
        await queue_digest_now(db, 404, SLOT, policy=POLICY)  # unknown chat
    page = await nothing_new(db, 1, SLOT)
    assert "لا جديد" in page.html and page.index == 0 and "\n" not in page.html


async def test_preview_has_no_side_effects(db: Database) -> None:
    await add_story(db, "خبر المعاينة", at=SLOT - timedelta(hours=1))
    await add_chat(db, 1, next_at=SLOT, now=SLOT)
    pages = await preview_digest(db, 1, SLOT, policy=POLICY)
    assert len(pages) == 1 and "خبر المعاينة" in pages[0].html
    assert await count_rows(db, "deliveries") == 0
    assert await count_rows(db, "sent_stories") == 0
    assert (await _chat(db, 1)).next_digest_at == SLOT
    async with db.session() as s:
        assert (await s.scalars(select(SentStory))).all() == []


# --- /digest end to end: the bot as in production, the emulator as Telegram -------------------------


@pytest.fixture
async def running_bot(db_url: str) -> AsyncIterator[tuple[BotAPIEmulator, Application]]:
    """``build_application`` polling the emulator, with the real delivery loop started as its tick would."""
    async with BotAPIEmulator() as emu:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=SecretStr(DEFAULT_TOKEN),
            telegram_api_url=emu.url,
            database_url=db_url,
        )
        async with polling(build_application(settings, migrate=False, run_ticks=False)) as app:
            assert app.job_queue is not None
            app.job_queue.run_once(ticks.delivery_job, when=0, data=settings, name="delivery")
            yield emu, app


async def test_digest_command_queues_and_delivers_or_says_nothing_new(
    running_bot: tuple[BotAPIEmulator, Application],
) -> None:
    emu, app = running_bot
    db = services_of(app).db
    now = datetime.now(UTC)
    await add_story(db, "خبر عاجل للقراء", at=now - timedelta(hours=1))
    reader, idle = emu.create_users(2)
    await add_chat(db, reader.id, next_at=now + timedelta(hours=5), now=now)
    await add_chat(db, idle.id, next_at=now + timedelta(hours=5), now=now, topics=("culture",))

    emu.send_command(reader.id, reader, "digest")
    page = await emu.wait_for_sent_async(reader.id, timeout=10)
    assert "خبر عاجل للقراء" in page.text  # queued, then sent by the delivery loop it woke

    emu.send_command(idle.id, idle, "digest")
    empty = await emu.wait_for_sent_async(idle.id, timeout=10)
    assert "لا جديد" in empty.text and "\n" not in empty.text


async def test_digest_command_in_a_group_is_silent_when_empty_and_kept_by_the_cooldown(
    running_bot: tuple[BotAPIEmulator, Application],
) -> None:
    emu, app = running_bot
    db = services_of(app).db
    now = datetime.now(UTC)
    a, b = emu.create_users(2)
    group = emu.create_group("مجموعة", members=[a, b])
    await add_chat(db, group.id, next_at=now + timedelta(hours=5), now=now, type="group")

    emu.send_command(group, a, "digest")  # nothing new: a group gets no «لا جديد»
    await emu.wait_until_idle_async(timeout=5)
    await asyncio.sleep(0.3)
    assert emu.sent(group) == []
    await add_story(db, "خبر جديد", at=now - timedelta(minutes=5))
    emu.send_command(group, b, "digest")  # within the group's reading cooldown: one "wait", no digest
    notice = await emu.wait_for_sent_async(group, timeout=5)
    await asyncio.sleep(0.3)
    assert [m.text for m in emu.sent(group)] == [notice.text]
    assert "خبر جديد" not in notice.text
    async with db.session() as s:
        assert await outbox.status_counts(s) == {}


async def test_the_digest_tick_queues_due_chats_and_wakes_the_delivery_loop(
    running_bot: tuple[BotAPIEmulator, Application],
) -> None:
    emu, app = running_bot
    db = services_of(app).db
    now = datetime.now(UTC)
    await add_story(db, "خبر النشرة المجدولة", at=now - timedelta(hours=2))
    (reader,) = emu.create_users(1)
    stranger = emu.create_user("زائر")
    emu.create_private_chat(stranger)
    await add_chat(db, reader.id, next_at=now - timedelta(minutes=1), now=now)

    assert app.job_queue is not None
    app.job_queue.run_once(ticks.digest_tick, when=0, data=services_of(app).settings)
    page = await emu.wait_for_sent_async(reader.id, timeout=10)
    assert "خبر النشرة المجدولة" in page.text

    emu.send_command(stranger.id, stranger, "digest")
    answer = await emu.wait_for_sent_async(stranger.id, timeout=5)
    assert "/start" in answer.text  # not subscribed yet


async def test_the_prune_tick_forgets_day_old_updates_and_idle_group_cooldowns(
    running_bot: tuple[BotAPIEmulator, Application],
) -> None:
    from storage import updates as inbox
    from storage.cooldowns import take_read_turn

    _, app = running_bot
    db = services_of(app).db
    now = datetime.now(UTC)
    async with db.session() as s, s.begin():
        for chat_id, at in ((-100_1, now - timedelta(days=2)), (-100_2, now - timedelta(minutes=5))):
            await take_read_turn(s, chat_id, at, timedelta(seconds=20), update_id=-chat_id)
    async with db.engine.begin() as conn:
        # Stored, claimed and handled in one transaction: the bot's own update loop never sees it open.
        await inbox.store(conn, [inbox.IncomingUpdate(7, 5, '{"update_id": 7}')], now - timedelta(days=2))
        claimed = await inbox.claim(conn, "t", now, lease_until=now + timedelta(seconds=30), limit=5)
        await inbox.finish(conn, [u.update_id for u in claimed], now - timedelta(days=2))
    assert await count_rows(db, "read_cooldowns") == 2

    assert app.job_queue is not None
    app.job_queue.run_once(ticks.prune_updates_tick, when=0)
    for _ in range(100):
        if await count_rows(db, "read_cooldowns") == 1 and await count_rows(db, "updates") == 0:
            break
        await asyncio.sleep(0.05)
    async with db.session() as s:
        kept = (await s.execute(select(text("chat_id")).select_from(text("read_cooldowns")))).scalars().all()
    assert kept == [-100_2]  # the group that read five minutes ago keeps its cooldown
    assert await count_rows(db, "updates") == 0


def test_ticks_can_be_registered_or_left_out() -> None:
    settings = Settings(_env_file=None, telegram_bot_token=SecretStr(DEFAULT_TOKEN))  # type: ignore[call-arg]
    with_ticks = build_application(settings, migrate=False)
    assert with_ticks.job_queue is not None
    assert {j.name for j in with_ticks.job_queue.jobs()} == {
        "ingest",
        "digest",
        "delivery",
        "delivery-watch",
        "updates-prune",
    }
    without = build_application(settings, migrate=False, run_ticks=False)
    assert without.job_queue is not None and without.job_queue.jobs() == ()
    app = build_application(settings, migrate=False, run_ticks=False)
    ticks.register(app, settings, enabled=False)
    assert app.job_queue is not None and app.job_queue.jobs() == ()
    ticks.wake_delivery(app)  # before the loop runs: remembered, not lost
    assert ticks.delivery_loop_of(app).woken_early


async def test_one_story_filed_as_two_shows_once_and_is_sent_once(db: Database) -> None:
    """Ingestion left two outlets' reports of one sale as two stories (real texts, ANT corpus: see
    tests/fixtures/daypass); the digest's day pass shows them as one entry naming both outlets, and
    marks both stories sent so the second never comes back on its own."""
    rows = [
        json.loads(line)
        for line in (FIXTURES / "daypass" / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    early, late = sorted(
        (r for r in rows if r["story"] == "van_gogh"), key=lambda r: parsedate_to_datetime(r["time"])
    )
    other = next(r for r in rows if r["story"] == "morocco_slovakia")
    first = await add_story(
        db, early["title"], summary=early["lead"], source="فرانس 24", at=SLOT - timedelta(hours=9)
    )
    second = await add_story(
        db, late["title"], summary=late["lead"], source="بي بي سي", at=SLOT - timedelta(hours=2)
    )
    await add_story(db, other["title"], summary=other["lead"], at=SLOT - timedelta(hours=3))
    await add_chat(db, 1, next_at=SLOT, now=SLOT - timedelta(days=1))

    await run_digests(db, SLOT, policy=POLICY)

    text = (await _pages(db, 1))[0][3]
    assert text.count(early["title"]) == 1
    assert late["title"] not in text  # not a second entry
    assert "بي بي سي" in text  # named as the entry's other outlet
    assert html.escape(other["title"]) in text
    async with db.session() as s:
        sent = set((await s.scalars(select(SentStory.story_id))).all())
    assert {first, second} <= sent

    await add_story(db, "خبر جديد عن افتتاح معرض للكتاب في الرياض", at=SLOT + timedelta(hours=20))
    await run_digests(db, SLOT + timedelta(days=1), policy=POLICY)
    tomorrow = (await _pages(db, 1))[-1][3]
    assert late["title"] not in tomorrow and early["title"] not in tomorrow


async def test_readers_asking_during_a_review_wait_for_that_one_and_the_loop_keeps_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The review of a set runs on a thread: the event loop goes on meanwhile (other readers' commands),
    and readers who ask for the same set while it runs get that review, not one each."""
    import time

    import jobs.digest

    def slow_review(stories: list[DigestStory]) -> list[DigestStory]:
        deadline = time.monotonic() + 0.4
        while time.monotonic() < deadline:  # pure CPU, as the real day pass is
            sum(range(1000))
        return list(reversed(stories))

    monkeypatch.setattr(jobs.digest, "review_stories", slow_review)
    review = jobs.digest.DayReview()
    stories = [
        DigestStory(i, f"خبر رقم {i}", f"https://a.example/{i}", "", "وكالة", SLOT) for i in range(1, 4)
    ]
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.ensure_future(tick())
    try:
        answers = await asyncio.gather(*(review(list(stories)) for _ in range(3)))
    finally:
        ticker.cancel()
    assert answers == [list(reversed(stories))] * 3
    assert review.computed == 1
    assert ticks >= 10  # the loop ran all along (on it, the review would have left it no turn)
    assert await review(list(stories)) == list(reversed(stories)) and review.computed == 1


async def test_the_day_pass_is_reviewed_once_per_set_of_stories(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readers asking between two ingestion passes get the same stories: the day pass (~0.3–0.5 s for a
    thousand stories) runs for the first and is remembered for the rest; a new story is a new set."""
    import jobs.digest

    day_review = jobs.digest.DayReview()  # this test's own, whatever earlier tests left in the process's
    monkeypatch.setattr(jobs.digest, "day_review", day_review)
    await add_story(db, "خبر أول", at=SLOT - timedelta(hours=2))
    for telegram_id in (1, 2, 3):
        await add_chat(db, telegram_id, next_at=SLOT + timedelta(hours=3), now=SLOT)
    before = day_review.computed
    assert before == 0
    assert await queue_digest_now(db, 1, SLOT, policy=POLICY) == 1
    assert await queue_digest_now(db, 2, SLOT, policy=POLICY) == 1
    assert day_review.computed == before + 1  # the second reader's digest reused the first review

    await add_story(db, "خبر ثان عن موضوع آخر", at=SLOT - timedelta(hours=1))
    assert await queue_digest_now(db, 3, SLOT, policy=POLICY) == 1
    assert day_review.computed == before + 2
    assert "خبر ثان" in "".join(html for *_, html in await _pages(db, 3))  # the new story is in it
    assert "خبر ثان" not in "".join(html for *_, html in await _pages(db, 2))
