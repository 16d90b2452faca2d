"""Builds the long-lived services (database, fetcher, ingestor) from settings, for the CLI and the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

# SQLAlchemy (``storage.db``) is imported where the database is first opened and pydantic
# (``bot.settings``) by whoever reads the settings: ``nashra fetch`` builds its fetcher from
# ``fetch_policy`` before it knows whether the full pass (the engine, all settings) is needed.
if TYPE_CHECKING:
    from bot.fetchsettings import FetchSettings
    from bot.settings import Settings
    from jobs.fetcher import Fetcher, FetchPolicy
    from jobs.ingest import Ingestor
    from storage.db import Database

DEFAULT_FEEDS = "data/default_feeds.opml"


class IngestSettings(Protocol):
    """What building an ingestor reads: ``Settings``, or ``FetchSettings`` for ``nashra fetch``."""

    @property
    def fetch_interval_minutes(self) -> int: ...
    @property
    def ingest_lease_seconds(self) -> float: ...
    @property
    def ingest_worker_process(self) -> str: ...


def build_ingestor(
    settings: IngestSettings, db: Database, fetcher: Fetcher, *, long_running: bool
) -> Ingestor:
    from jobs.ingest import Ingestor

    interval = timedelta(minutes=settings.fetch_interval_minutes)
    lease = timedelta(seconds=settings.ingest_lease_seconds)
    # auto forks in one-shot commands only: a long-running process has other threads at work (the bot,
    # the database driver, digests) that a fork would copy mid-step, and it scales ingestion with more
    # ``ROLE=ingest`` processes instead.
    fork = {"auto": None if not long_running else False, "on": True, "off": False}[
        settings.ingest_worker_process
    ]
    return Ingestor(db, fetcher, interval=interval, lease=lease, fork=fork)


class Services:
    """The database, and the fetcher and ingestor built on first use.

    ``nashra feeds list`` needs only the database; building the ingestor would import httpx,
    feedparser, numpy and the Arabic pipeline for nothing, so those load when a command first asks.
    """

    __slots__ = ("_fetcher", "_ingestor", "db", "long_running", "settings")

    def __init__(
        self, settings: Settings, db: Database, *, fetcher: Fetcher | None = None, long_running: bool = False
    ) -> None:
        self.settings = settings
        self.db = db
        self.long_running = long_running  # the bot or a worker role, not a one-shot CLI command
        self._fetcher: Fetcher | None = fetcher  # given: owned from now on (closed by ``aclose``)
        self._ingestor: Ingestor | None = None

    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            from jobs.fetcher import Fetcher

            self._fetcher = Fetcher(fetch_policy(self.settings))
        return self._fetcher

    @property
    def ingestor(self) -> Ingestor:
        if self._ingestor is None:
            self._ingestor = build_ingestor(
                self.settings, self.db, self.fetcher, long_running=self.long_running
            )
        return self._ingestor

    async def aclose(self) -> None:
        if self._fetcher is not None:
            await self._fetcher.aclose()
        await self.db.dispose()


def fetch_policy(settings: Settings | FetchSettings) -> FetchPolicy:
    from jobs.fetcher import FetchPolicy

    return FetchPolicy(
        timeout_s=settings.fetch_timeout_seconds,
        max_bytes=settings.fetch_max_bytes,
        max_redirects=settings.fetch_max_redirects,
        per_host=settings.fetch_per_host,
        concurrency=settings.fetch_concurrency,
        allow_private=settings.fetch_allow_private_networks,
    )


def open_database(url: str, *, migrate: bool = True) -> Database:
    """The database at ``url``, brought to the newest schema first unless ``migrate`` is off."""
    from storage.db import Database
    from storage.migrate import upgrade

    if migrate:
        upgrade(url)
    return Database(url)


async def start_services(
    settings: Settings, *, migrate: bool = True, fetcher: Fetcher | None = None, long_running: bool = False
) -> Services:
    db = open_database(settings.database_url, migrate=migrate)
    return Services(settings, db, fetcher=fetcher, long_running=long_running)


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
    await services.aclose()


@asynccontextmanager
async def services(
    settings: Settings, *, migrate: bool = True, fetcher: Fetcher | None = None, long_running: bool = False
) -> AsyncIterator[Services]:
    """``fetcher``: one the caller built already, which the services then own and close."""
    svc = await start_services(settings, migrate=migrate, fetcher=fetcher, long_running=long_running)
    try:
        yield svc
    finally:
        await stop_services(svc)
