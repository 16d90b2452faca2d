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


def test_migrations_build_exactly_the_models_schema(db_url: str) -> None:
    """Alembic's autogenerate comparison finds nothing between the migrated database and the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    from storage.db import sync_url
    from storage.migrate import alembic_config, current
    from storage.schema import Base

    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    # Only type-level noise is tolerated: the models' UTCDateTime is a DateTime(timezone=True) underneath.
    assert [d for d in diffs if not (isinstance(d, list) and d and d[0][0] == "modify_type")] == []
    # One line of revisions (branches merged into it), and the database at its head.
    heads = ScriptDirectory.from_config(alembic_config(db_url)).get_heads()
    assert len(heads) == 1
    assert current(db_url) == heads[0]
