"""``storage.listing``: the driver-only feed list answers exactly as ``storage.feeds.list_feeds``, on both
backends, and steps aside (``None``) whenever it cannot answer for sure."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from news.models import Article
from storage import articles as article_store
from storage import feeds as feed_store
from storage.db import Database
from storage.listing import list_feeds_readonly

NOW = datetime(2026, 12, 6, 21, 0, 30, 123456, tzinfo=UTC)


def _article(n: int) -> Article:
    url = f"https://example.org/a/{n}"
    return Article(url=url, canonical_url=url, title=f"خبر رقم {n}", fingerprint=f"fp{n}")


async def test_same_rows_as_the_async_listing(db: Database, db_url: str) -> None:
    async with db.session() as s, s.begin():
        ok = await feed_store.add_feed(s, "https://example.org/ok.xml", title="أخبار «الصباح»", now=NOW)
        failing = await feed_store.add_feed(s, "https://example.org/down.xml", now=NOW)
        gone = await feed_store.add_feed(s, "https://example.org/gone.xml", now=NOW)
        await feed_store.add_feed(s, "https://example.org/new.xml", now=NOW)
    async with db.session() as s, s.begin():
        await article_store.insert_articles(s, ok.id, [_article(n) for n in range(3)], fetched_at=NOW)
        await feed_store.record_fetch_ok(
            s, ok.id, now=NOW, next_check_at=NOW + timedelta(minutes=15), etag='"e1"', last_modified=None
        )
        await feed_store.record_fetch_error(
            s, failing.id, "HTTP 503", now=NOW, next_check_at=NOW + timedelta(hours=1)
        )
        await feed_store.record_fetch_error(
            s, gone.id, "HTTP 410", now=NOW, next_check_at=NOW + timedelta(days=1), disable=True
        )
    async with db.session() as s:
        expected = await feed_store.list_feeds(s)

    got = list_feeds_readonly(db_url)

    assert got == expected
    assert [f.status for f in got] == ["ok", "failing", "disabled", "new"]
    assert [f.article_count for f in got] == [3, 0, 0, 0]
    assert got[0].last_ok_at == NOW and got[0].last_ok_at.tzinfo is UTC


def test_steps_aside_when_it_cannot_answer(tmp_path: Path) -> None:
    missing = tmp_path / "absent.db"
    assert list_feeds_readonly(f"sqlite:///{missing}") is None
    assert not missing.exists()  # it creates nothing
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # a file with no tables: a migration is due
    assert list_feeds_readonly(f"sqlite:///{empty}") is None
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('0001')")
    assert list_feeds_readonly(f"sqlite:///{old}") is None  # behind the heads
    assert list_feeds_readonly("sqlite:///:memory:") is None
    assert list_feeds_readonly("sqlite://") is None
    assert list_feeds_readonly("mysql://localhost/nashra") is None
