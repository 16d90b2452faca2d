"""Breaking-news alerts to 10,000 chats: from ingesting the third outlet's article to the last alert sent.

Three outlets' feeds (real ANT-corpus text from ``tests/fixtures/feeds``, retold with each outlet's
headline) are served on 127.0.0.1; two outlets' reports are ingested first, then the third outlet's feed
is ingested and the clock starts. The alert pass queues one alert per chat in the outbox, and the
delivery worker (PTB's ``telegram.Bot`` over HTTP) sends them to the Bot API emulator, which runs as its
own process with Telegram's flood limits enforced and every window shrunk ``--speedup`` times.

Latency of one alert = when the emulator accepted it − when the third ingestion began. Printed side by
side: ingest + queue time (CPU-bound, not scaled), measured p50/p95/last, and the same figures scaled back
to Telegram's real limits (the sending part × speedup), next to the floor the send rate allows
(chats ÷ SEND_RATE_PER_SECOND). Also 429s from the enforcer (target 0), duplicates and missing alerts.

    .venv/bin/python benchmarks/alerts.py [--chats 10000] [--speedup 10] [--groups 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from benchmarks.fanout import add_chats, start_emulator
from jobs.alerts import run_alerts
from jobs.deliver import Deliverer, SendLimits, make_bot
from jobs.fetcher import Fetcher, FetchPolicy
from jobs.ingest import Ingestor
from news.topics import BUILTIN_KEYS
from storage import feeds as feed_store
from storage.db import Database
from storage.migrate import upgrade
from tests.emulator import AsyncRemoteEmulator
from tests.feedserver import FeedServer
from tests.jobs.test_alerts import rss

STORY = 0


async def seed_chats(db: Database, remote: AsyncRemoteEmulator, chats: int, group_share: float) -> set[int]:
    """Chats subscribed to every topic and to alerts (five a day, no quiet hours)."""
    return await add_chats(
        db,
        remote,
        chats,
        group_share,
        timezone="UTC",
        topics=" ".join(BUILTIN_KEYS),
        alerts=True,
        alerts_per_day=5,
        quiet_start=None,
        quiet_end=None,
    )


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile; NaN when nothing was sent (the counts above say why)."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def run(args: argparse.Namespace, url: str, emu_url: str, token: str) -> None:
    limits = SendLimits().scaled(args.speedup)
    db = Database(url)
    server = FeedServer().start()
    try:
        now = datetime.now(UTC)
        async with db.session() as s, s.begin():
            for outlet in range(3):
                server.route(f"/o{outlet}.xml", body=rss(outlet, []), content_type="application/rss+xml")
                await feed_store.add_feed(s, server.url(f"/o{outlet}.xml"), now=now)
        async with AsyncRemoteEmulator(emu_url) as remote:
            await remote.enable_rate_limits(speedup=args.speedup, integer_retry_after=False)
            wanted = await seed_chats(db, remote, args.chats, args.groups)
            async with Fetcher(FetchPolicy(allow_private=True)) as fetcher:
                ingestor = Ingestor(db, fetcher, interval=timedelta(minutes=15))
                for outlet in (0, 1):
                    body = rss(outlet, [(STORY, now - timedelta(minutes=30 - 10 * outlet))])
                    server.route(f"/o{outlet}.xml", body=body, content_type="application/rss+xml")
                await ingestor.run(now, include_all=True)
                assert (await run_alerts(db, now)).queued == 0
                body = rss(2, [(STORY, now - timedelta(minutes=2))])
                server.route("/o2.xml", body=body, content_type="application/rss+xml")
                now = datetime.now(UTC)
                started = time.time()
                await ingestor.run(now, include_all=True)
                ingested = time.time()
                alerts = await run_alerts(db, now)
                queued = time.time()
            bot = make_bot(token, f"{emu_url}/bot", concurrency=args.concurrency)
            async with bot:
                deliverer = Deliverer(db, bot, limits=limits, concurrency=args.concurrency, claim_batch=1000)
                stats = await deliverer.drain()
            calls = await remote.calls()
            state = await remote.state()
    finally:
        server.stop()
        await db.dispose()

    sends = [c for c in calls if c["method"] == "sendMessage" and c["ok"] and int(c["chat_id"]) in wanted]
    per_chat = Counter(int(c["chat_id"]) for c in sends)
    latencies = sorted(float(c["at"]) - started for c in sends)
    sending = [lat - (queued - started) for lat in latencies]
    scaled = [(queued - started) + s * args.speedup for s in sending]
    floor = args.chats / SendLimits().per_second
    print(f"chats with alerts on: {len(wanted)} ({args.groups:.0%} supergroups); speedup {args.speedup:g}×")
    print(
        f"third outlet ingested in {ingested - started:.2f} s; alert pass queued {alerts.queued} alerts "
        f"in {queued - ingested:.2f} s (story broke: {bool(alerts.breaking)})"
    )
    refused = Counter(
        "group" if int(c["chat_id"]) < 0 else "private" for c in calls if c.get("error_code") == 429
    )
    print(f"sent {stats.sent}; 429s from the enforcer: {state['rate_limit_hits']} {dict(refused)}; ", end="")
    print(f"duplicates: {sum(n - 1 for n in per_chat.values())}; missing: {len(wanted) - len(per_chat)}")
    print(f"{'':28}{'p50':>10}{'p95':>10}{'last':>10}")
    print(
        f"{'measured (speedup)':28}{pct(latencies, 50):>9.1f}s{pct(latencies, 95):>9.1f}s"
        f"{latencies[-1]:>9.1f}s"
    )
    print(
        f"{'scaled to Telegram limits':28}{pct(scaled, 50):>9.1f}s{pct(scaled, 95):>9.1f}s{scaled[-1]:>9.1f}s"
    )
    print(
        f"{'floor at send rate':28}{floor / 2:>9.1f}s{floor * 0.95:>9.1f}s{floor:>9.1f}s"
        f"   ({args.chats} ÷ {SendLimits().per_second:g} msg/s)"
    )
    print(f"scaled last ÷ floor: {scaled[-1] / floor:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--speedup", type=float, default=10.0)
    parser.add_argument("--groups", type=float, default=0.1, help="share of chats that are supergroups")
    parser.add_argument("--concurrency", type=int, default=8, help="sends in flight")
    parser.add_argument("--database-url", default="", help="default: a SQLite file in a temporary folder")
    args = parser.parse_args()
    proc, emu_url, token = start_emulator(args.speedup)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'alerts.db'}"
            upgrade(url)
            asyncio.run(run(args, url, emu_url, token))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
