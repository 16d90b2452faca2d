"""Crash safety: the delivery worker is SIGKILLed mid-broadcast and restarted.

Both the worker (``python -m bot.digest_cli deliver``) and the Bot API emulator (``python -m
tests.emulator``) run as their own processes, the outbox in a SQLite file or PostgreSQL. 1,000 pages
(250 chats × 4) are queued; after the kill, a second worker finishes. Every page must have arrived, in
order per chat, and only pages that were in flight at the kill (``sending`` in the database, at most one
per chat) may have arrived twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from news.models import DigestPage
from storage import deliveries as outbox
from storage.db import Database
from storage.schema import Chat, Delivery
from tests.bot.processes import emulator_process
from tests.emulator import AsyncRemoteEmulator

ROOT = Path(__file__).resolve().parents[2]
SPEEDUP = 20.0
CHATS = 250
PAGES = 4


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PTB_TIMEDELTA": "1", **extra}


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[str, str]]:
    async with emulator_process(SPEEDUP) as emu:
        yield emu


async def _worker(db_url: str, emu_url: str, token: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.digest_cli", "--env-file", os.devnull,
        "deliver", "--once", "--speedup", str(SPEEDUP), "--concurrency", "6",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=_env(TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=emu_url, DATABASE_URL=db_url, LOG_LEVEL="ERROR"),
    )  # fmt: skip


async def _seed(db_url: str, remote: AsyncRemoteEmulator) -> list[int]:
    users = await remote.create_users(count=CHATS)
    ids = [u["id"] for u in users]
    now = datetime.now(UTC) - timedelta(seconds=1)
    db = Database(db_url)
    try:
        async with db.session() as s, s.begin():
            await s.execute(
                insert(Chat),
                [{"telegram_id": tid, "type": "private", "timezone": "Asia/Riyadh"} for tid in ids],
            )
            pks = {tid: pk for tid, pk in await s.execute(select(Chat.telegram_id, Chat.id))}
        # Interleaved like a real tick: every chat's digest queued in one go, page order per chat.
        async with db.session() as s, s.begin():
            for tid in ids:
                pages = [DigestPage(index=p, html=f"{tid}:{p}") for p in range(PAGES)]
                await outbox.enqueue_pages(s, pks[tid], "daily:2026-11-29T07:00", pages, now=now)
    finally:
        await db.dispose()
    return ids


async def _in_flight(db_url: str) -> set[str]:
    db = Database(db_url)
    try:
        async with db.session() as s:
            rows = await s.scalars(select(Delivery.text).where(Delivery.status == "sending"))
            return set(rows)
    finally:
        await db.dispose()


async def test_sigkill_mid_broadcast_loses_nothing_and_repeats_only_pages_in_flight(
    db_url: str, emulator: tuple[str, str]
) -> None:
    emu_url, token = emulator
    started = time.monotonic()
    async with AsyncRemoteEmulator(emu_url) as remote:
        await remote.enable_rate_limits(speedup=SPEEDUP, integer_retry_after=False)
        ids = await _seed(db_url, remote)

        first = await _worker(db_url, emu_url, token)
        deadline = time.monotonic() + 30
        while (await remote.state())["counters"].get("messages_sent", 0) < 300:
            assert first.returncode is None, "the worker finished before it could be killed"
            assert time.monotonic() < deadline, "the worker does not send"
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        assert first.returncode == -signal.SIGKILL
        in_flight = await _in_flight(db_url)
        sent_at_kill = (await remote.state())["counters"]["messages_sent"]
        assert sent_at_kill < CHATS * PAGES  # killed mid-broadcast

        second = await _worker(db_url, emu_url, token)
        out, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 0, err.decode()[-2000:]
        summary = json.loads(out.decode().strip().splitlines()[-1])

        calls = [c for c in await remote.calls() if c["method"] == "sendMessage" and c["ok"]]
        hits = (await remote.state())["rate_limit_hits"]

    texts = [c["params"]["text"] for c in calls]
    arrived = Counter(texts)
    expected = {f"{tid}:{p}" for tid in ids for p in range(PAGES)}
    assert set(arrived) == expected  # nothing lost
    repeated = {t for t, n in arrived.items() if n > 1}
    assert all(arrived[t] == 2 for t in repeated)
    assert repeated <= in_flight  # only what was in flight at the kill
    per_chat = Counter(t.split(":")[0] for t in in_flight)
    assert max(per_chat.values(), default=0) <= 1  # at most one page per chat was claimed
    assert len(repeated) <= 6  # and no more than the worker's requests in flight were repeated

    order: dict[str, list[int]] = defaultdict(list)
    for text in texts:
        tid, page = text.split(":")
        if not order[tid] or order[tid][-1] != int(page):  # a repeat of the page in flight is allowed
            order[tid].append(int(page))
    assert all(pages == list(range(PAGES)) for pages in order.values())

    assert summary["delivered"] == CHATS * PAGES - sent_at_kill + len(repeated)
    assert hits == 0
    assert time.monotonic() - started < 60
