"""The shared send budget: priorities, even spacing, per-chat clocks and flood waits (plain asyncio)."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from jobs.sendbudget import BULK, INTERACTIVE, SendBudget, SendLimits, is_private, send_within_budget


async def test_waiting_readers_are_served_before_digest_pages() -> None:
    budget = SendBudget(SendLimits(per_second=50))
    order: list[str] = []

    async def take(name: str, priority: int) -> None:
        await budget.slot(priority)
        order.append(name)

    bulk = [asyncio.create_task(take(f"page{i}", BULK)) for i in range(6)]
    await asyncio.sleep(0)  # the pages queue first
    replies = [asyncio.create_task(take(f"reply{i}", INTERACTIVE)) for i in range(4)]
    await asyncio.gather(*bulk, *replies)
    # At most the page that found the pacer free goes before the replies; then every reply, then pages.
    first_reply = order.index("reply0")
    assert first_reply <= 1
    assert order[first_reply : first_reply + 4] == [f"reply{i}" for i in range(4)]
    assert budget.granted == [4, 6]


async def test_no_window_holds_more_than_the_rate_and_slots_never_bunch() -> None:
    budget = SendBudget(SendLimits(per_second=20, global_window=0.5))  # 10 per half second
    stamps: list[float] = []

    async def take() -> None:
        await budget.slot()
        stamps.append(time.monotonic())

    await asyncio.gather(*(take() for _ in range(15)))
    assert all(b - a >= 0.024 for a, b in itertools.pairwise(stamps))  # half the even spacing at least
    assert stamps[10] - stamps[0] >= 0.499  # the eleventh waits for the first to leave the window
    in_any_window = max(sum(1 for t in stamps if s <= t < s + 0.5) for s in stamps)
    assert in_any_window == 10


async def test_a_private_chat_gets_one_message_per_interval_and_a_group_its_window() -> None:
    limits = SendLimits(
        per_second=1000, private_interval=0.05, group_per_minute=3, group_window=0.3, group_gap=0
    )
    budget = SendBudget(limits)
    stamps: dict[int, list[float]] = {7: [], -100: []}

    async def send(chat: int) -> None:
        async with budget.turn(chat):
            stamps[chat].append(time.monotonic())

    await asyncio.gather(*(send(7) for _ in range(4)), *(send(-100) for _ in range(4)))
    private, group = stamps[7], stamps[-100]
    assert all(b - a >= 0.045 for a, b in itertools.pairwise(private))
    assert group[3] - group[0] >= 0.29  # the fourth waits for the first to leave the 3-per-window
    assert is_private(7) and not is_private(-100) and not is_private("@channel")


async def test_the_outbox_cannot_claim_a_chat_a_reply_holds() -> None:
    budget = SendBudget(SendLimits(per_second=1000, private_interval=0.05))
    async with budget.turn(42):
        assert budget.busy(42)
        assert not budget.claim(42)
    assert not budget.claim(42)  # just answered: its interval runs
    await asyncio.sleep(0.06)
    assert budget.claim(42)
    budget.release(42, answered=False)
    assert not budget.busy(42)


async def test_a_flood_wait_delays_its_chat_and_several_at_once_pause_everything() -> None:
    budget = SendBudget(SendLimits(per_second=1000), flood_chats=3)
    assert budget.flood(1, 0.2) is False
    assert budget.ready_at(1) > time.monotonic() + 0.1
    assert budget.ready_at(2) == 0.0
    budget.flood(2, 0.2)
    assert budget.flood(3, 0.2) is True  # three chats told to wait at once: the whole bot is flooding
    started = time.monotonic()
    await budget.slot()
    assert time.monotonic() - started >= 0.15


async def test_a_retry_after_is_waited_out_and_the_call_made_again() -> None:
    budget = SendBudget(SendLimits(per_second=1000))
    calls: list[float] = []

    class Flood(Exception):
        pass

    async def call(text: str) -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise Flood
        return text.upper()

    def wait_of(exc: BaseException) -> float | None:
        return 0.05 if isinstance(exc, Flood) else None

    result = await send_within_budget(budget, call, ("ok",), {}, chat_id=5, retry_after=wait_of)
    assert result == "OK"
    assert len(calls) == 3 and calls[2] - calls[0] >= 0.09

    async def always(text: str) -> str:
        raise Flood

    with pytest.raises(Flood):
        await send_within_budget(
            budget, always, ("x",), {}, chat_id=6, retry_after=wait_of, max_flood_waits=1
        )

    async def broken(text: str) -> str:
        raise ValueError(text)

    with pytest.raises(ValueError):  # not a flood wait: raised at once, not retried
        await send_within_budget(budget, broken, ("bad",), {}, chat_id=8, retry_after=wait_of)
    assert not budget.busy(8)


async def test_a_held_budget_grants_nothing_then_serves_its_queue_readers_first() -> None:
    budget = SendBudget(SendLimits(per_second=100))
    budget.hold(True)
    order: list[str] = []

    async def take(name: str, priority: int) -> None:
        await budget.slot(priority)
        order.append(name)

    tasks = [asyncio.create_task(take("page", BULK)), asyncio.create_task(take("reply", INTERACTIVE))]
    await asyncio.sleep(0.2)
    assert order == [] and budget.waiting() == 2  # held: nothing goes, both wait
    budget.hold(False)
    await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert order == ["reply", "page"]
