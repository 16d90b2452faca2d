"""A fetch pass that ends at the conditional GETs when every feed answers 304 Not Modified.

The usual pass of ``nashra fetch`` run from cron finds nothing new. ``unchanged_pass`` reads the due
feeds' validators through the bare database driver (``storage.conditional``), sends every conditional
GET through the same ``Fetcher``, and when all of them answer 304 records them and reports, exactly
as ``jobs.ingest.Ingestor.run`` would have, without importing SQLAlchemy, feedparser, numpy or the
topic model. It returns no summary whenever the full pass is needed (a feed with new content, a feed
without validators, a failure, a database the driver path does not open); the answers it got are then
handed to the fetcher (``Fetcher.prime``), so the full pass asks no server twice, and finds the bodies in
hand when it has claimed the feeds. When a feed has no validators, the full pass is certain: the GETs are
handed over while still under way, and the full pass begins at once.

What it does not do: claim feeds (it reads only unclaimed ones and writes only if they are still
unclaimed), update Prometheus counters (a CLI process serves none), or handle anything but 304s.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import EllipsisType
from typing import TYPE_CHECKING

from jobs.outcomes import CLAIM_BATCH, FeedOutcome, IngestSummary
from news.schedule import next_check_at
from storage.conditional import NotModified, due_feeds_readonly, record_not_modified
from storage.feedinfo import FeedInfo

if TYPE_CHECKING:
    from jobs.fetcher import Fetcher, FetchResult


@dataclass(frozen=True, slots=True)
class Unchanged:
    """What the pass found: its ``summary`` when every due feed answered 304 (``None``: the full pass is
    needed), and how many due feeds did not (``changed``; every due feed when some have no validators;
    ``None`` when the driver path could not read them): how much Arabic work the full pass will have,
    told early so that the caller can start its worker processes first."""

    summary: IngestSummary | None
    changed: int | None


def _answered(
    on_body: Callable[[FeedInfo, FetchResult], None], feed: FeedInfo, task: asyncio.Future[FetchResult]
) -> None:
    if not task.cancelled() and task.exception() is None and task.result().outcome == "ok":
        on_body(feed, task.result())


def without_validators(feeds: Sequence[FeedInfo]) -> int:
    """How many of ``feeds`` have no validators: those cannot answer 304, so the full pass will parse them
    whatever the others answer. Told before any GET, the caller can start loading the Arabic pipeline
    while the GETs are out (over a real network they take longer than the load)."""
    return sum(f.etag is None and f.last_modified is None for f in feeds)


async def unchanged_pass(
    database_url: str,
    fetcher: Fetcher,
    now: datetime,
    *,
    interval: timedelta,
    include_all: bool = False,
    due: list[FeedInfo] | EllipsisType | None = ...,
    on_body: Callable[[FeedInfo, FetchResult], None] | None = None,
) -> Unchanged:
    """Every due feed's conditional GET; recorded and summed up if all of them answered 304.

    ``due``: the due feeds as ``storage.conditional.due_feeds_readonly`` read them at ``now``, for a
    caller that looked at them first (``without_validators``); by default they are read here.
    ``on_body`` is handed each feed's answer with a body as it arrives, before the other GETs are
    answered: a caller can start parsing it meanwhile.
    """
    feeds = due_feeds_readonly(database_url, now, include_all=include_all) if due is ... else due
    if feeds is None:
        return Unchanged(None, None)

    async def fetch(feed: FeedInfo) -> FetchResult:
        result = await fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        if on_body is not None and result.outcome == "ok":
            on_body(feed, result)
        return result

    if without_validators(feeds):
        # A feed without validators makes a full pass whatever the others answer: there is nothing to
        # wait for here. Up to a claim batch, the GETs are still sent now and handed to the full pass
        # under way: it stores the first feeds while the last are still answering, and ``on_body``
        # has the worker processes parse each body as it arrives (over a real network the answers
        # take longer than loading the pipeline). Beyond, the full pass fetches a batch at a time.
        if len(feeds) <= CLAIM_BATCH:
            for f in feeds:
                task = fetcher.fetch_ahead(f.url, etag=f.etag, last_modified=f.last_modified)
                if on_body is not None:
                    task.add_done_callback(functools.partial(_answered, on_body, f))
        return Unchanged(None, len(feeds))

    results = await asyncio.gather(*map(fetch, feeds))
    records = [
        NotModified(
            f.id,
            r.etag or f.etag,
            r.last_modified or f.last_modified,
            next_check_at(now, interval, 0, r.retry_after, seed=f.id),
        )
        for f, r in zip(feeds, results, strict=True)
    ]
    if any(r.outcome != "not_modified" for r in results) or not record_not_modified(
        database_url, records, now
    ):
        for f, r in zip(feeds, results, strict=True):
            fetcher.prime(r, etag=f.etag, last_modified=f.last_modified)
        return Unchanged(None, sum(r.outcome != "not_modified" for r in results))
    summary = IngestSummary()
    for f in feeds:
        summary.add(FeedOutcome(f.id, f.url, "not_modified"))
    return Unchanged(summary, 0)
