"""One ingestion pass: due feeds → fetch → parse → clean → enrich → store → cluster into stories.

Fetches run concurrently (the fetcher enforces global and per-host limits); the Arabic work (parse, clean,
and for new articles only: classify, summarize, sign) runs in ``jobs.feedwork``, on a worker thread or,
when a core is spare, in worker processes. Storing runs one feed at a time under a lock, in
the order the feeds were claimed, because story clustering must see every earlier article of the pass
(and in a fixed order, so that where the work ran or which fetch answered first never changes a story),
and SQLite serializes writers anyway. Each feed is its own unit of work: one bad feed never loses
another's articles.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from jobs import metrics
from jobs.enrich import Enricher as Enricher  # re-exported: defined apart for worker processes
from jobs.feedwork import FORK_MIN_FEEDS, FeedWork, WorkerProcesses, spare_cores
from jobs.fetcher import Fetcher, FetchResult
from jobs.outcomes import CLAIM_BATCH
from jobs.outcomes import FeedOutcome as FeedOutcome  # re-exported: defined apart for jobs.unchanged
from jobs.outcomes import IngestSummary as IngestSummary
from jobs.stories import StoryClusterer
from jobs.workers import worker_id
from news.models import Article
from news.schedule import next_check_at
from storage import articles as article_store
from storage import feeds as feed_store
from storage.db import Database
from storage.feeds import FeedInfo

# The Arabic pipeline (feedparser, numpy, the topic model's code) is imported where an article is first
# handled: a pass in which every feed answers 304 never loads it.

log = logging.getLogger(__name__)


class _EachArticle:
    """A per-article enricher (a test's or a caller's callable) behind ``Enricher.many``'s shape."""

    def __init__(self, enrich: Callable[[Article], Article]) -> None:
        self._enrich = enrich

    def many(self, articles: Sequence[Article]) -> list[Article]:
        return [self._enrich(a) for a in articles]


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
        claim_batch: int = CLAIM_BATCH,
        fork: bool | None = None,
    ) -> None:
        """``fork``: whether a pass may fork worker processes for the Arabic work; ``None`` decides per
        pass (a spare core, the built-in enricher, a first batch of ``FORK_MIN_FEEDS`` feeds or more)."""
        if claim_batch < 1 or lease <= timedelta(0):
            raise ValueError("claim_batch and lease must be positive")
        self._db = db
        self._fetcher = fetcher
        self._interval = interval
        self._enricher = enricher
        self._builtin_enricher = enricher is None  # what worker processes started elsewhere build
        self._clusterer = clusterer or StoryClusterer()
        self._store_lock = asyncio.Lock()
        self.owner = owner or worker_id("ingest")
        """Who this ingestor's feed claims belong to; unique per process."""
        self.lease = lease
        self.claim_batch = claim_batch
        self.fork = fork
        self.last_pass_forked = False
        """Whether the last pass ran its Arabic work in worker processes."""

    async def run(
        self,
        now: datetime,
        *,
        include_all: bool = False,
        on_feed: Callable[[FeedOutcome], None] | None = None,
        on_start: Callable[[int], None] | None = None,
        processes: WorkerProcesses | None = None,
    ) -> IngestSummary:
        """One pass over the due feeds (or all enabled feeds); never raises for a single feed's failure.

        Feeds are claimed in batches (``claim_batch``, each under ``lease``) rather than read all at once,
        so several ingest processes on one database share a pass: each fetches what it claimed, no feed
        is fetched by two at once, and the feeds of a worker that dies come back when its lease lapses.
        ``on_start`` gets the number of due feeds, including those other workers will take.
        ``processes``: worker processes the caller started for this pass (and closes); used only with
        the built-in enricher, which is what they build.
        """
        if on_start:
            async with self._db.session() as s:
                on_start(await feed_store.count_due(s, now, include_all=include_all))
        await self._clusterer.warm(self._db, now)
        summary = IngestSummary()

        async def one(feed: FeedInfo, work: FeedWork, turn: asyncio.Event, done: asyncio.Event) -> None:
            try:
                outcome = await self._ingest_feed(feed, now, work, turn)
            except Exception as exc:  # a bug in one feed's handling must not stop the pass
                log.exception("ingesting feed %s failed", feed.url)
                outcome = FeedOutcome(feed.id, feed.url, "failed", error=f"internal error: {exc}")
                await self._release([feed.id])
            except BaseException:  # cancelled: no later feed may wait on this one
                done.set()
                raise
            # The next feed of the batch may store now. A feed that stored nothing (304, an error) still
            # waits for its own turn before passing it on: else the feeds after it could store before
            # the ones before it, and stories would again depend on which fetch answered first.
            await turn.wait()
            done.set()
            summary.add(outcome)
            metrics.FEEDS_FETCHED.labels(outcome=outcome.status).inc()
            metrics.ARTICLES_INGESTED.inc(outcome.new)
            if outcome.status in ("failed", "disabled"):
                metrics.FEED_FAILURES.inc()
            if on_feed:
                on_feed(outcome)

        seen: set[int] = set()
        work: FeedWork | None = None
        self.last_pass_forked = False
        try:
            while True:
                batch = await self._claim(now, include_all=include_all, exclude=seen)
                if not batch:
                    break
                if all(f.id in seen for f in batch):  # due again within the pass (a clock far off)
                    await self._release([f.id for f in batch])
                    break
                seen.update(f.id for f in batch)
                if work is None:
                    given = processes if self._builtin_enricher else None
                    fork = given is not None or self._may_fork(len(batch))
                    work = FeedWork(self._enricher_for_work, fork=fork, processes=given)
                # Feed i stores once feed i-1 is done: stories form in claim order, however fetches end.
                turns = [asyncio.Event() for _ in range(len(batch) + 1)]
                turns[0].set()
                try:
                    await asyncio.gather(*(one(f, work, turns[i], turns[i + 1]) for i, f in enumerate(batch)))
                except BaseException:  # cancelled (shutdown): what was not fetched goes back at once
                    await asyncio.shield(self._release([f.id for f in batch]))
                    raise
        finally:
            if work is not None:
                self.last_pass_forked = work.forked
                await asyncio.shield(work.close())
        return summary

    def _may_fork(self, batch_size: int) -> bool:
        # A caller's own enricher may keep state, so it runs here; an ``Enricher`` is inherited by a fork.
        builtin = self._enricher is None or isinstance(self._enricher, Enricher)
        if self.fork is not None:
            return self.fork and builtin
        return builtin and batch_size >= FORK_MIN_FEEDS and spare_cores() > 0

    def _enricher_for_work(self) -> Enricher:
        enrich = self._enrich()
        return enrich if isinstance(enrich, Enricher) else _EachArticle(enrich)  # type: ignore[return-value]

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

    async def _ingest_feed(
        self, feed: FeedInfo, now: datetime, work: FeedWork, turn: asyncio.Event
    ) -> FeedOutcome:
        """Fetch, parse and clean one feed, enrich what is new, then (at ``turn``) store and cluster it."""
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
        # Parsing, cleaning and enrichment are pure CPU work: they run on FeedWork's workers, so that the
        # bot's handlers, which share this event loop, keep answering during a large ingestion pass.
        # A feed never read before has only new articles (but for what other feeds carry too): its parse
        # and enrichment run as one job, without a round trip through this process in between.
        early: dict[str, tuple[Article, bytes]] = {}
        try:
            args = (result.body, dict(result.headers), result.final_url, feed.outlet)
            if feed.never_read:
                parsed, signed = await work.parse_and_enrich(*args)
                early = {a.canonical_url: (a, sig) for a, sig in signed}
            else:
                parsed = await work.parse(*args)
        except Exception as exc:
            # feedparser's module is imported only for a failure: with worker processes this process
            # never parses a feed, and the import sat on a first pass's path to its first parse job.
            from news.parse import FeedParseError

            if not isinstance(exc, FeedParseError):
                raise
            return await self._failed(feed, now, f"not a valid feed: {exc}", result)
        # Enrichment costs CPU, so only what is new pays for it; it runs before this feed's turn to store,
        # while earlier feeds are being stored.
        async with self._db.session() as s:
            fresh = await article_store.new_articles(s, feed.id, parsed.articles)
        done = {a.canonical_url: early[a.canonical_url] for a in fresh if a.canonical_url in early}
        done.update(
            (a.canonical_url, (a, sig))
            for a, sig in await work.enrich([a for a in fresh if a.canonical_url not in done])
        )

        async def prepare(new: list[Article]) -> list[Article]:
            late = [a for a in new if a.canonical_url not in done]  # not seen as new before: rare
            done.update((a.canonical_url, (a, sig)) for a, sig in await work.enrich(late))
            return [done[a.canonical_url][0] for a in new]

        await turn.wait()
        async with self._store_lock:
            try:
                async with self._db.session() as s, s.begin():
                    stored = await article_store.insert_articles(
                        s, feed.id, parsed.articles, fetched_at=now, prepare=prepare
                    )
                    signatures = {url: sig for url, (_, sig) in done.items()}
                    await self._clusterer.assign(s, stored.inserted, now, signatures=signatures)
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
        skipped = parsed.entries - len(parsed.articles)
        if parsed.warning:
            log.warning("feed %s read despite a problem: %s", feed.url, parsed.warning)
        return FeedOutcome(
            feed.id,
            feed.url,
            "ok",
            new=len(stored.inserted),
            duplicates=stored.duplicates + skipped,
            warning=parsed.warning,
        )

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
