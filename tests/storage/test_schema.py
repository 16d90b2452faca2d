from datetime import UTC, datetime

from sqlalchemy import select

from storage.db import Database
from storage.schema import Feed


async def test_migrated_schema_round_trips_aware_utc(db: Database) -> None:
    when = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    async with db.session() as s, s.begin():
        s.add(Feed(url="https://example.org/rss", title="مثال", next_check_at=when))
    async with db.session() as s:
        feed = (await s.execute(select(Feed))).scalar_one()
    assert feed.title == "مثال"
    assert feed.next_check_at == when
    assert feed.next_check_at.tzinfo is not None
