"""The delivery worker against the Bot API emulator over real HTTP, through PTB's ``telegram.Bot``.

Every test uses a real database (SQLite and PostgreSQL) and asserts what the emulator received: order per
chat, Telegram's limits (the emulator's enforcer counts 429s), and what happens on each failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from jobs.deliver import Deliverer, RetryPolicy, SendLimits, make_bot
from news.models import DigestPage
from storage import chats as chat_store
from storage import deliveries as outbox
from storage.db import Database
from storage.schema import Delivery
from tests.emulator import BotAPIEmulator, RateLimits
from tests.fixtures.delivery.seed import add_chat


def _now() -> datetime:
    return datetime.now(UTC)


FAST_RETRY = RetryPolicy(base=0.05, cap=0.5, long_wait=5.0)


@asynccontextmanager
async def deliverer(
    db: Database, emu: BotAPIEmulator, *, limits: SendLimits | None = None, concurrency: int = 16
) -> AsyncIterator[Deliverer]:
    bot = make_bot(emu.token, emu.base_url, concurrency=concurrency, timeout=5.0)
    async with bot:
        yield Deliverer(db, bot, limits=limits or SendLimits(), retry=FAST_RETRY, concurrency=concurrency)


async def queue(
    db: Database, telegram_id: int, pages: list[str], *, key: str = "daily:2026-11-29T07:00"
) -> None:
    async with db.session() as s, s.begin():
        chat = await chat_store.get_chat(s, telegram_id)
        assert chat is not None
        await outbox.enqueue_pages(
            s, chat.id, key, [DigestPage(index=i, html=html) for i, html in enumerate(pages)], now=_now()
        )


async def subscribe(db: Database, telegram_id: int, type: str = "private") -> None:
    await add_chat(db, telegram_id, next_at=None, now=_now(), type=type)


async def deliver_all(d: Deliverer, db: Database, *, within: float = 20.0) -> None:
    """Drain until no page is pending or in flight (retries fall due in between)."""
    deadline = time.monotonic() + within
    while True:
        await d.drain()
        async with db.session() as s:
            counts = await outbox.status_counts(s)
        if not counts.get("pending") and not counts.get("sending"):
            return
        assert time.monotonic() < deadline, f"outbox not drained: {counts}"
        await asyncio.sleep(0.05)


async def rows(db: Database) -> list[Delivery]:
    async with db.session() as s:
        return list(await s.scalars(select(Delivery).order_by(Delivery.id)))


def texts(emu: BotAPIEmulator, chat_id: int) -> list[str]:
    return [m.source_text for m in emu.sent(chat_id)]


async def test_pages_arrive_in_order_and_are_marked_sent_with_their_message_ids(
    db: Database, emu: BotAPIEmulator
) -> None:
    user = emu.create_user("أمل")
    emu.create_private_chat(user)
    group = emu.create_group("مجموعة")
    channel = emu.create_channel("قناة")
    for chat_id, kind in ((user.id, "private"), (group.id, "group"), (channel.id, "channel")):
        await subscribe(db, chat_id, kind)
        await queue(db, chat_id, [f"<b>{kind} {i}</b>" for i in range(3)])

    async with deliverer(db, emu) as d:
        await deliver_all(d, db)

    for chat_id, kind in ((user.id, "private"), (group.id, "group"), (channel.id, "channel")):
        assert texts(emu, chat_id) == [f"<b>{kind} {i}</b>" for i in range(3)]
        assert emu.sent(chat_id)[0].parse_mode == "HTML"
        assert emu.sent(chat_id)[0].link_preview_options == {"is_disabled": True}
    stored = await rows(db)
    assert {r.status for r in stored} == {"sent"}
    by_chat_page = {(r.chat_id, r.page): r.message_id for r in stored}
    async with db.session() as s:
        private = await chat_store.get_chat(s, user.id)
    assert private is not None
    assert [by_chat_page[(private.id, i)] for i in range(3)] == [m.message_id for m in emu.sent(user.id)]


async def test_a_flood_wait_on_one_chat_delays_only_that_chat(db: Database, emu: BotAPIEmulator) -> None:
    users = emu.create_users(8)
    for u in users:
        await subscribe(db, u.id)
        await queue(db, u.id, [f"page 0 for {u.id}", f"page 1 for {u.id}"])
    slow = users[0].id
    emu.fail_with_retry_after("sendMessage", 1, chat_id=slow)

    async with deliverer(db, emu, limits=SendLimits().scaled(10)) as d:
        started = time.time()
        await deliver_all(d, db)

    calls = [c for c in emu.calls_to("sendMessage") if c.ok]
    slow_calls = [c for c in calls if str(c.chat_id) == str(slow)]
    others_done = max(c.at for c in calls if str(c.chat_id) != str(slow))
    assert slow_calls[0].at - started >= 1.0  # waited as told
    assert others_done < slow_calls[0].at  # nobody else waited for it
    assert others_done - started < 1.0
    for u in users:  # nothing dropped, order kept
        assert texts(emu, u.id) == [f"page 0 for {u.id}", f"page 1 for {u.id}"]
    assert d.total.rate_limited == 1


async def test_forbidden_deactivates_the_chat_and_cancels_its_pages(
    db: Database, emu: BotAPIEmulator
) -> None:
    blocked, fine = emu.create_users(2)
    emu.block_bot(blocked)
    for u in (blocked, fine):
        await subscribe(db, u.id)
        await queue(db, u.id, ["one", "two", "three"])

    async with deliverer(db, emu) as d:
        await deliver_all(d, db)

    assert texts(emu, fine.id) == ["one", "two", "three"]
    assert texts(emu, blocked.id) == []
    async with db.session() as s:
        chat = await chat_store.get_chat(s, blocked.id)
        assert chat is not None
        assert chat.deactivated_reason is not None and "blocked" in chat.deactivated_reason
        assert not chat.delivering
        assert await outbox.status_counts(s, chat_pk=chat.id) == {"failed": 1, "cancelled": 2}


async def test_chat_not_found_deactivates_too(db: Database, emu: BotAPIEmulator) -> None:
    await subscribe(db, -4242, "group")  # a chat the emulator (Telegram) does not know
    await queue(db, -4242, ["x"])
    async with deliverer(db, emu) as d:
        await deliver_all(d, db)
    async with db.session() as s:
        chat = await chat_store.get_chat(s, -4242)
    assert chat is not None and chat.deactivated_reason is not None
    assert "chat not found" in chat.deactivated_reason.lower()


async def test_a_migrated_group_is_moved_and_its_pages_follow(db: Database, emu: BotAPIEmulator) -> None:
    group = emu.create_group("مجموعة قديمة")
    await subscribe(db, group.id, "group")
    await queue(db, group.id, ["first", "second"])
    supergroup = emu.migrate_to_supergroup(group)

    async with deliverer(db, emu) as d:
        await deliver_all(d, db)

    assert texts(emu, supergroup.id) == ["first", "second"]
    assert texts(emu, group.id) == []
    async with db.session() as s:
        assert await chat_store.get_chat(s, group.id) is None
        moved = await chat_store.get_chat(s, supergroup.id)
    assert moved is not None and moved.type == "supergroup" and moved.delivering
    assert {r.status for r in await rows(db)} == {"sent"}


async def test_a_dropped_connection_is_retried_with_backoff(db: Database, emu: BotAPIEmulator) -> None:
    (user,) = emu.create_users(1)
    await subscribe(db, user.id)
    await queue(db, user.id, ["page 0", "page 1"])
    emu.drop_connection("sendMessage", chat_id=user.id)
    emu.fail_with_server_error("sendMessage", chat_id=user.id, error_code=502)

    async with deliverer(db, emu) as d:
        await deliver_all(d, db)

    assert texts(emu, user.id) == ["page 0", "page 1"]
    first = (await rows(db))[0]
    assert (first.status, first.attempts) == ("sent", 3)
    assert d.total.retried == 2


async def test_a_lost_answer_repeats_only_that_page(db: Database, emu: BotAPIEmulator) -> None:
    """Telegram took the page but the answer was lost: the retry sends it again (at-least-once).

    The Bot API has no idempotency key, so this one page cannot be told apart from a failure."""
    (user,) = emu.create_users(1)
    await subscribe(db, user.id)
    await queue(db, user.id, ["page 0", "page 1"])
    emu.drop_connection("sendMessage", chat_id=user.id, apply=True)

    async with deliverer(db, emu) as d:
        await deliver_all(d, db)

    assert texts(emu, user.id) == ["page 0", "page 0", "page 1"]


async def test_a_page_rejected_for_its_content_fails_and_the_rest_goes_on(
    db: Database, emu: BotAPIEmulator
) -> None:
    a, b = emu.create_users(2)
    for u in (a, b):
        await subscribe(db, u.id)
    await queue(db, a.id, ["<b>ok</b>", "<div>not Telegram HTML</div>", "<i>after</i>"])
    await queue(db, b.id, ["<b>other chat</b>"])

    async with deliverer(db, emu) as d:
        await deliver_all(d, db)

    assert texts(emu, a.id) == ["<b>ok</b>", "<i>after</i>"]
    assert texts(emu, b.id) == ["<b>other chat</b>"]
    failed = [r for r in await rows(db) if r.status == "failed"]
    assert len(failed) == 1 and failed[0].page == 1
    assert failed[0].error is not None and "unsupported start tag" in failed[0].error
    async with db.session() as s:
        chat = await chat_store.get_chat(s, a.id)
    assert chat is not None and chat.delivering


async def test_telegram_limits_are_kept_without_a_single_429(db: Database, emu: BotAPIEmulator) -> None:
    """Scaled 20×: 600 msg/s overall, 20 per 3 s per group, 20 per s per private chat."""
    speedup = 20.0
    emu.enable_rate_limits(RateLimits(speedup=speedup, integer_retry_after=False))
    users = emu.create_users(60)
    group = emu.create_supergroup("مجموعة نشطة")
    for u in users:
        await subscribe(db, u.id)
        await queue(db, u.id, [f"{u.id}/{i}" for i in range(3)])
    await subscribe(db, group.id, "supergroup")
    await queue(db, group.id, [f"g/{i}" for i in range(25)])  # more than a group takes in a minute

    async with deliverer(db, emu, limits=SendLimits().scaled(speedup), concurrency=24) as d:
        started = time.monotonic()
        await deliver_all(d, db, within=30)
        elapsed = time.monotonic() - started

    assert emu.rate_limit_hits == 0
    assert texts(emu, group.id) == [f"g/{i}" for i in range(25)]
    for u in users:
        assert texts(emu, u.id) == [f"{u.id}/{i}" for i in range(3)]
    assert elapsed >= 60 / speedup  # the 21st group message had to wait for the window


async def test_stuck_rows_are_recovered_and_a_stop_hands_claims_back(
    db: Database, emu: BotAPIEmulator
) -> None:
    users = emu.create_users(3)
    for u in users:
        await subscribe(db, u.id)
        await queue(db, u.id, ["a", "b"])
    async with db.session() as s, s.begin():  # a worker claimed two heads, then died
        assert len(await outbox.claim(s, _now(), limit=2)) == 2

    async with deliverer(db, emu) as d:
        stopped = await d.drain(should_stop=lambda: True)  # stopping at once sends nothing
        assert stopped.sent == 0
        assert await d.recover() == 2
        await deliver_all(d, db)

    for u in users:
        assert texts(emu, u.id) == ["a", "b"]


async def test_run_loop_is_woken_by_new_pages(db: Database, emu: BotAPIEmulator) -> None:
    (user,) = emu.create_users(1)
    await subscribe(db, user.id)
    stop = asyncio.Event()
    async with deliverer(db, emu) as d:
        loop = asyncio.create_task(d.run(should_stop=stop.is_set, poll=60))
        await asyncio.sleep(0.2)
        await queue(db, user.id, ["woken"])
        d.wake()
        await emu.wait_for_sent_async(user.id, timeout=5)
        stop.set()
        await asyncio.wait_for(loop, timeout=5)
    assert texts(emu, user.id) == ["woken"]


def test_limits_scale_with_the_emulator_clock() -> None:
    fast = SendLimits().scaled(10)
    assert (fast.per_second, fast.group_window, fast.private_interval) == (250.0, 6.0, 0.1)
    with pytest.raises(ValueError):
        SendLimits(per_second=0)
    assert RetryPolicy(base=2, cap=10).backoff(1) == 2 and RetryPolicy(base=2, cap=10).backoff(9) == 10
    assert timedelta(seconds=FAST_RETRY.backoff(2)) == timedelta(seconds=0.1)


async def test_pages_queued_during_a_long_broadcast_go_out_without_waiting_for_it(
    db: Database, emu: BotAPIEmulator
) -> None:
    speedup = 20.0
    group = emu.create_supergroup("مجموعة طويلة")
    (late,) = emu.create_users(1)
    await subscribe(db, group.id, "supergroup")
    await subscribe(db, late.id)
    await queue(db, group.id, [f"g/{i}" for i in range(25)])  # the last 5 wait for the group's window

    async with deliverer(db, emu, limits=SendLimits().scaled(speedup)) as d:
        draining = asyncio.create_task(deliver_all(d, db))
        await emu.wait_for_sent_async(group.id, count=20, timeout=10)
        await queue(db, late.id, ["queued later"])
        d.wake()
        await emu.wait_for_sent_async(late.id, timeout=2)
        assert len(emu.sent(group.id)) == 20  # arrived while the group was still waiting
        await draining
    assert texts(emu, group.id) == [f"g/{i}" for i in range(25)]


async def test_paid_broadcast_sends_carry_allow_paid_broadcast_and_free_ones_do_not(
    db: Database, emu: BotAPIEmulator
) -> None:
    paid, free = emu.create_user("مدفوع"), emu.create_user("مجاني")
    for user in (paid, free):
        emu.create_private_chat(user)
        await subscribe(db, user.id)
    await queue(db, paid.id, ["paid"])
    bot = make_bot(emu.token, emu.base_url, timeout=5.0)
    async with bot:
        await deliver_all(Deliverer(db, bot, retry=FAST_RETRY, paid_broadcast=True), db)
        await queue(db, free.id, ["free"])
        await deliver_all(Deliverer(db, bot, retry=FAST_RETRY), db)
    sent = {c.params["text"]: c.params for c in emu.calls_to("sendMessage") if c.ok}
    assert sent["paid"].get("allow_paid_broadcast") in (True, "true")
    assert "allow_paid_broadcast" not in sent["free"]


async def test_with_a_lease_only_lapsed_claims_are_taken_back_and_held_ones_are_renewed(
    db: Database, emu: BotAPIEmulator
) -> None:
    user = emu.create_user("قارئ")
    emu.create_private_chat(user)
    await subscribe(db, user.id)
    await queue(db, user.id, ["held"])
    now = _now()
    async with db.engine.begin() as conn:  # another, live worker holds the page
        [row] = await outbox.claim(conn, now, owner="other")
    bot = make_bot(emu.token, emu.base_url, timeout=5.0)
    async with bot:
        mine = Deliverer(db, bot, retry=FAST_RETRY, lease=timedelta(seconds=60), owner="me")
        assert await mine.recover() == 0  # within the other worker's lease: not taken
        async with db.engine.begin() as conn:
            assert (
                await outbox.renew_claims(conn, [row.id], now=now + timedelta(seconds=50), owner="other") == 1
            )
            assert await outbox.renew_claims(conn, [row.id], now=now, owner="me") == 0  # not mine
        lapsed = Deliverer(db, bot, retry=FAST_RETRY, lease=timedelta(seconds=60), owner="me",
                           wall=lambda: now + timedelta(seconds=111))  # fmt: skip
        assert await lapsed.recover() == 1  # renewed at +50 s, lapsed at +110 s
    [stored] = await rows(db)
    assert (stored.status, stored.claimed_by) == ("pending", None)
