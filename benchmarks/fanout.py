"""Fan-out: one digest page to each of 10,000 chats through the Bot API emulator, Telegram's limits enforced.

The emulator runs as its own process (``python -m tests.emulator``) with its flood-limit enforcer on and
every window shrunk ``--speedup`` times (10: 300 msg/s overall instead of 30); the worker sends at
``Settings.send_rate_per_second`` (25/s) scaled the same way, through PTB's ``telegram.Bot`` over HTTP,
with the outbox in a SQLite file. Printed: achieved rate against the allowed rate (target ≥ 95%), 429s
the enforcer answered (target 0), and pages that arrived twice or not at all (target 0).

    .venv/bin/python benchmarks/fanout.py [--chats 10000] [--speedup 10] [--groups 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from jobs.deliver import Deliverer, SendLimits, make_bot
from news.models import DigestPage
from storage import deliveries as outbox
from storage.db import Database
from storage.migrate import upgrade
from storage.schema import Chat
from tests.emulator import AsyncRemoteEmulator

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.now(UTC) - timedelta(seconds=5)


def start_emulator(speedup: float) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--port", "0", "--rate-limits", "--speedup", str(speedup)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if not line or line[0] != "EMULATOR_READY":
        proc.kill()
        raise RuntimeError(f"emulator did not start: {line}")
    return proc, line[1], line[2]


async def add_chats(
    db: Database, remote: AsyncRemoteEmulator, chats: int, group_share: float, **columns: object
) -> set[int]:
    """``chats`` chats in the emulator (that share of them supergroups, the rest private) and in the
    database with ``columns`` set; returns their telegram ids."""
    n_groups = int(chats * group_share)
    users = await remote.create_users(count=chats - n_groups)
    ids = [(u["id"], "private") for u in users]
    for i in range(n_groups):
        group = await remote.create_supergroup(title=f"مجموعة {i}")
        ids.append((group["id"], "supergroup"))
    async with db.session() as s, s.begin():
        await s.execute(
            insert(Chat.__table__),  # Core: a column given as None is stored NULL, not its default
            [{"telegram_id": tid, "type": kind, "title": "", **columns} for tid, kind in ids],
        )
    return {tid for tid, _ in ids}


async def seed(url: str, remote: AsyncRemoteEmulator, chats: int, group_share: float) -> dict[int, int]:
    """Chats in the emulator and in the database, one page queued for each; returns telegram id → pk."""
    db = Database(url)
    try:
        await add_chats(db, remote, chats, group_share, timezone="Asia/Riyadh", topics="politics")
        async with db.session() as s:
            pks = {tid: pk for pk, tid in await s.execute(select(Chat.id, Chat.telegram_id))}
        async with db.session() as s, s.begin():
            for tid, pk in pks.items():
                page = DigestPage(index=0, html=f"<b>نشرة</b>\nخبر لـ {tid}")
                await outbox.enqueue_pages(s, pk, "daily:2026-11-29T07:00", [page], now=NOW)
    finally:
        await db.dispose()
    return pks


async def deliver(
    url: str, emu_url: str, token: str, limits: SendLimits, concurrency: int
) -> tuple[int, float]:
    db = Database(url)
    bot = make_bot(token, f"{emu_url}/bot", concurrency=concurrency)
    try:
        async with bot:
            deliverer = Deliverer(db, bot, limits=limits, concurrency=concurrency, claim_batch=1000)
            started = time.perf_counter()
            stats = await deliverer.drain()
            return stats.sent, time.perf_counter() - started
    finally:
        await db.dispose()


async def ceiling(
    remote: AsyncRemoteEmulator, emu_url: str, token: str, concurrency: int, n: int = 500
) -> float:
    """Bare ``Bot.send_message`` throughput on this machine, no database and no pacing, limits off.

    The worker cannot beat this; it tells how much of a shortfall is the sender and how much the box.
    """
    await remote.disable_rate_limits()
    users = await remote.create_users(count=n, first_name="Calibration")
    bot = make_bot(token, f"{emu_url}/bot", concurrency=concurrency)
    slots = asyncio.Semaphore(concurrency)

    async def one(chat_id: int) -> None:
        async with slots:
            await bot.send_message(chat_id, "<b>calibration</b>", parse_mode="HTML")

    async with bot:
        started = time.perf_counter()
        await asyncio.gather(*(one(u["id"]) for u in users))
        return n / (time.perf_counter() - started)


async def check(remote: AsyncRemoteEmulator, pks: dict[int, int]) -> tuple[int, int, int]:
    state = await remote.state()
    calls = await remote.calls()
    wanted = set(pks)
    delivered = Counter(
        int(c["chat_id"])
        for c in calls
        if c["method"] == "sendMessage" and c["ok"] and int(c["chat_id"]) in wanted
    )
    duplicates = sum(n - 1 for n in delivered.values() if n > 1)
    missing = sum(1 for tid in pks if delivered[tid] == 0)
    return int(state["rate_limit_hits"]), duplicates, missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--speedup", type=float, default=10.0)
    parser.add_argument("--groups", type=float, default=0.1, help="share of chats that are supergroups")
    parser.add_argument("--concurrency", type=int, default=8, help="sends in flight")
    args = parser.parse_args()
    limits = SendLimits().scaled(args.speedup)
    proc, emu_url, token = start_emulator(args.speedup)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'fanout.db'}"
            upgrade(url)

            async def run() -> None:
                async with AsyncRemoteEmulator(emu_url) as remote:
                    bare = await ceiling(remote, emu_url, token, args.concurrency)
                    await remote.enable_rate_limits(speedup=args.speedup, integer_retry_after=False)
                    pks = await seed(url, remote, args.chats, args.groups)
                    cpu = time.process_time()
                    sent, elapsed = await deliver(url, emu_url, token, limits, args.concurrency)
                    cpu = time.process_time() - cpu
                    hits, duplicates, missing = await check(remote, pks)
                achieved = sent / elapsed
                telegram = 30 * args.speedup
                print(f"chats: {len(pks)} ({args.groups:.0%} supergroups); speedup {args.speedup:g}×")
                print(
                    f"sent {sent} in {elapsed:.1f} s: {achieved:.1f} msg/s of {limits.per_second:.0f} "
                    f"allowed ({achieved / limits.per_second:.1%}); Telegram's limit {telegram:.0f} msg/s"
                )
                print(f"429s from the enforcer: {hits}; duplicates: {duplicates}; missing: {missing}")
                print(
                    f"this machine's ceiling (bare Bot.send_message, {args.concurrency} in flight, no DB, no "
                    f"pacing): {bare:.0f} msg/s; worker CPU {1000 * cpu / max(sent, 1):.1f} ms per message"
                )

            asyncio.run(run())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
