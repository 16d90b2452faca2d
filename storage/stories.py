"""Stories: one event told by one or more articles, possibly from several outlets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from news.models import DigestStory, StoryArticle, StorySource
from storage.schema import Story, UTCDateTime, articles_table, stories_table


@dataclass(frozen=True, slots=True)
class IndexedArticle:
    """What the story index needs to be rebuilt after a restart."""

    article_id: int
    story_id: int
    signature: bytes
    at: datetime
    source: str


def _merge_topics(old: str, new: Iterable[str]) -> str:
    merged = dict.fromkeys(old.split())
    merged.update(dict.fromkeys(new))
    return " ".join(k for k in merged if k)


async def create_story(session: AsyncSession, article_id: int, *, topics: Iterable[str], at: datetime) -> int:
    """A new story whose first article is ``article_id`` (the caller records the article's story id)."""
    t = stories_table
    story_id = await session.scalar(
        insert(t)
        .values(
            representative_id=article_id,
            first_seen_at=at,
            last_seen_at=at,
            article_count=1,
            source_count=1,
            topics=_merge_topics("", topics),
        )
        .returning(t.c.id)
    )
    assert story_id is not None
    return int(story_id)


async def create_stories(
    session: AsyncSession, firsts: Sequence[tuple[int, Iterable[str]]], *, at: datetime
) -> list[int]:
    """New stories for ``(first article id, topics)`` pairs, in one statement; ids in input order.

    ``create_story`` once per new story cost one round trip each, ~1,100 of them in a pass over 27
    feeds. SQLAlchemy's insertmanyvalues batches the rows; the ids are matched to the input by the
    first article's id, which RETURNING gives back beside each story's: asking SQLAlchemy to sort the
    rows instead (``sort_by_parameter_order``) made it fall back to one INSERT per row on SQLite, which
    promises no order for RETURNING.
    """
    if not firsts:
        return []
    t = stories_table
    rows = [
        {
            "representative_id": article_id,
            "first_seen_at": at,
            "last_seen_at": at,
            "article_count": 1,
            "source_count": 1,
            "topics": _merge_topics("", topics),
        }
        for article_id, topics in firsts
    ]
    if len({article_id for article_id, _ in firsts}) != len(rows):
        raise ValueError("two new stories share their first article")
    result = await session.execute(insert(t).returning(t.c.representative_id, t.c.id), rows)
    story_of = {int(first): int(story_id) for first, story_id in result}
    return [story_of[article_id] for article_id, _ in firsts]


async def refresh_stories(
    session: AsyncSession, joined: Mapping[int, Iterable[str]], *, at: datetime
) -> None:
    """Stories that gained articles (``story_id → topics of the new articles``): recount their articles
    and outlets, widen their topics, move ``last_seen_at`` (ingestion passes run in time order). One
    aggregate read and one batched write, however many articles joined."""
    if not joined:
        return
    ids = sorted(joined)
    a, st = articles_table, stories_table
    counts = {
        sid: (int(n), int(sources))
        for sid, n, sources in await session.execute(
            select(a.c.story_id, func.count(), func.count(func.distinct(a.c.source)))
            .where(a.c.story_id.in_(ids))
            .group_by(a.c.story_id)
        )
    }
    topics = dict((await session.execute(select(st.c.id, st.c.topics).where(st.c.id.in_(ids)))).all())
    rows = [
        {
            "sid": sid,
            "n": counts.get(sid, (1, 1))[0],
            "src": max(1, counts.get(sid, (1, 1))[1]),
            "tp": _merge_topics(topics.get(sid, ""), joined[sid]),
            "at": at,
        }
        for sid in ids
        if sid in topics
    ]
    await session.execute(
        update(st)
        .where(st.c.id == bindparam("sid"))
        .values(
            article_count=bindparam("n"),
            source_count=bindparam("src"),
            topics=bindparam("tp"),
            last_seen_at=bindparam("at", type_=UTCDateTime),
        ),
        rows,
    )


async def recent_signatures(session: AsyncSession, since: datetime) -> list[IndexedArticle]:
    """The window's stored signatures, to rebuild the in-memory story index after a restart."""
    a = articles_table
    rows = await session.execute(
        select(a.c.id, a.c.story_id, a.c.minhash, a.c.fetched_at, a.c.source)
        .where(a.c.fetched_at >= since, a.c.minhash.is_not(None), a.c.story_id.is_not(None))
        .order_by(a.c.id)
    )
    return [IndexedArticle(int(i), int(s), bytes(m), at, src) for i, s, m, at, src in rows]


async def article_texts(session: AsyncSession, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """``id → (title, body or summary)``: only for articles whose stored signature must be recomputed."""
    a = articles_table
    out: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(a.c.id, a.c.title, func.coalesce(func.nullif(a.c.body, ""), a.c.summary)).where(
                a.c.id.in_(ids[start : start + 500])
            )
        )
        out.update({int(i): (t, x) for i, t, x in rows})
    return out


async def stories_since(session: AsyncSession, since: datetime, *, limit: int = 5000) -> list[DigestStory]:
    """Stories seen since ``since`` with their representative article and other outlets' versions."""
    stories = (
        await session.scalars(
            select(Story).where(Story.last_seen_at >= since).order_by(Story.last_seen_at.desc()).limit(limit)
        )
    ).all()
    return await _digest_stories(session, stories)


async def stories_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[DigestStory]:
    """These stories as the digest shows them (an alert shows the same fields), in ``ids`` order."""
    rows = {s.id: s for s in (await session.scalars(select(Story).where(Story.id.in_(ids)))).all()}
    return await _digest_stories(session, [rows[i] for i in ids if i in rows])


async def _digest_stories(session: AsyncSession, stories: Sequence[Story]) -> list[DigestStory]:
    if not stories:
        return []
    # Only the columns a digest shows: bodies are large, and this runs for every digest tick.
    a = articles_table
    columns = (
        a.c.id,
        a.c.story_id,
        a.c.source,
        a.c.url,
        a.c.title,
        a.c.digest_summary,
        func.substr(a.c.summary, 1, 300).label("summary"),
        a.c.published_at,
        a.c.fetched_at,
    )
    by_story: dict[int, list[Any]] = defaultdict(list)
    ids = [s.id for s in stories]
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for row in await session.execute(select(*columns).where(a.c.story_id.in_(chunk)).order_by(a.c.id)):
            by_story[row.story_id].append(row)
    result: list[DigestStory] = []
    for story in stories:
        articles = by_story.get(story.id)
        if not articles:
            continue
        rep = next((a for a in articles if a.id == story.representative_id), articles[0])
        others: list[StorySource] = []
        seen = {rep.source}
        for art in articles:
            if art.source not in seen:
                seen.add(art.source)
                others.append(StorySource(source=art.source, url=art.url, title=art.title))
        result.append(
            DigestStory(
                story_id=story.id,
                title=rep.title,
                url=rep.url,
                summary=rep.digest_summary or rep.summary,
                source=rep.source,
                published_at=rep.published_at or rep.fetched_at,
                topics=tuple(story.topics.split()),
                other_sources=tuple(others),
                articles=tuple(
                    StoryArticle(
                        article_id=art.id,
                        source=art.source,
                        url=art.url,
                        title=art.title,
                        summary=art.digest_summary or art.summary,
                        published_at=art.published_at or art.fetched_at,
                    )
                    for art in articles
                ),
            )
        )
    return result
