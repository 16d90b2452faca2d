"""``nashra run --role …`` as real processes sharing one PostgreSQL database.

Each test starts ``python -m bot.cli run`` processes the way an operator would (settings from the
environment), against the real PostgreSQL, a loopback feed server and the Bot API emulator with its
flood limits on; it kills or stops them with signals and checks what the world saw. These are about
several processes, which SQLite does not serve, so they run on PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, insert, select

from news.models import DigestPage
from storage import deliveries as outbox
from storage import feeds as feed_store
from storage.db import Database
from storage.schema import Base, Chat, Delivery, Feed, StoredUpdate
from tests.bot import processes
from tests.emulator import AsyncRemoteEmulator, BotAPIEmulator
from tests.emulator.faults import RateLimits
from tests.feedserver import FeedServer
from tests.pgcluster import free_port

ROOT = Path(__file__).resolve().parents[2]
RSS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>مصدر {n}</title>'
    "<link>https://example.org/{n}</link><item><title>خبر رقم {n} عن الاقتصاد والأسواق</title>"
    "<link>https://example.org/{n}/a</link><guid>https://example.org/{n}/a</guid>"
    "<description>تفاصيل الخبر رقم {n} حول الأسواق العربية</description>"
    "<pubDate>Sun, 06 Dec 2026 07:00:00 GMT</pubDate></item></channel></rss>"
)


@pytest.fixture
def pg(pg_url: str) -> str:
    """The session's PostgreSQL database, emptied."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with psycopg.connect(pg_url) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return pg_url


class Proc:
    """One ``nashra run`` process with a /healthz + /metrics port; its log goes to a file."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int, log: Path) -> None:
        self.proc, self.port, self.log = proc, port, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def healthy(self, within: float = 40.0) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                assert self.proc.returncode is None, self.log.read_text()[-3000:]
                try:
                    if (await client.get(f"{self.url}/healthz", timeout=2)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"not healthy in {within} s:\n{self.log.read_text()[-3000:]}")

    async def metrics(self) -> dict[str, float]:
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"{self.url}/metrics", timeout=5)).text
        return {
            s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples if not s.labels
        }

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 40)

    async def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()


@pytest.fixture
async def spawn(tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    procs: list[Proc] = []

    async def start(role: str, db_url: str, *extra: str, **env: str) -> Proc:
        port = free_port()
        log = tmp_path / f"{role}-{len(procs)}.log"
        full_env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PTB_TIMEDELTA": "1",
            "DATABASE_URL": db_url,
            "LOG_LEVEL": "INFO",
            **env,
        }
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "--env-file", os.devnull,
                "run", "--role", role, "--listen", f"127.0.0.1:{port}", *extra,
                cwd=ROOT, env=full_env, stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        p = Proc(proc, port, log)
        procs.append(p)
        return p

    try:
        yield start
    finally:
        for p in procs:
            if p.proc.returncode is None:
                p.proc.kill()
                await p.proc.wait()


async def _count(db_url: str, query: object) -> int:
    db = Database(db_url)
    try:
        async with db.session() as s:
            return int(await s.scalar(query) or 0)  # type: ignore[call-overload]
    finally:
        await db.dispose()


async def _wait(predicate: Callable[[], object], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await predicate():  # type: ignore[misc]
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {within} s waiting for {what}")


# --- ingest --------------------------------------------------------------------------------------------


async def test_two_ingest_processes_fetch_every_feed_once_per_due_time(
    pg: str, spawn: Callable[..., object], feed_server: FeedServer
) -> None:
    env = {
        "FETCH_ALLOW_PRIVATE_NETWORKS": "true",
        "INGEST_TICK_SECONDS": "0.3",
        "FETCH_INTERVAL_MINUTES": "60",
    }
    workers = [await spawn("ingest", pg, **env) for _ in range(2)]  # type: ignore[operator]
    for w in workers:
        await w.healthy()
    before = [await w.metrics() for w in workers]
    # Added only once both are up and polling, with a little latency per feed, so both take a share.
    urls = [
        feed_server.route(
            f"/f/{n}.xml", body=RSS.format(n=n), content_type="application/rss+xml", delay_s=0.05
        )
        for n in range(200)
    ]
    db = Database(pg)
    try:
        async with db.session() as s, s.begin():
            for url in urls:
                await feed_store.add_feed(s, url, now=datetime.now(UTC) - timedelta(seconds=1))
    finally:
        await db.dispose()

    fetched = select(func.count()).select_from(Feed).where(Feed.last_ok_at.is_not(None))
    await _wait(lambda: _count_is(pg, fetched, 200), 90, "200 fetched feeds")
    await asyncio.sleep(2.0)  # several more ticks of both workers: nothing may be fetched again
    after = [await w.metrics() for w in workers]
    for w in workers:
        assert await w.stop() == 0, w.log.read_text()[-3000:]

    per_path = Counter(r.path for r in feed_server.requests if r.path.startswith("/f/"))
    assert len(per_path) == 200 and set(per_path.values()) == {1}  # every feed, once
    shares = [
        a.get("nashra_articles_ingested_total", 0) - b.get("nashra_articles_ingested_total", 0)
        for a, b in zip(after, before, strict=True)
    ]
    assert sum(shares) == 200 and min(shares) > 0, shares  # both worked, and together did it all once
    assert await _count(pg, select(func.count()).select_from(Feed).where(Feed.claimed_by.is_not(None))) == 0


# --- delivery ------------------------------------------------------------------------------------------

# Telegram's windows run twice as fast on the emulator's clock. Faster would shorten the tests but also
# multiply the machine's own jitter against the room the send rate leaves below Telegram's limit (25 of
# 30 a second: at 3x, an emulator that stalled ~70 ms and then took the requests queued meanwhile at once
# saw 31 in a window on a loaded machine), and these tests allow no 429 at all.
SPEEDUP = 2.0
CHATS = 450
PAGES = 3


@pytest.fixture
def emulator() -> Iterator[BotAPIEmulator]:
    with BotAPIEmulator() as emu:
        emu.enable_rate_limits(RateLimits(speedup=SPEEDUP, integer_retry_after=False))
        yield emu


async def _seed_outbox(db_url: str, telegram_ids: list[int]) -> None:
    db = Database(db_url)
    now = datetime.now(UTC) - timedelta(seconds=1)
    try:
        async with db.session() as s, s.begin():
            await s.execute(
                insert(Chat), [{"telegram_id": t, "type": "private", "timezone": "UTC"} for t in telegram_ids]
            )
            pks = dict((await s.execute(select(Chat.telegram_id, Chat.id))).all())
        async with db.session() as s, s.begin():
            for t in telegram_ids:
                pages = [DigestPage(index=p, html=f"{t}:{p}") for p in range(PAGES)]
                await outbox.enqueue_pages(s, pks[t], "daily:2026-12-06T07:00", pages, now=now)
    finally:
        await db.dispose()


@pytest.fixture
async def emulator_process() -> AsyncIterator[tuple[str, str]]:
    """The emulator in its own process, as in the crash test: its clock is not slowed by this one."""
    async with processes.emulator_process(SPEEDUP) as emu:
        yield emu


async def test_three_delivery_processes_share_the_outbox_within_limits_and_survive_a_kill(
    pg: str, spawn: Callable[..., object], emulator_process: tuple[str, str]
) -> None:
    emu_url, token = emulator_process
    async with AsyncRemoteEmulator(emu_url) as remote:
        await remote.enable_rate_limits(speedup=SPEEDUP, integer_retry_after=False)
        ids = [u["id"] for u in await remote.create_users(count=CHATS)]
        await _seed_outbox(pg, ids)
        env = {
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_URL": emu_url,
            "DELIVERY_LEASE_SECONDS": "24",  # 12 s on the emulator's clock
        }
        workers = [await spawn("deliver", pg, "--speedup", str(SPEEDUP), **env) for _ in range(3)]  # type: ignore[operator]
        for w in workers:
            await w.healthy()
        total = CHATS * PAGES

        async def a_third_sent() -> bool:
            return int((await remote.state())["counters"].get("messages_sent", 0)) >= total // 3

        await _wait(a_third_sent, 60, "a third of the pages")
        victim = workers[0]
        await victim.kill()
        in_flight = set(await _rows(pg, select(Delivery.text).where(Delivery.status == "sending")))
        sent_count = select(func.count()).select_from(Delivery).where(Delivery.status == "sent")
        await _wait(lambda: _count_is(pg, sent_count, total), 90, "every page sent")
        survivors_metrics = [await w.metrics() for w in workers[1:]]
        for w in workers[1:]:
            assert await w.stop() == 0, w.log.read_text()[-3000:]
        every_call = await remote.calls()
        calls = [c for c in every_call if c["method"] == "sendMessage" and c["ok"]]
        hits = (await remote.state())["rate_limit_hits"]

    arrived = Counter(c["params"]["text"] for c in calls)
    assert set(arrived) == {f"{t}:{p}" for t in ids for p in range(PAGES)}  # zero lost
    repeated = {t for t, n in arrived.items() if n > 1}
    # The Bot API has no idempotency key: only what the killed worker had in flight can arrive twice.
    assert repeated <= in_flight and all(arrived[t] == 2 for t in repeated)
    assert len(repeated) <= 16
    assert hits == 0, _floods(every_call)  # the overall and per-chat limits held across the processes
    assert sum(m.get("nashra_messages_sent_total", 0) for m in survivors_metrics) > 0
    assert await _rows(pg, select(Delivery.id).where(Delivery.status == "sending")) == []


async def test_an_updates_process_joining_a_broadcast_shares_the_rate_and_answers_every_reader(
    pg: str, spawn: Callable[..., object], emulator_process: tuple[str, str]
) -> None:
    """Replies count against Telegram's limits as digest pages do: an ``updates`` process answering a
    burst of readers while a ``deliver`` process broadcasts takes a share of the overall rate, and takes
    only a little of it before the delivery process has counted it."""
    emu_url, token = emulator_process
    async with AsyncRemoteEmulator(emu_url) as remote:
        await remote.enable_rate_limits(speedup=SPEEDUP, integer_retry_after=False)
        subscribers = [u["id"] for u in await remote.create_users(count=400)]
        await _seed_outbox(pg, subscribers)
        env = {
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_URL": emu_url,
            "SEND_SPEEDUP": str(SPEEDUP),  # both roles' budgets on the emulator's clock
            "POLL_TIMEOUT_SECONDS": "1",
        }
        deliver = await spawn("deliver", pg, **env)  # type: ignore[operator]
        await deliver.healthy()

        async def broadcasting() -> bool:
            return int((await remote.state())["counters"].get("messages_sent", 0)) >= 100

        await _wait(broadcasting, 30, "the broadcast to start")
        updates = await spawn("updates", pg, **env)  # type: ignore[operator]
        await updates.healthy()
        await remote.wait_until_polling(timeout=20)
        readers = [u["id"] for u in await remote.create_users(count=200)]
        await remote.send_commands(users=readers, command="start")
        sent_count = select(func.count()).select_from(Delivery).where(Delivery.status == "sent")
        await _wait(lambda: _count_is(pg, sent_count, len(subscribers) * PAGES), 90, "every page sent")

        async def all_answered() -> bool:
            calls = await remote.calls()
            sent = [c for c in calls if c["method"] == "sendMessage" and c["ok"]]
            answered = {int(c["params"]["chat_id"]) for c in sent}
            return answered >= set(readers)

        await _wait(all_answered, 60, "every reader answered")
        for p in (deliver, updates):
            assert await p.stop() == 0, p.log.read_text()[-3000:]
        every_call = await remote.calls()
        calls = [c for c in every_call if c["method"] == "sendMessage" and c["ok"]]
        hits = (await remote.state())["rate_limit_hits"]
    reader_ids = set(readers)
    to_readers = [int(c["params"]["chat_id"]) in reader_ids for c in calls]
    first_answer = to_readers.index(True)
    last_page = max(i for i, to_reader in enumerate(to_readers) if not to_reader)
    assert first_answer < last_page  # the readers were answered while the broadcast was going out
    assert hits == 0, _floods(every_call)  # the two processes together stayed within the overall limit


def _floods(calls: list[dict[str, Any]]) -> str:
    """What each 429 met: the sends the emulator had accepted in the window before it, overall and to its
    chat, so that a failure says which limit gave and whether the sends were bunched."""
    ok = [c for c in calls if c["ok"] and c["method"] == "sendMessage"]
    lines = []
    for c in (c for c in calls if c["error_code"] == 429):
        at = float(c["at"])
        recent = sum(1 for o in ok if at - 1 / SPEEDUP < float(o["at"]) <= at)
        same_chat = [float(o["at"]) for o in ok if o["chat_id"] == c["chat_id"] and float(o["at"]) <= at]
        gap = f"{at - same_chat[-1]:.3f} s" if same_chat else "none"
        lines.append(f"429 at {at:.3f}, chat {c['chat_id']}: {recent} sends in its window, last to it {gap}")
    return "\n".join(lines[:20])


async def _count_is(db_url: str, query: object, expected: int) -> bool:
    return await _count(db_url, query) == expected


async def _rows(db_url: str, query: object) -> list[object]:
    db = Database(db_url)
    try:
        async with db.session() as s:
            return list(await s.scalars(query))  # type: ignore[call-overload]
    finally:
        await db.dispose()


# --- failover of the poller ----------------------------------------------------------------------------


async def test_when_the_polling_process_dies_the_other_answers_start_within_30_seconds(
    pg: str, spawn: Callable[..., object], emulator: BotAPIEmulator
) -> None:
    env = {"TELEGRAM_BOT_TOKEN": emulator.token, "TELEGRAM_API_URL": emulator.url}
    first = await spawn("all", pg, **env)  # type: ignore[operator]
    await first.healthy()
    await _wait(lambda: _metric_is(first, "nashra_lock_held", {"lock": "poller"}, 1), 20, "the first to poll")
    second = await spawn("all", pg, **env)  # type: ignore[operator]
    await second.healthy()
    assert await _metric_is(second, "nashra_lock_held", {"lock": "poller"}, 0)  # on standby

    user = emulator.create_user("سارة", language_code="ar")
    chat = emulator.create_private_chat(user)
    emulator.send_command(chat, user, "start")
    await emulator.wait_for_sent_async(chat, count=1, timeout=20)
    polls_before_kill = len(emulator.calls_to("getUpdates"))
    # The first /start is marked handled before the kill: an update killed mid-handling holds its chat's
    # later updates until the inbox lease (UPDATE_LEASE_SECONDS) lapses, which is the inbox's contract,
    # not the poller's failover measured here.
    handled = select(func.count()).select_from(StoredUpdate).where(StoredUpdate.done_at.is_not(None))
    await _wait(lambda: _count_is(pg, handled, 1), 10, "the first /start marked handled")

    await first.kill()
    killed_at = time.monotonic()
    emulator.send_command(chat, user, "start")
    await emulator.wait_for_sent_async(chat, count=2, timeout=30)
    assert time.monotonic() - killed_at < 30
    assert await _metric_is(second, "nashra_lock_held", {"lock": "poller"}, 1)
    assert polls_before_kill > 0
    assert await second.stop() == 0, second.log.read_text()[-3000:]
    assert emulator.counters.get("errors.409", 0) == 0  # never two getUpdates consumers at once


async def _metric_is(p: Proc, name: str, labels: dict[str, str], value: float) -> bool:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{p.url}/metrics", timeout=5)).text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value == value
    return False
