"""Feeds and their fetch schedule."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

# Re-exported: FeedInfo lives apart so that the driver-only listing (storage.listing) needs no SQLAlchemy.
from storage.feedinfo import FeedInfo as FeedInfo
from storage.schema import ArticleRow, Feed


class FeedExistsError(ValueError):
    """The URL is already subscribed."""


def _info(row: Feed, article_count: int = 0) -> FeedInfo:
    return FeedInfo(
        id=row.id,
        url=row.url,
        title=row.title,
        site_url=row.site_url,
        etag=row.etag,
        last_modified=row.last_modified,
        next_check_at=row.next_check_at,
        last_checked_at=row.last_checked_at,
        last_ok_at=row.last_ok_at,
        error_count=row.error_count,
        last_error=row.last_error,
        disabled=row.disabled,
        disabled_reason=row.disabled_reason,
        article_count=article_count,
    )


async def add_feed(session: AsyncSession, url: str, *, title: str = "", now: datetime) -> FeedInfo:
    """Subscribe ``url``; raises ``FeedExistsError`` when it is already there."""
    existing = await session.scalar(select(Feed).where(Feed.url == url))
    if existing is not None:
        raise FeedExistsError(f"feed already added as #{existing.id}: {url}")
    row = Feed(url=url, title=title, next_check_at=now, created_at=now)
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent add of the same URL
        raise FeedExistsError(f"feed already added: {url}") from exc
    return _info(row)


async def count_feeds(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Feed)) or 0)


async def list_feeds(session: AsyncSession) -> list[FeedInfo]:
    counts = select(ArticleRow.feed_id, func.count().label("n")).group_by(ArticleRow.feed_id).subquery()
    rows = await session.execute(
        select(Feed, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.feed_id == Feed.id)
        .order_by(Feed.id)
    )
    return [_info(feed, int(n)) for feed, n in rows]


async def get_feed(session: AsyncSession, feed_id: int) -> FeedInfo | None:
    row = await session.get(Feed, feed_id)
    return _info(row) if row else None


async def remove_feed(session: AsyncSession, feed_id: int) -> bool:
    """Remove a feed; its stored articles stay (they may already be in stories and digests)."""
    result = await session.execute(delete(Feed).where(Feed.id == feed_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def due_feeds(session: AsyncSession, now: datetime, *, include_all: bool = False) -> list[FeedInfo]:
    """Feeds whose next check has come (or every enabled feed), oldest first."""
    query = select(Feed).where(Feed.disabled.is_(False)).order_by(Feed.next_check_at, Feed.id)
    if not include_all:
        query = query.where(Feed.next_check_at <= now)
    return [_info(r) for r in (await session.scalars(query)).all()]


async def count_due(session: AsyncSession, now: datetime, *, include_all: bool = False) -> int:
    """How many enabled feeds are due (or enabled at all), claimed or not: a pass's expected size."""
    query = select(func.count()).select_from(Feed).where(Feed.disabled.is_(False))
    if not include_all:
        query = query.where(Feed.next_check_at <= now)
    return int(await session.scalar(query) or 0)


async def claim_due_feeds(
    session: AsyncSession,
    now: datetime,
    *,
    owner: str,
    lease_until: datetime,
    limit: int,
    include_all: bool = False,
    exclude: Collection[int] = (),
) -> list[FeedInfo]:
    """Claim up to ``limit`` due, unclaimed feeds for ``owner`` until ``lease_until``, oldest due first.

    A feed is claimable when no live claim holds it: never claimed, released by ``record_fetch_*``, or
    its lease lapsed (the worker died mid-fetch: its feeds come back to the others). On PostgreSQL the
    candidate rows are locked ``FOR UPDATE SKIP LOCKED`` so concurrent workers take disjoint batches
    without waiting on each other; SQLite has one writer at a time and needs no row locks. The caller
    commits at once: the claim is its own short transaction, the fetch happens outside it.

    ``exclude`` leaves out feeds this pass already handled (``include_all`` passes find them again).
    """
    candidates = (
        select(Feed.id)
        .where(
            Feed.disabled.is_(False),
            or_(Feed.claim_expires_at.is_(None), Feed.claim_expires_at < now),
        )
        .order_by(Feed.next_check_at, Feed.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if not include_all:
        candidates = candidates.where(Feed.next_check_at <= now)
    if exclude:
        candidates = candidates.where(Feed.id.not_in(list(exclude)))
    ids = list((await session.scalars(candidates)).all())
    if not ids:
        return []
    await session.execute(
        update(Feed)
        .where(Feed.id.in_(ids))
        .values(claimed_by=owner, claim_expires_at=lease_until)
        .execution_options(synchronize_session=False)
    )
    rows = await session.scalars(
        select(Feed)
        .where(Feed.id.in_(ids))
        .order_by(Feed.next_check_at, Feed.id)
        .execution_options(populate_existing=True)
    )
    return [_info(r) for r in rows.all()]


async def release_claims(session: AsyncSession, owner: str, feed_ids: Collection[int]) -> None:
    """Give back claims not worked on (a pass stopped early), so other workers need not wait for the lease."""
    if feed_ids:
        await session.execute(
            update(Feed)
            .where(Feed.id.in_(list(feed_ids)), Feed.claimed_by == owner)
            .values(claimed_by=None, claim_expires_at=None)
        )


async def record_fetch_ok(
    session: AsyncSession,
    feed_id: int,
    *,
    now: datetime,
    next_check_at: datetime,
    etag: str | None,
    last_modified: str | None,
    title: str | None = None,
    site_url: str | None = None,
) -> None:
    """A successful fetch (200 or 304): validators kept, error state cleared."""
    values: dict[str, object] = {
        "etag": etag,
        "last_modified": last_modified,
        "last_checked_at": now,
        "last_ok_at": now,
        "next_check_at": next_check_at,
        "error_count": 0,
        "last_error": None,
        "claimed_by": None,
        "claim_expires_at": None,
    }
    if title:
        values["title"] = title[:512]
    if site_url:
        values["site_url"] = site_url[:2048]
    await session.execute(update(Feed).where(Feed.id == feed_id).values(**values))


async def record_fetch_error(
    session: AsyncSession,
    feed_id: int,
    error: str,
    *,
    now: datetime,
    next_check_at: datetime,
    disable: bool = False,
) -> None:
    """A failed fetch: count it, keep the message for operators, maybe disable (HTTP 410)."""
    values: dict[str, object] = {
        "error_count": Feed.error_count + 1,
        "last_error": error[:2000],
        "last_checked_at": now,
        "next_check_at": next_check_at,
        "claimed_by": None,
        "claim_expires_at": None,
    }
    if disable:
        values["disabled"] = True
        values["disabled_reason"] = error[:2000]
    await session.execute(update(Feed).where(Feed.id == feed_id).values(**values))


async def enable_feed(session: AsyncSession, feed_id: int, *, now: datetime) -> bool:
    result = await session.execute(
        update(Feed)
        .where(Feed.id == feed_id)
        .values(disabled=False, disabled_reason=None, error_count=0, next_check_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def outlet_names(session: AsyncSession, since: datetime) -> list[str]:
    """Names of the outlets behind enabled feeds, as articles carry them (what a chat can mute).

    Read from the articles since ``since`` rather than from feed titles: an article's ``source`` is the
    title the feed itself gives, which an OPML import may have named differently.
    """
    rows = await session.scalars(
        select(ArticleRow.source)
        .join(Feed, Feed.id == ArticleRow.feed_id)
        .where(Feed.disabled.is_(False), ArticleRow.fetched_at >= since, ArticleRow.source != "")
        .distinct()
    )
    return sorted(set(rows))
