"""Headline queries for readers: Arabic-aware word search and the latest articles.

``articles.search_text`` holds the light stems of title and summary between single spaces, so
``LIKE '% stem %'`` is a whole-word match that needs no full-text engine and behaves the same on SQLite
and PostgreSQL. This module does not stem anything itself: callers pass stems (``news.arabic``), which
keeps storage free of language rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from storage.schema import ArticleRow


@dataclass(frozen=True, slots=True)
class Headline:
    """One article as a reader's list shows it."""

    article_id: int
    story_id: int | None
    title: str
    url: str
    source: str
    summary: str
    published_at: datetime
    topics: tuple[str, ...]


_COLUMNS = (
    ArticleRow.id,
    ArticleRow.story_id,
    ArticleRow.title,
    ArticleRow.url,
    ArticleRow.source,
    ArticleRow.summary,
    func.coalesce(ArticleRow.published_at, ArticleRow.fetched_at),
    ArticleRow.fetched_at,
    ArticleRow.topics,
)
_NEWEST_FIRST = (func.coalesce(ArticleRow.published_at, ArticleRow.fetched_at).desc(), ArticleRow.id.desc())


def _like_word(column: ColumnElement[str] | InstrumentedAttribute[str], word: str) -> ColumnElement[bool]:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"% {escaped} %", escape="\\")


def _headline(row: Sequence[object]) -> Headline:
    article_id, story_id, title, url, source, summary, when, fetched_at, topics = row
    # SQLite hands the COALESCE back as a naive string/datetime without the column's type decorator;
    # the fetched_at column always comes back aware, so fall back to it when needed.
    published = when if isinstance(when, datetime) and when.tzinfo is not None else fetched_at
    return Headline(
        article_id=int(article_id),  # type: ignore[call-overload]
        story_id=int(story_id) if story_id is not None else None,  # type: ignore[call-overload]
        title=str(title),
        url=str(url),
        source=str(source),
        summary=str(summary),
        published_at=published,  # type: ignore[arg-type]
        topics=tuple(str(topics).split()),
    )


async def search_articles(
    session: AsyncSession, word_readings: Sequence[Sequence[str]], *, limit: int = 10
) -> list[Headline]:
    """Articles containing every query word, newest first.

    ``word_readings`` has one entry per query word: the stems that word may stand for (e.g. «ولبنان» →
    «ولبنان», «لبنان»); an article matches a word when it contains any of its readings, and must match
    every word. An empty query finds nothing.
    """
    groups = [[r for r in readings if r] for readings in word_readings]
    groups = [g for g in groups if g]
    if not groups:
        return []
    conditions = [or_(*(_like_word(ArticleRow.search_text, r) for r in g)) for g in groups]
    rows = await session.execute(
        select(*_COLUMNS).where(and_(*conditions)).order_by(*_NEWEST_FIRST).limit(limit)
    )
    return [_headline(r) for r in rows]


async def recent_articles(
    session: AsyncSession, *, since: datetime, topic_keys: Sequence[str] | None = None, limit: int = 200
) -> list[Headline]:
    """Articles published (and fetched) since ``since``, newest first, optionally only those carrying one
    of ``topic_keys``; an article without a date counts as published when it was fetched.

    ``articles.topics`` is a space-separated list, so it is padded with spaces and searched per key.
    """
    query = select(*_COLUMNS).where(
        ArticleRow.fetched_at >= since, func.coalesce(ArticleRow.published_at, ArticleRow.fetched_at) >= since
    )
    if topic_keys is not None:
        if not topic_keys:
            return []
        padded = literal(" ").concat(ArticleRow.topics).concat(literal(" "))
        query = query.where(or_(*(_like_word(padded, k) for k in topic_keys)))
    rows = await session.execute(query.order_by(*_NEWEST_FIRST).limit(limit))
    return [_headline(r) for r in rows]
