"""``storage.conditional``: the driver-only rows of an unchanged pass are those of ``storage.feeds``, on
both backends, and the write steps aside rather than touch a feed someone else claimed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from storage import feeds as feed_store
from storage.conditional import NotModified, due_feeds_readonly, record_not_modified
from storage.db import Database
from storage.schema import Feed

NOW = datetime(2026, 12, 6, 21, 0, 30, 123456, tzinfo=UTC)


async def _feeds(db: Database, n: int) -> list[int]:
    async with db.session() as s, s.begin():
        return [
            (await feed_store.add_feed(s, f"https://example.org/{i}.xml", now=NOW - timedelta(minutes=i))).id
            for i in range(n)
        ]


async def _rows(db: Database) -> dict[int, dict[str, object]]:
    async with db.session() as s:
        rows = (await s.scalars(select(Feed).order_by(Feed.id))).all()
    return {r.id: {c.key: getattr(r, c.key) for c in Feed.__table__.columns if c.key != "id"} for r in rows}


async def test_due_feeds_are_those_a_claim_would_take(db: Database, db_url: str) -> None:
    ids = await _feeds(db, 6)
    async with db.session() as s, s.begin():
        await s.execute(update(Feed).where(Feed.id == ids[1]).values(disabled=True))
        live = {"claimed_by": "other", "claim_expires_at": NOW + timedelta(minutes=5)}
        await s.execute(update(Feed).where(Feed.id == ids[2]).values(**live))
        lapsed = {"claimed_by": "dead", "claim_expires_at": NOW - timedelta(minutes=5)}
        await s.execute(update(Feed).where(Feed.id == ids[3]).values(**lapsed))
        later = NOW + timedelta(hours=1)
        await s.execute(update(Feed).where(Feed.id == ids[4]).values(next_check_at=later, etag='"e4"'))
        await feed_store.record_fetch_ok(
            s, ids[5], now=NOW, next_check_at=NOW - timedelta(seconds=1), etag='"e5"', last_modified="x"
        )

    for include_all in (False, True):
        got = due_feeds_readonly(db_url, NOW, include_all=include_all)
        async with db.session() as s, s.begin():
            claimed = await feed_store.claim_due_feeds(
                s, NOW, owner="me", lease_until=NOW + timedelta(minutes=5), limit=100, include_all=include_all
            )
            await feed_store.release_claims(s, "me", [f.id for f in claimed])
        assert got == claimed
        assert {f.id for f in got} == ({ids[0], ids[3], ids[5]} | ({ids[4]} if include_all else set()))
    assert got is not None and got[-1].etag == '"e4"' and got[-1].next_check_at.tzinfo is UTC


async def test_a_304_is_recorded_as_record_fetch_ok_records_it(db: Database, db_url: str) -> None:
    ids = await _feeds(db, 4)
    async with db.session() as s, s.begin():  # a failing feed: its error state must be cleared too
        for feed_id in ids:
            await feed_store.record_fetch_error(s, feed_id, "HTTP 503", now=NOW, next_check_at=NOW)
    then = NOW + timedelta(minutes=20, microseconds=7)
    after = then + timedelta(minutes=15)
    async with db.session() as s, s.begin():
        await feed_store.record_fetch_ok(
            s, ids[0], now=then, next_check_at=after, etag='"a"', last_modified=None
        )
        await feed_store.record_fetch_ok(
            s, ids[1], now=then, next_check_at=after, etag=None, last_modified="Mon, 01 Jan 2018 00:00:00 GMT"
        )
    records = [
        NotModified(ids[2], '"a"', None, after),
        NotModified(ids[3], None, "Mon, 01 Jan 2018 00:00:00 GMT", after),
    ]
    assert record_not_modified(db_url, records, then)

    rows = await _rows(db)
    for full, driver in ((ids[0], ids[2]), (ids[1], ids[3])):
        expected, got = dict(rows[full]), dict(rows[driver])
        expected.pop("url"), got.pop("url"), expected.pop("created_at"), got.pop("created_at")
        assert got == expected
    assert rows[ids[2]]["last_ok_at"] == then and rows[ids[2]]["error_count"] == 0
    # What SQLAlchemy reads back compares with what it wrote: the next claim sees the same schedule.
    assert due_feeds_readonly(db_url, after - timedelta(microseconds=1)) == []
    assert [f.id for f in due_feeds_readonly(db_url, after) or []] == ids


async def test_the_write_steps_aside_for_a_feed_claimed_meanwhile(db: Database, db_url: str) -> None:
    ids = await _feeds(db, 2)
    async with db.session() as s, s.begin():
        await feed_store.claim_due_feeds(
            s, NOW, owner="other", lease_until=NOW + timedelta(minutes=5), limit=1, include_all=True
        )
    before = await _rows(db)
    records = [NotModified(i, '"e"', None, NOW + timedelta(minutes=15)) for i in ids]
    assert not record_not_modified(db_url, records, NOW)
    assert await _rows(db) == before  # neither feed written: the full path takes over


def test_steps_aside_when_the_database_is_not_ready(tmp_path: Path) -> None:
    missing = tmp_path / "absent.db"
    assert due_feeds_readonly(f"sqlite:///{missing}", NOW) is None
    assert not record_not_modified(f"sqlite:///{missing}", [], NOW)
    assert due_feeds_readonly("sqlite:///:memory:", NOW) is None
    assert not missing.exists()
