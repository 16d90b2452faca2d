"""A fetch pass that ends at the conditional GETs when every feed answers 304 Not Modified.

The usual pass of ``nashra fetch`` run from cron finds nothing new. ``unchanged_pass`` reads the due
feeds' validators through the bare database driver (``storage.conditional``), sends every conditional
GET through the same ``Fetcher``, and when all of them answer 304 records them and reports, exactly
as ``jobs.ingest.Ingestor.run`` would have, without importing SQLAlchemy, feedparser, numpy or the
topic model. It returns no summary whenever the full pass is needed (a feed with new content, a feed
without validators, a failure, a database the driver path does not open); the answers it got are then
handed to the fetcher (``Fetcher.prime``), so the full pass asks no server twice, and finds the bodies in
hand when it has claimed the feeds.

What it does not do: claim feeds (it reads only unclaimed ones and writes only if they are still
unclaimed), update Prometheus counters (a CLI process serves none), or handle anything but 304s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobs.fetcher import Fetcher
from jobs.outcomes import CLAIM_BATCH, FeedOutcome, IngestSummary
from news.schedule import next_check_at
from storage.conditional import NotModified, due_feeds_readonly, record_not_modified


@dataclass(frozen=True, slots=True)
class Unchanged:
    """What the pass found: its ``summary`` when every due feed answered 304 (``None``: the full pass is
    needed), and how many due feeds did not (``changed``; every due feed when some have no validators;
    ``None`` when the driver path could not read them): how much Arabic work the full pass will have,
    told early so that the caller can start its worker processes first."""

    summary: IngestSummary | None
    changed: int | None


async def unchanged_pass(
    database_url: str,
    fetcher: Fetcher,
    now: datetime,
    *,
    interval: timedelta,
    include_all: bool = False,
    certain: Callable[[int], None] | None = None,
) -> Unchanged:
    """Every due feed's conditional GET; recorded and summed up if all of them answered 304.

    ``certain`` is told, before any GET is sent, how many due feeds have no validators: those cannot
    answer 304, so the full pass will parse them whatever the others answer, and the caller can start
    loading the Arabic pipeline while the GETs are out (over a real network they take longer than the
    load).
    """
    feeds = due_feeds_readonly(database_url, now, include_all=include_all)
    if feeds is None:
        return Unchanged(None, None)
    if certain is not None:
        certain(sum(f.etag is None and f.last_modified is None for f in feeds))
    if any(f.etag is None and f.last_modified is None for f in feeds) and len(feeds) > CLAIM_BATCH:
        # A feed without validators makes a full pass whatever the others answer. Up to a claim batch,
        # its GETs are still sent here: the bodies are in hand when the full pass has claimed the feeds,
        # and the worker processes get feeds to parse at once instead of after GETs sent only then
        # (~0.15 s of a 27-feed first pass on 2 cores). Beyond, the full pass fetches a batch at a time.
        return Unchanged(None, len(feeds))
    results = await asyncio.gather(
        *(fetcher.fetch(f.url, etag=f.etag, last_modified=f.last_modified) for f in feeds)
    )
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
