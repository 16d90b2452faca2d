"""Scaling past one process: ingest and fan-out with 1, 2 and 4 worker processes on one PostgreSQL.

Both run real ``nashra run --role …`` processes against a fresh database on the PostgreSQL at
127.0.0.1:5432 (created and dropped here), and print one table per measurement with the ratio to one
process side by side, in one run (the machines are shared: compare ratios, not absolute figures).

* ``ingest``: ``--feeds`` (1,000) feeds on a loopback server that answers each after ``--latency``
  (0.5) seconds of simulated network latency, ``--items`` (2) new articles each. Measured: wall time
  from the feeds falling due to the last one stored, feeds/s, and the time from due to stored by which
  half and 95% of the feeds were done.
* ``fanout``: ``--chats`` private chats with one digest page each, sent to the Bot API emulator (its own
  process) with its flood limits raised to Telegram's paid-broadcast rate (1,000/s) and the workers at
  ``SEND_PAID_BROADCAST=true SEND_RATE_PER_SECOND=1000``. Measured: messages/s, 429s, lost and repeated
  pages.

    .venv/bin/python -m benchmarks.scale ingest [--feeds 1000] [--latency 0.5] [--items 2] [--procs 1,2,4]
    .venv/bin/python -m benchmarks.scale fanout [--chats 6000] [--procs 1,2,4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from news.models import DigestPage  # noqa: E402
from storage import deliveries as outbox  # noqa: E402
from storage import feeds as feed_store  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.schema import Chat, Delivery, Feed  # noqa: E402
from tests.emulator import AsyncRemoteEmulator  # noqa: E402
from tests.feedserver import FeedServer  # noqa: E402

RSS_TYPE = "application/rss+xml"
ADMIN = os.environ.get("NASHRA_TEST_PG", "host=127.0.0.1 port=5432 dbname=test user=postgres")


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"nashra_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql://{admin.info.user}@{admin.info.host}:{admin.info.port}/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def spawn(role: str, db_url: str, n: int, **env: str) -> list[subprocess.Popen[bytes]]:
    full = {**os.environ, "PYTHONPATH": str(ROOT), "PTB_TIMEDELTA": "1", "DATABASE_URL": db_url,
            "LOG_LEVEL": "WARNING", **env}  # fmt: skip
    cmd = [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run", "--role", role]
    out = subprocess.DEVNULL
    return [subprocess.Popen(cmd, cwd=ROOT, env=full, stdout=out, stderr=out) for _ in range(n)]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


async def scalar(db: Database, query: object) -> int:
    async with db.session() as s:
        return int(await s.scalar(query) or 0)  # type: ignore[call-overload]


# --- ingest -------------------------------------------------------------------------------------------

RSS_ITEM = (
    "<item><title>{title}</title><link>https://bench.example/{n}/{i}</link>"
    "<guid>https://bench.example/{n}/{i}</guid><description>{body}</description>"
    "<pubDate>Sun, 06 Dec 2026 07:00:00 GMT</pubDate></item>"
)
WORDS = "الحكومة أعلنت اليوم خطة جديدة لدعم الاقتصاد والأسواق المالية في المنطقة بعد اجتماع الوزراء".split()  # noqa: SIM905


def rss(n: int, items: int) -> bytes:
    body = "".join(
        RSS_ITEM.format(
            n=n, i=i, title=f"{' '.join(WORDS[i : i + 6])} {n}-{i}", body=" ".join(WORDS * 2) + f" {n} {i}"
        )
        for i in range(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>مصدر {n}</title>'
        f"<link>https://bench.example/{n}</link>{body}</channel></rss>"
    ).encode()


async def ingest_run(procs: int, feeds: int, latency: float, items: int) -> dict[str, float]:
    with fresh_database() as url, FeedServer() as server:
        urls = [
            server.route(f"/b/{n}.xml", body=rss(n, items), content_type=RSS_TYPE, delay_s=latency)
            for n in range(feeds)
        ]
        workers = spawn(
            "ingest", url, procs,
            FETCH_ALLOW_PRIVATE_NETWORKS="true", INGEST_TICK_SECONDS="0.5", FETCH_INTERVAL_MINUTES="600",
            FETCH_CONCURRENCY="16", FETCH_PER_HOST="16",
        )  # fmt: skip
        db = Database(url)
        try:
            await asyncio.sleep(6.0)  # start-up (imports, migrations check) before the clock starts
            due = datetime.now(UTC)
            async with db.session() as s, s.begin():
                for u in urls:
                    await feed_store.add_feed(s, u, now=due)
            started = time.monotonic()
            done = select(func.count()).select_from(Feed).where(Feed.last_ok_at.is_not(None))
            deadline = started + 600
            lat: list[float] = []  # the k-th feed's time from due to stored, sampled every 0.2 s
            while (n := await scalar(db, done)) < feeds:
                lat.extend([time.monotonic() - started] * (n - len(lat)))
                if time.monotonic() > deadline:
                    raise RuntimeError("ingest did not finish in 600 s")
                await asyncio.sleep(0.2)
            wall = time.monotonic() - started
            lat.extend([wall] * (feeds - len(lat)))
        finally:
            await db.dispose()
            stop(workers)
        counts = Counter(r.path for r in server.requests if r.path.startswith("/b/"))
    return {
        "wall": wall,
        "rate": feeds / wall,
        "p50": statistics.median(lat),
        "p95": lat[int(0.95 * (len(lat) - 1))],
        "twice": sum(1 for c in counts.values() if c > 1),
    }


# --- fan-out ------------------------------------------------------------------------------------------


def start_emulator() -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if line[:1] != ["EMULATOR_READY"]:
        proc.kill()
        raise RuntimeError(f"emulator did not start: {line}")
    return proc, line[1], line[2]


async def fanout_run(procs: int, chats: int) -> dict[str, float]:
    emulator, emu_url, token = start_emulator()
    try:
        with fresh_database() as url:
            async with AsyncRemoteEmulator(emu_url) as remote:
                await remote.enable_rate_limits(global_per_second=1000)
                ids = [u["id"] for u in await remote.create_users(count=chats)]
                db = Database(url)
                try:
                    async with db.session() as s, s.begin():
                        rows = [{"telegram_id": t, "type": "private", "timezone": "UTC"} for t in ids]
                        await s.execute(insert(Chat), rows)
                    workers = spawn(
                        "deliver", url, procs,
                        TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=emu_url,
                        SEND_PAID_BROADCAST="true", SEND_RATE_PER_SECOND="1000",
                    )  # fmt: skip
                    await asyncio.sleep(8.0)  # start-up and the first heartbeat, before the clock starts
                    async with db.session() as s, s.begin():
                        pks = dict((await s.execute(select(Chat.telegram_id, Chat.id))).all())
                        for t in ids:
                            await outbox.enqueue_pages(
                                s, pks[t], "daily:bench", [DigestPage(0, f"{t}")], now=datetime.now(UTC)
                            )
                    for p in workers:
                        os.kill(p.pid, 0)
                    started = time.monotonic()
                    sent = select(func.count()).select_from(Delivery).where(Delivery.status == "sent")
                    deadline = started + 600
                    while await scalar(db, sent) < chats:
                        if time.monotonic() > deadline:
                            raise RuntimeError("fan-out did not finish in 600 s")
                        await asyncio.sleep(0.1)
                    wall = time.monotonic() - started
                    stop(workers)
                finally:
                    await db.dispose()
                calls = [c for c in await remote.calls() if c["method"] == "sendMessage" and c["ok"]]
                state = await remote.state()
                paid = sum(1 for c in calls if c["params"].get("allow_paid_broadcast") in (True, "true"))
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    arrived = Counter(c["params"]["text"] for c in calls)
    return {
        "wall": wall,
        "rate": chats / wall,
        "429": float(state["rate_limit_hits"]),
        "lost": float(len({str(t) for t in ids} - set(arrived))),
        "twice": float(sum(1 for n in arrived.values() if n > 1)),
        "paid": paid / max(1, len(calls)),
    }


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("ingest")
    p.add_argument("--feeds", type=int, default=1000)
    p.add_argument("--latency", type=float, default=0.5)
    p.add_argument("--items", type=int, default=2, help="new articles per feed")
    p.add_argument("--procs", default="1,2,4")
    p = sub.add_parser("fanout")
    p.add_argument("--chats", type=int, default=6000)
    p.add_argument("--procs", default="1,2,4")
    args = parser.parse_args()
    counts = [int(x) for x in args.procs.split(",")]
    rows: list[tuple[int, dict[str, float]]] = []
    for n in counts:
        if args.what == "ingest":
            result = asyncio.run(ingest_run(n, args.feeds, args.latency, args.items))
        else:
            result = asyncio.run(fanout_run(n, args.chats))
        rows.append((n, result))
        print(f"  {n} process(es) done: {result}", file=sys.stderr, flush=True)
    base = rows[0][1]["rate"]
    if args.what == "ingest":
        print(
            f"\ningest: {args.feeds} feeds, {args.latency:g} s latency each, {args.items} new articles each,"
            " FETCH_CONCURRENCY=16 per process (PostgreSQL)"
        )
        print("| processes | wall s | feeds/s | × 1 process | due→stored p50 s | p95 s | fetched twice |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for n, r in rows:
            print(
                f"| {n} | {r['wall']:.1f} | {r['rate']:.1f} | {r['rate'] / base:.2f} | {r['p50']:.1f} "
                f"| {r['p95']:.1f} | {int(r['twice'])} |"
            )
    else:
        print(f"\nfan-out: {args.chats} private chats × 1 page, paid broadcast at 1,000/s (PostgreSQL)")
        print("| processes | wall s | msg/s | × 1 process | % of 1,000/s | 429s | lost | twice | paid flag |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n, r in rows:
            print(
                f"| {n} | {r['wall']:.1f} | {r['rate']:.0f} | {r['rate'] / base:.2f} | {r['rate'] / 10:.0f}% "
                f"| {int(r['429'])} | {int(r['lost'])} | {int(r['twice'])} | {r['paid']:.0%} |"
            )


if __name__ == "__main__":
    main()
