"""``storage.articles.insert_articles`` on both backends: it returns exactly the rows it stored, with their
ids, and a row another worker stored first (after the known-URL check) counts as a duplicate."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from news.models import Article
from storage import articles as article_store
from storage import feeds as feed_store
from storage.db import Database

NOW = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)


def _article(n: int) -> Article:
    url = f"https://example.org/a/{n}"
    return Article(url=url, canonical_url=url, title=f"خبر رقم {n} <b>عاجل</b>", fingerprint=f"fp{n}")


async def test_returns_the_stored_rows_with_their_ids(db: Database) -> None:
    async with db.session() as s, s.begin():
        feed = await feed_store.add_feed(s, "https://example.org/feed.xml", now=NOW)
    async with db.session() as s, s.begin():
        first = await article_store.insert_articles(
            s, feed.id, [_article(n) for n in range(50)], fetched_at=NOW
        )
    async with db.session() as s, s.begin():
        # 40 of them known, 10 new, and one new URL given twice.
        batch = [_article(n) for n in range(40, 60)] + [_article(59)]
        second = await article_store.insert_articles(s, feed.id, batch, fetched_at=NOW)
    async with db.session() as s:
        stored = {
            url: id_ for url, id_ in (await s.execute(text("SELECT canonical_url, id FROM articles"))).all()
        }

    assert len(first.inserted) == 50 and first.duplicates == 0
    assert [a.article.canonical_url for a in second.inserted] == [_article(n).url for n in range(50, 60)]
    assert second.duplicates == 11
    assert len(stored) == 60
    for got in (*first.inserted, *second.inserted):
        assert stored[got.article.canonical_url] == got.id
        assert got.feed_id == feed.id
    assert [a.id for a in second.inserted] == sorted(a.id for a in second.inserted)


async def test_a_row_stored_meanwhile_by_another_worker_is_a_duplicate(db: Database) -> None:
    async with db.session() as s, s.begin():
        feed = await feed_store.add_feed(s, "https://example.org/feed.xml", now=NOW)

    async def another_worker_first(fresh: list[Article]) -> list[Article]:
        # Runs after the known-URL check and before the INSERT, as a second ingest process would.
        async with db.session() as other, other.begin():
            await article_store.insert_articles(other, None, [fresh[1], fresh[3]], fetched_at=NOW)
        return fresh

    async with db.session() as s, s.begin():
        result = await article_store.insert_articles(
            s, feed.id, [_article(n) for n in range(5)], fetched_at=NOW, prepare=another_worker_first
        )
    async with db.session() as s:
        count = (await s.execute(text("SELECT COUNT(*) FROM articles"))).scalar_one()

    assert sorted(a.article.canonical_url for a in result.inserted) == [_article(n).url for n in (0, 2, 4)]
    assert result.duplicates == 2
    assert count == 5
