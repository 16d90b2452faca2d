"""Articles: insert-if-new, reporting only the rows actually inserted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import LargeBinary, bindparam, func, literal, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from news.arabic import search_stems
from news.models import Article
from storage.schema import ArticleRow, articles_table


@dataclass(frozen=True, slots=True)
class StoredArticle:
    id: int
    feed_id: int | None
    article: Article


@dataclass(frozen=True, slots=True)
class InsertResult:
    inserted: list[StoredArticle]
    duplicates: int


def _dedup_batch(articles: Sequence[Article]) -> tuple[list[Article], int]:
    """Drop repeats inside one batch (a feed listing one item twice) before touching the database."""
    seen_urls: set[str] = set()
    seen_guids: set[str] = set()
    seen_prints: set[str] = set()
    unique: list[Article] = []
    for a in articles:
        if (
            a.canonical_url in seen_urls
            or (a.guid and a.guid in seen_guids)
            or (a.fingerprint and a.fingerprint in seen_prints)
        ):
            continue
        seen_urls.add(a.canonical_url)
        if a.guid:
            seen_guids.add(a.guid)
        if a.fingerprint:
            seen_prints.add(a.fingerprint)
        unique.append(a)
    return unique, len(articles) - len(unique)


async def _known(session: AsyncSession, feed_id: int | None, batch: Sequence[Article]) -> set[int]:
    """Indexes in ``batch`` already stored: same canonical URL, same GUID in this feed, same content.

    Three lookups, each on its own index, sent as one ``UNION ALL`` (one round trip instead of three:
    a pass asks this twice per feed); one query OR-ing them instead makes SQLite scan the table.
    """
    t = articles_table
    urls = [a.canonical_url for a in batch]
    guids = [a.guid for a in batch if a.guid]
    prints = [a.fingerprint for a in batch if a.fingerprint]
    lookups = [
        select(literal(0).label("kind"), t.c.canonical_url.label("key")).where(t.c.canonical_url.in_(urls))
    ]
    if guids and feed_id is not None:
        lookups.append(select(literal(1), t.c.guid).where(t.c.feed_id == feed_id, t.c.guid.in_(guids)))
    if prints:
        lookups.append(select(literal(2), t.c.fingerprint).where(t.c.fingerprint.in_(prints)))
    known: tuple[set[str], set[str], set[str]] = (set(), set(), set())
    for kind, key in await session.execute(union_all(*lookups) if len(lookups) > 1 else lookups[0]):
        known[kind].add(key)
    k_urls, k_guids, k_prints = known
    return {
        i
        for i, a in enumerate(batch)
        if a.canonical_url in k_urls
        or (a.guid and a.guid in k_guids)
        or (a.fingerprint and a.fingerprint in k_prints)
    }


async def new_articles(
    session: AsyncSession, feed_id: int | None, articles: Sequence[Article]
) -> list[Article]:
    """The articles ``insert_articles`` would store if called now: batch repeats and known ones dropped.

    Ingestion asks this before enriching, outside its store lock, so that only new articles pay for
    topics, summaries and signatures while other feeds are being stored. By the time it inserts, one of
    them may have become known (another feed of the pass): ``insert_articles`` checks again.
    """
    batch, _ = _dedup_batch(articles)
    if not batch:
        return []
    known = await _known(session, feed_id, batch)
    return [a for i, a in enumerate(batch) if i not in known]


def search_text(a: Article) -> str:
    """The search column's value: the enrichment's, else computed here (``news.arabic.search_stems``)."""
    return a.search_text or search_stems(a.title, a.summary)


def _row_values(a: Article, feed_id: int | None, fetched_at: datetime) -> dict[str, object]:
    return {
        "feed_id": feed_id,
        "url": a.url,
        "canonical_url": a.canonical_url,
        "guid": a.guid,
        "source": a.source[:512],
        "title": a.title,
        "summary": a.summary,
        "body": a.body,
        "digest_summary": a.digest_summary,
        "categories": "\n".join(a.categories),
        "topics": " ".join(a.topics),
        "published_at": a.published_at,
        "fetched_at": fetched_at,
        "fingerprint": a.fingerprint,
        "search_text": search_text(a),
    }


async def insert_articles(
    session: AsyncSession,
    feed_id: int | None,
    articles: Sequence[Article],
    *,
    fetched_at: datetime,
    prepare: Callable[[list[Article]], Awaitable[list[Article]]] | None = None,
) -> InsertResult:
    """Store the articles that are new and return exactly those.

    Known articles are filtered first; ``ON CONFLICT DO NOTHING … RETURNING`` then makes a concurrent
    insert of the same URL (another worker, another feed) harmless: the loser simply gets no row back.
    ``prepare``, when given, completes the new articles before they are written (ingestion adds topics
    and summaries there, so that only new articles pay for them and each row is written once); it must
    return them in order and keep their canonical URLs.
    """
    batch, dups = _dedup_batch(articles)
    if not batch:
        return InsertResult([], dups)
    known = await _known(session, feed_id, batch)
    fresh = [a for i, a in enumerate(batch) if i not in known]
    dups += len(known)
    if not fresh:
        return InsertResult([], dups)
    if prepare is not None:
        fresh = await prepare(fresh)
    dialect = session.get_bind().dialect.name
    table = articles_table  # Core, not the ORM bulk path: a plain multi-row INSERT
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    by_url = {a.canonical_url: a for a in fresh}
    # RETURNING gives back only the rows that were really inserted, so a concurrent insert of the same
    # URL (another worker, another feed) is reported as a duplicate. The rows go as parameters of one
    # cached statement (SQLAlchemy's insertmanyvalues batches them into multi-row INSERTs), not as a
    # ``.values([...])`` literal: compiling a fresh forty-row statement per feed cost more CPU than
    # the database spent storing it.
    stmt = ins.on_conflict_do_nothing().returning(table.c.id, table.c.canonical_url)
    rows = (await session.execute(stmt, [_row_values(a, feed_id, fetched_at) for a in fresh])).all()
    inserted = sorted(
        (StoredArticle(int(row_id), feed_id, by_url[url]) for row_id, url in rows), key=lambda s: s.id
    )
    dups += len(fresh) - len(inserted)
    return InsertResult(inserted, dups)


async def set_stories(session: AsyncSession, assignments: Sequence[tuple[int, int, bytes]]) -> None:
    """Record new articles' stories and signatures, ``(article_id, story_id, signature)``, in one trip."""
    if not assignments:
        return
    t = articles_table
    await session.execute(
        update(t)
        .where(t.c.id == bindparam("aid"))
        .values(story_id=bindparam("sid"), minhash=bindparam("sig", type_=LargeBinary)),
        [{"aid": a, "sid": s, "sig": sig} for a, s, sig in assignments],
    )


async def count_articles(session: AsyncSession, *, since: datetime | None = None) -> int:
    query = select(func.count()).select_from(ArticleRow)
    if since is not None:
        query = query.where(ArticleRow.fetched_at >= since)
    return int(await session.scalar(query) or 0)
