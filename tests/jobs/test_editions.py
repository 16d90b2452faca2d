"""Several editions a day: each carries only what is new since the previous one, at each edition time,
delivered through the outbox to the Bot API emulator. Also the short (titles-only) length."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.deliver import Deliverer, RetryPolicy, SendLimits, make_bot
from jobs.digest import DigestPolicy, run_digests
from storage import chats as chat_store
from storage import deliveries as outbox
from storage.db import Database
from tests.emulator import BotAPIEmulator
from tests.fixtures.delivery.seed import add_chat, add_story

# Yesterday, so that the outbox rows (due at the simulated ``now``) are already due in real time.
DAY = (datetime.now(UTC) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
MORNING = DAY + timedelta(hours=7, seconds=10)
EVENING = DAY + timedelta(hours=19, seconds=10)


async def deliver(db: Database, emu: BotAPIEmulator) -> None:
    async with make_bot(emu.token, emu.base_url, timeout=5.0) as bot:
        d = Deliverer(db, bot, limits=SendLimits(), retry=RetryPolicy(base=0.05, cap=0.5, long_wait=5.0))
        for _ in range(50):
            await d.drain()
            async with db.session() as s:
                counts = await outbox.status_counts(s)
            if not counts.get("pending") and not counts.get("sending"):
                return
        raise AssertionError(f"outbox not drained: {counts}")


async def reader(db: Database, emu: BotAPIEmulator, **settings: object) -> int:
    user = emu.create_user("قارئ")
    emu.create_private_chat(user)
    await add_chat(db, user.id, next_at=DAY + timedelta(hours=7), now=DAY, timezone="UTC", minute=7 * 60)
    async with db.session() as s, s.begin():
        await chat_store.update_chat(s, user.id, edition_minutes=(7 * 60, 19 * 60), **settings)
    return user.id


async def test_two_editions_a_day_each_carry_only_what_is_new(db: Database, emu: BotAPIEmulator) -> None:
    chat = await reader(db, emu)
    await add_story(db, "اجتماع وزراء الخارجية العرب", at=DAY + timedelta(hours=5), summary="ملخص أول")
    await add_story(db, "قمة اقتصادية في الرياض", at=DAY + timedelta(hours=6), summary="ملخص ثان")

    morning = await run_digests(db, MORNING, policy=DigestPolicy())
    assert morning.queued == [chat]
    async with db.session() as s:
        stored = await chat_store.get_chat(s, chat)
    assert stored is not None and stored.next_digest_at == DAY + timedelta(hours=19)
    await deliver(db, emu)
    morning_messages = len(emu.sent(chat))
    first = "".join(m.text for m in emu.sent(chat))
    assert "اجتماع وزراء الخارجية العرب" in first and "قمة اقتصادية في الرياض" in first

    await add_story(db, "انتخابات بلدية في تونس", at=DAY + timedelta(hours=12))
    assert (await run_digests(db, DAY + timedelta(hours=12), policy=DigestPolicy())).due == 0
    evening = await run_digests(db, EVENING, policy=DigestPolicy())
    assert evening.queued == [chat]
    await deliver(db, emu)
    later = "".join(m.text for m in emu.sent(chat)[morning_messages:])
    assert "انتخابات بلدية في تونس" in later
    assert "اجتماع وزراء الخارجية العرب" not in later and "قمة اقتصادية في الرياض" not in later
    async with db.session() as s:
        stored = await chat_store.get_chat(s, chat)
    assert stored is not None and stored.next_digest_at == DAY + timedelta(days=1, hours=7)


async def test_a_short_digest_has_titles_without_summaries(db: Database, emu: BotAPIEmulator) -> None:
    short = await reader(db, emu, digest_length="short", per_topic=1)
    full = await reader(db, emu)
    await add_story(db, "اجتماع وزراء الخارجية العرب", at=DAY + timedelta(hours=5), summary="ملخص الاجتماع")
    await add_story(db, "قمة اقتصادية في الرياض", at=DAY + timedelta(hours=6), summary="ملخص القمة")
    await run_digests(db, MORNING, policy=DigestPolicy())
    await deliver(db, emu)
    short_text = "".join(m.text for m in emu.sent(short))
    full_text = "".join(m.text for m in emu.sent(full))
    assert "ملخص" not in short_text and "قمة اقتصادية في الرياض" in short_text
    assert "اجتماع وزراء الخارجية العرب" not in short_text  # one story per topic
    assert "ملخص الاجتماع" in full_text and "ملخص القمة" in full_text
