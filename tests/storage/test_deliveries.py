"""The outbox on both backends: unique pages, head-of-queue claims, SKIP LOCKED, crash re-queueing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from news.models import DigestPage
from storage import chats as chat_store
from storage import deliveries as outbox
from storage.db import Database
from storage.deliveries import DigestWrite
from tests.conftest import count_rows
from tests.fixtures.delivery.seed import add_chat, add_story

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def _pages(n: int, tag: str = "") -> list[DigestPage]:
    return [DigestPage(index=i, html=f"<b>{tag}page {i}</b>") for i in range(n)]


async def _queue(db: Database, chat_pk: int, key: str, n: int) -> int:
    async with db.session() as s, s.begin():
        return await outbox.enqueue_pages(s, chat_pk, key, _pages(n), now=NOW)


async def test_pages_are_unique_per_chat_digest_and_page(db: Database) -> None:
    chat = await add_chat(db, 1, next_at=NOW, now=NOW)
    assert await _queue(db, chat.id, "daily:2026-11-29T07:00", 2) == 2
    assert await _queue(db, chat.id, "daily:2026-11-29T07:00", 3) == 1  # only page 2 is new
    assert await _queue(db, chat.id, "daily:2026-11-30T07:00", 1) == 1
    assert await count_rows(db, "deliveries") == 4


async def test_write_is_a_compare_and_set_on_the_schedule(db: Database) -> None:
    chat = await add_chat(db, 1, next_at=NOW, now=NOW)
    story = await add_story(db, "خبر", at=NOW - timedelta(hours=1))
    write = DigestWrite(
        chat_pk=chat.id,
        seen_next=chat.next_digest_at,
        seen_last=chat.last_digest_at,
        digest_key="daily:2026-11-29T07:00",
        pages=_pages(2),
        story_ids=[story],
        next_at=NOW + timedelta(days=1),
        digest_at=NOW,
    )
    async with db.session() as s, s.begin():
        first = await outbox.write_digests(s, [write], now=NOW)
    async with db.session() as s, s.begin():
        second = await outbox.write_digests(s, [write], now=NOW)  # built from the same, now stale, values
    assert (first.applied, first.pages) == (frozenset({chat.id}), 2)
    assert (second.applied, second.pages) == (frozenset(), 0)
    assert await count_rows(db, "deliveries") == 2
    assert await count_rows(db, "sent_stories") == 1
    async with db.session() as s:
        after = await chat_store.get_chat(s, 1)
    assert after is not None
    assert (after.next_digest_at, after.last_digest_at) == (NOW + timedelta(days=1), NOW)


async def test_concurrent_writes_of_one_slot_serialize_and_the_second_skips(db: Database) -> None:
    chat = await add_chat(db, 1, next_at=NOW, now=NOW)
    write = DigestWrite(
        chat_pk=chat.id,
        seen_next=chat.next_digest_at,
        seen_last=chat.last_digest_at,
        digest_key="daily:2026-11-29T07:00",
        pages=_pages(1),
        next_at=NOW + timedelta(days=1),
        digest_at=NOW,
    )

    async def second() -> outbox.WriteOutcome:
        async with db.session() as s, s.begin():
            return await outbox.write_digests(s, [write], now=NOW)

    async with db.session() as s1:
        await s1.begin()
        first = await outbox.write_digests(s1, [write], now=NOW)
        racing = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not racing.done()  # waits for the chat's lock
        await s1.commit()
    assert first.applied == {chat.id}
    assert (await racing).applied == frozenset()
    assert await count_rows(db, "deliveries") == 1


async def test_only_queue_heads_are_claimed_in_page_order(db: Database) -> None:
    a = await add_chat(db, 1, next_at=NOW, now=NOW)
    b = await add_chat(db, -100, next_at=NOW, now=NOW, type="channel")
    await _queue(db, a.id, "k1", 3)
    await _queue(db, b.id, "k1", 1)
    async with db.session() as s, s.begin():
        claimed = await outbox.claim(s, NOW)
    assert [(r.telegram_id, r.page, r.attempts, r.chat_type) for r in claimed] == [
        (1, 0, 1, "private"),
        (-100, 0, 1, "channel"),
    ]
    async with db.session() as s, s.begin():
        assert await outbox.claim(s, NOW) == []  # page 1 waits behind page 0 in flight
        await outbox.mark_sent(s, claimed[0].id, 77, now=NOW)
    async with db.session() as s, s.begin():
        nxt = await outbox.claim(s, NOW, chat_pk=a.id)
    assert [r.page for r in nxt] == [1]
    # A retry pushed into the future keeps the later page waiting too.
    async with db.session() as s, s.begin():
        await outbox.release(s, nxt[0].id, not_before=NOW + timedelta(minutes=1), error="timed out")
    async with db.session() as s, s.begin():
        assert await outbox.claim(s, NOW + timedelta(seconds=30)) == []
        assert await outbox.next_due(s) == NOW + timedelta(minutes=1)
    async with db.session() as s, s.begin():
        again = await outbox.claim(s, NOW + timedelta(minutes=1))
    assert [(r.page, r.attempts) for r in again] == [(1, 2)]


async def test_two_workers_never_claim_the_same_row(db: Database) -> None:
    chats = [await add_chat(db, 10 + i, next_at=NOW, now=NOW) for i in range(6)]
    for c in chats:
        await _queue(db, c.id, "k", 2)
    if db.dialect == "postgresql":
        # Two open claim transactions at once: SKIP LOCKED hands them disjoint heads.
        async with db.session() as s1, s1.begin(), db.session() as s2, s2.begin():
            one = await outbox.claim(s1, NOW, limit=3)
            two = await outbox.claim(s2, NOW, limit=10)
    else:
        async with db.session() as s1, s1.begin():
            one = await outbox.claim(s1, NOW, limit=3)
        async with db.session() as s2, s2.begin():
            two = await outbox.claim(s2, NOW, limit=10)
    ids_one, ids_two = {r.id for r in one}, {r.id for r in two}
    assert len(ids_one) == 3 and len(ids_two) == 3
    assert not ids_one & ids_two
    assert {r.page for r in [*one, *two]} == {0}
    assert len({r.chat_pk for r in [*one, *two]}) == 6


async def test_stuck_rows_are_requeued_and_refused_chats_cancelled(db: Database) -> None:
    a = await add_chat(db, 1, next_at=NOW, now=NOW)
    b = await add_chat(db, 2, next_at=NOW, now=NOW)
    await _queue(db, a.id, "k", 2)
    await _queue(db, b.id, "k", 2)
    async with db.session() as s, s.begin():
        claimed = await outbox.claim(s, NOW)
    assert len(claimed) == 2
    later = NOW + timedelta(minutes=5)
    async with db.session() as s, s.begin():
        assert await outbox.requeue_stuck(s, claimed_before=NOW) == 0  # claimed by a live worker
        assert await outbox.requeue_stuck(s, claimed_before=later) == 2
    async with db.session() as s, s.begin():
        await chat_store.deactivate_chat(s, 2, "Forbidden: bot was blocked by the user")
        assert await outbox.cancel_open(s, b.id, "chat deactivated") == 2
    async with db.session() as s, s.begin():
        again = await outbox.claim(s, later)
        counts = await outbox.status_counts(s)
    assert [(r.telegram_id, r.page, r.attempts) for r in again] == [(1, 0, 2)]
    assert counts == {"sending": 1, "pending": 1, "cancelled": 2}


async def test_paused_chats_are_not_claimed(db: Database) -> None:
    a = await add_chat(db, 1, next_at=NOW, now=NOW)
    await _queue(db, a.id, "k", 1)
    async with db.session() as s, s.begin():
        await chat_store.update_chat(s, 1, active=False)
    async with db.session() as s, s.begin():
        assert await outbox.claim(s, NOW) == []
        assert await outbox.next_due(s) is None
