"""``/healthz`` and ``/metrics``: a real aiohttp server on loopback, read with Prometheus's own parser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.web import Health, WebServer
from jobs import metrics
from jobs.fetcher import Fetcher, FetchPolicy
from jobs.ingest import Ingestor
from news.models import DigestPage
from storage import deliveries as outbox
from storage import feeds as feed_store
from storage.db import Database
from storage.schema import Chat
from tests.feedserver import FeedServer

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


@pytest.fixture
async def server(db: Database) -> AsyncIterator[tuple[WebServer, Health]]:
    health = Health("ingest")
    web = WebServer("127.0.0.1", 0, db=db, health=health)
    await web.start()
    try:
        yield web, health
    finally:
        await web.stop()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page; parsing fails loudly on anything malformed."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_healthz_names_each_check_and_fails_when_a_loop_dies(server: tuple[WebServer, Health]) -> None:
    web, health = server
    alive = {"ingest": True}
    health.add("ingest", lambda: alive["ingest"])
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web.port}") as client:
        ok = await client.get("/healthz")
        assert ok.status_code == 200
        assert ok.json() == {"ok": True, "role": "ingest", "database": True, "loops": {"ingest": True}}
        alive["ingest"] = False
        dead = await client.get("/healthz")
        assert dead.status_code == 503
        assert dead.json()["loops"] == {"ingest": False} and dead.json()["database"] is True


async def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: object) -> None:
    db = Database("postgresql://nobody@127.0.0.1:1/none")
    web = WebServer("127.0.0.1", 0, db=db, health=Health("deliver"))
    await web.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web.port}") as client:
            answer = await client.get("/healthz")
        assert answer.status_code == 503 and answer.json()["database"] is False
    finally:
        await web.stop()
        await db.dispose()


async def test_metrics_parse_and_move_when_work_is_done(
    db: Database, server: tuple[WebServer, Health], feed_server: FeedServer
) -> None:
    web, _ = server
    async with db.session() as s, s.begin():
        await feed_store.add_feed(s, feed_server.url("/feeds/bbc.xml"), now=NOW)
        await feed_store.add_feed(s, feed_server.route("/gone.xml", status=500), now=NOW)
        chat = Chat(telegram_id=777, type="private", timezone="Asia/Riyadh")
        s.add(chat)
        await s.flush()
        await outbox.enqueue_pages(s, chat.id, "daily:x", [DigestPage(0, "a"), DigestPage(1, "b")], now=NOW)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web.port}") as client:
        before = samples((await client.get("/metrics")).text)
        async with Fetcher(FetchPolicy(allow_private=True, timeout_s=3)) as fetcher:
            summary = await Ingestor(db, fetcher, interval=timedelta(minutes=15)).run(NOW)
        page = await client.get("/metrics")
    assert page.headers["content-type"].startswith("text/plain")
    after = samples(page.text)
    assert summary.new > 0 and summary.feeds_failed == 1
    ingested = ("nashra_articles_ingested_total", ())
    assert after[ingested] - before.get(ingested, 0.0) == summary.new
    failures = ("nashra_feed_failures_total", ())
    assert after[failures] - before.get(failures, 0.0) == 1
    assert after[("nashra_outbox_depth", (("status", "pending"),))] == 2
    for name in (
        "nashra_messages_sent_total",
        "nashra_messages_failed_total",
        "nashra_messages_rate_limited_total",
        "nashra_digest_lag_seconds_count",
        "nashra_update_handling_seconds_count",
    ):
        assert (name, ()) in after, name
    assert metrics.value("nashra_articles_ingested_total") == after[ingested]
