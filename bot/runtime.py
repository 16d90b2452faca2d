"""Builds the long-lived services (database, fetcher, ingestor) from settings, for the CLI and the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.settings import Settings
from jobs.fetcher import Fetcher, FetchPolicy
from jobs.ingest import Ingestor
from storage.db import Database
from storage.migrate import upgrade

DEFAULT_FEEDS = "data/default_feeds.opml"


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    fetcher: Fetcher
    ingestor: Ingestor


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        timeout_s=settings.fetch_timeout_seconds,
        max_bytes=settings.fetch_max_bytes,
        max_redirects=settings.fetch_max_redirects,
        per_host=settings.fetch_per_host,
        concurrency=settings.fetch_concurrency,
        allow_private=settings.fetch_allow_private_networks,
    )


async def start_services(settings: Settings, *, migrate: bool = True) -> Services:
    if migrate:
        upgrade(settings.database_url)
    db = Database(settings.database_url)
    fetcher = Fetcher(fetch_policy(settings))
    ingestor = Ingestor(
        db,
        fetcher,
        interval=timedelta(minutes=settings.fetch_interval_minutes),
        lease=timedelta(seconds=settings.ingest_lease_seconds),
    )
    return Services(settings, db, fetcher, ingestor)


async def seed_default_feeds(svc: Services) -> int:
    """Load the bundled Arabic outlets into a database with no feeds (first ``nashra run``)."""
    from importlib import resources

    from news.opml import parse_opml
    from storage import feeds as feed_store

    async with svc.db.session() as s, s.begin():
        if await feed_store.count_feeds(s):
            return 0
        now = datetime.now(UTC)
        data = resources.files("bot").joinpath(DEFAULT_FEEDS).read_bytes()
        added = 0
        for f in parse_opml(data):
            await feed_store.add_feed(s, f.url, title=f.title, now=now)
            added += 1
    return added


async def stop_services(services: Services) -> None:
    await services.fetcher.aclose()
    await services.db.dispose()


@asynccontextmanager
async def services(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Services]:
    svc = await start_services(settings, migrate=migrate)
    try:
        yield svc
    finally:
        await stop_services(svc)
