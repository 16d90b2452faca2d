"""Engine and session factory from a database URL.

SQLite is the embedded default and PostgreSQL the production database; callers pass a plain URL
(``sqlite:///data/nashra.db`` or ``postgresql://…``) and this module picks the async driver, so the
settings file never has to name drivers.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}


def _with_driver(url: str | URL, drivers: dict[str, str]) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in drivers:
        raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    return parsed.set(drivername=drivers[backend])


def async_url(url: str | URL) -> URL:
    """The URL with the async driver this project uses for that backend."""
    return _with_driver(url, _ASYNC_DRIVERS)


def sync_url(url: str | URL) -> URL:
    """The URL with a synchronous driver, for Alembic."""
    return _with_driver(url, _SYNC_DRIVERS)


def ensure_sqlite_dir(url: str | URL) -> None:
    """Create the folder of a SQLite file so that a fresh checkout starts without manual steps."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    # WAL lets the bot read while a job writes; busy_timeout turns lock contention into waiting
    # instead of "database is locked" errors; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def create_engine(url: str | URL, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url``; SQLite connections get WAL, a busy timeout and foreign keys."""
    ensure_sqlite_dir(url)
    aurl = async_url(url)
    if aurl.get_backend_name() == "sqlite":
        engine = create_async_engine(aurl, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(aurl, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep attributes after commit, so results outlive their unit of work."""
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """An engine and its session factory, owned by whoever built it (the composition root or a test).

    One session per unit of work: ``async with db.session() as s, s.begin(): …``.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self.session = session_factory(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def dispose(self) -> None:
        await self.engine.dispose()


# The session type other layers may annotate with, without importing SQLAlchemy themselves.
Session = AsyncSession
