"""One ingestion pass: due feeds → fetch → parse → clean → enrich → store → cluster into stories.

Fetches run concurrently (the fetcher enforces global and per-host limits); storing runs one feed at a
time under a lock, because story clustering must see every earlier article of the pass, and SQLite
serializes writers anyway. Each feed is its own unit of work: one bad feed never loses another's articles.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from jobs import metrics
from jobs.fetcher import Fetcher, FetchResult
from jobs.outcomes import FeedOutcome as FeedOutcome  # re-exported: defined apart for jobs.unchanged
from jobs.outcomes import IngestSummary as IngestSummary
from jobs.stories import StoryClusterer
from jobs.workers import worker_id
from news.models import Article, ParsedFeed
from news.schedule import next_check_at
from storage import articles as article_store
from storage import feeds as feed_store
from storage.db import Database
from storage.feeds import FeedInfo

# The Arabic pipeline (feedparser, numpy, the topic model's code) is imported where an article is first
# handled: a pass in which every feed answers 304 never loads it.
if TYPE_CHECKING:
    from news.classifier import TopicClassifier

log = logging.getLogger(__name__)


class Enricher:
    """Adds what the digest needs to a cleaned article: built-in topics and a short summary.

    Topics are the classifier's, except that a section naming a desk comes first, in a tag («رياضة»,
    «Economy») or at the head of the URL's path («/sport/…»): the outlet's own filing beats a guess,
    and the classifier's best stays as the second topic. The URL also lets the classifier use an
    outlet's own weights when it was trained on that outlet.
    """

    def __init__(self, classifier: TopicClassifier | None = None, *, summary_budget: int = 300) -> None:
        if classifier is None:
            from news.classifier import TopicClassifier

            classifier = TopicClassifier.load()
        self._classifier = classifier
        self._budget = summary_budget

    def __call__(self, article: Article) -> Article:
        return self.many([article])[0]

    def many(self, articles: Sequence[Article]) -> list[Article]:
        """Every article of one feed at once: the classifier's matrix work is done once per outlet."""
        from news.summary import summarize
        from news.topics import desk_topic, url_sections, with_desk

        predictions = self._classifier.predict_many(
            [(a.title, a.summary, a.body) for a in articles], [a.canonical_url or a.url for a in articles]
        )
        return [
            replace(
                a,
                topics=with_desk(p.topics, desk_topic([*a.categories, *url_sections(a.url)])),
                digest_summary=summarize(a.title, a.body or a.summary, budget=self._budget),
            )
            for a, p in zip(articles, predictions, strict=True)
        ]


def _source_name(feed: FeedInfo, parsed_title: str) -> str:
    return (parsed_title or feed.title or urlsplit(feed.url).hostname or feed.url).strip()[:200]


def _parse_and_clean(feed: FeedInfo, result: FetchResult) -> tuple[ParsedFeed, list[Article]]:
    from news.article import to_article
    from news.parse import parse_feed

    parsed = parse_feed(result.body, result.headers, result.final_url)
    source = _source_name(feed, parsed.title)
    cleaned = (to_article(e, source=source, feed_url=result.final_url) for e in parsed.entries)
    return parsed, [a for a in cleaned if a is not None]


class Ingestor:
    """Runs ingestion passes; built once by the composition root and reused by every tick."""

    def __init__(
        self,
        db: Database,
        fetcher: Fetcher,
        *,
        interval: timedelta,
        enricher: Callable[[Article], Article] | None = None,
        clusterer: StoryClusterer | None = None,
        owner: str | None = None,
        lease: timedelta = timedelta(minutes=5),
        claim_batch: int = 64,
    ) -> None:
        if claim_batch < 1 or lease <= timedelta(0):
            raise ValueError("claim_batch and lease must be positive")
        self._db = db
        self._fetcher = fetcher
        self._interval = interval
        self._enricher = enricher
        self._clusterer = clusterer or StoryClusterer()
        self._store_lock = asyncio.Lock()
        self.owner = owner or worker_id("ingest")
        """Who this ingestor's feed claims belong to; unique per process."""
        self.lease = lease
        self.claim_batch = claim_batch

    async def run(
        self,
        now: datetime,
        *,
        include_all: bool = False,
        on_feed: Callable[[FeedOutcome], None] | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> IngestSummary:
        """One pass over the due feeds (or all enabled feeds); never raises for a single feed's failure.

        Feeds are claimed in batches (``claim_batch``, each under ``lease``) rather than read all at once,
        so several ingest processes on one database share a pass: each fetches what it claimed, no feed
        is fetched by two at once, and the feeds of a worker that dies come back when its lease lapses.
        ``on_start`` gets the number of due feeds, including those other workers will take.
        """
        if on_start:
            async with self._db.session() as s:
                on_start(await feed_store.count_due(s, now, include_all=include_all))
        await self._clusterer.warm(self._db, now)
        summary = IngestSummary()

        async def one(feed: FeedInfo) -> None:
            try:
                outcome = await self.ingest_feed(feed, now)
            except Exception as exc:  # a bug in one feed's handling must not stop the pass
                log.exception("ingesting feed %s failed", feed.url)
                outcome = FeedOutcome(feed.id, feed.url, "failed", error=f"internal error: {exc}")
                await self._release([feed.id])
            summary.add(outcome)
            metrics.FEEDS_FETCHED.labels(outcome=outcome.status).inc()
            metrics.ARTICLES_INGESTED.inc(outcome.new)
            if outcome.status in ("failed", "disabled"):
                metrics.FEED_FAILURES.inc()
            if on_feed:
                on_feed(outcome)

        seen: set[int] = set()
        while True:
            batch = await self._claim(now, include_all=include_all, exclude=seen)
            if not batch:
                break
            if all(f.id in seen for f in batch):  # due again within the pass (a clock far off): next pass
                await self._release([f.id for f in batch])
                break
            seen.update(f.id for f in batch)
            try:
                await asyncio.gather(*(one(f) for f in batch))
            except BaseException:  # cancelled (shutdown): what was not fetched goes back at once
                await asyncio.shield(self._release([f.id for f in batch]))
                raise
        return summary

    async def _claim(self, now: datetime, *, include_all: bool, exclude: set[int]) -> list[FeedInfo]:
        async with self._db.session() as s, s.begin():
            return await feed_store.claim_due_feeds(
                s,
                now,
                owner=self.owner,
                lease_until=now + self.lease,
                limit=self.claim_batch,
                include_all=include_all,
                exclude=exclude if include_all else (),
            )

    async def _release(self, feed_ids: list[int]) -> None:
        try:
            async with self._db.session() as s, s.begin():
                await feed_store.release_claims(s, self.owner, feed_ids)
        except Exception:  # the lease will free them anyway
            log.warning(
                "could not release %d feed claim(s); they return when the lease lapses", len(feed_ids)
            )

    async def ingest_feed(self, feed: FeedInfo, now: datetime) -> FeedOutcome:
        result = await self._fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        if result.outcome == "not_modified":
            async with self._db.session() as s, s.begin():
                await feed_store.record_fetch_ok(
                    s,
                    feed.id,
                    now=now,
                    next_check_at=self._next(now, feed, 0, result.retry_after),
                    etag=result.etag or feed.etag,
                    last_modified=result.last_modified or feed.last_modified,
                )
            return FeedOutcome(feed.id, feed.url, "not_modified")
        if result.outcome != "ok":
            return await self._failed(feed, now, result.error or "fetch failed", result)
        # Parsing, cleaning and enrichment are pure CPU work: they run in a worker thread so that the
        # bot's handlers, which share this event loop, keep answering during a large ingestion pass.
        from news.parse import FeedParseError

        try:
            parsed, candidates = await asyncio.to_thread(_parse_and_clean, feed, result)
        except FeedParseError as exc:
            return await self._failed(feed, now, f"not a valid feed: {exc}", result)
        async with self._store_lock:
            try:
                async with self._db.session() as s, s.begin():
                    # Enrichment costs CPU, so only what is new pays for it, between the lookup of
                    # known articles and the INSERT that then writes each row once.
                    stored = await article_store.insert_articles(
                        s,
                        feed.id,
                        candidates,
                        fetched_at=now,
                        prepare=lambda fresh: asyncio.to_thread(self._enrich_all, fresh),
                    )
                    await self._clusterer.assign(s, stored.inserted, now)
                    await feed_store.record_fetch_ok(
                        s,
                        feed.id,
                        now=now,
                        next_check_at=self._next(now, feed, 0, None),
                        etag=result.etag,
                        last_modified=result.last_modified,
                        title=parsed.title if not feed.title else None,
                        site_url=parsed.link,
                    )
            except BaseException:
                self._clusterer.invalidate()
                raise
        skipped = len(parsed.entries) - len(candidates)
        return FeedOutcome(
            feed.id, feed.url, "ok", new=len(stored.inserted), duplicates=stored.duplicates + skipped
        )

    def _enrich_all(self, articles: list[Article]) -> list[Article]:
        enrich = self._enrich()
        if isinstance(enrich, Enricher):
            return enrich.many(articles)
        return [enrich(a) for a in articles]

    def _enrich(self) -> Callable[[Article], Article]:
        # Built on first use: loading the classifier is wasted work for passes that find nothing new.
        if self._enricher is None:
            self._enricher = Enricher()
        return self._enricher

    def _next(self, now: datetime, feed: FeedInfo, errors: int, retry_after: float | None) -> datetime:
        return next_check_at(now, self._interval, errors, retry_after, seed=feed.id)

    async def _failed(self, feed: FeedInfo, now: datetime, error: str, result: FetchResult) -> FeedOutcome:
        gone = result.outcome == "gone"
        async with self._db.session() as s, s.begin():
            await feed_store.record_fetch_error(
                s,
                feed.id,
                error,
                now=now,
                next_check_at=self._next(now, feed, feed.error_count + 1, result.retry_after),
                disable=gone,
            )
        log.warning("feed %s failed: %s", feed.url, error)
        return FeedOutcome(feed.id, feed.url, "disabled" if gone else "failed", error=error)
