"""``storage.stories.create_stories`` on both backends: one batched INSERT, each id given back in the
order of the input, however the database orders RETURNING rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from news.models import Article
from storage import articles as article_store
from storage import feeds as feed_store
from storage import stories as story_store
from storage.db import Database
from storage.schema import stories_table

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


async def _articles(db: Database, n: int) -> list[int]:
    async with db.session() as s, s.begin():
        feed = await feed_store.add_feed(s, "https://example.org/feed.xml", now=NOW)
        batch = [
            Article(
                url=f"https://example.org/{i}", canonical_url=f"https://example.org/{i}", title=f"خبر {i}"
            )
            for i in range(n)
        ]
        stored = await article_store.insert_articles(s, feed.id, batch, fetched_at=NOW)
    return [a.id for a in stored.inserted]


async def test_ids_come_back_in_input_order_from_batched_inserts(db: Database) -> None:
    ids = await _articles(db, 1200)
    firsts = [(article_id, ("politics",) if article_id % 2 else ()) for article_id in reversed(ids)]
    inserts: list[str] = []
    event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, stmt, *_: inserts.append(stmt) if stmt.startswith("INSERT INTO stories") else None,
    )
    async with db.session() as s, s.begin():
        created = await story_store.create_stories(s, firsts, at=NOW)
    async with db.session() as s:
        stored = dict((await s.execute(select(stories_table.c.id, stories_table.c.representative_id))).all())

    assert len(created) == len(set(created)) == len(firsts)
    assert [stored[story_id] for story_id in created] == [article_id for article_id, _ in firsts]
    assert 1 <= len(inserts) <= 10  # batched, not one statement per story


async def test_two_stories_with_one_first_article_are_refused(db: Database) -> None:
    (article_id,) = await _articles(db, 1)
    async with db.session() as s, s.begin():
        with pytest.raises(ValueError, match="share their first article"):
            await story_store.create_stories(s, [(article_id, ()), (article_id, ())], at=NOW)
