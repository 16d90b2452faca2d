"""The feed list read through the database driver alone, for ``nashra feeds list``.

Why not the async engine: importing SQLAlchemy's asyncio extension and ORM costs ~0.3 s of a command
that runs one query. This module speaks to ``sqlite3`` or ``psycopg`` directly, and only to a database
already at the migration heads (read from ``alembic_version`` and compared with the revision files as
``storage.migrate.upgrade`` does). Anything else (no file yet, a migration due, a URL it does not know
how to open, any driver error) returns ``None``: the caller then takes the full path, which migrates
and reports errors as every other command does. It writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.feedinfo import FeedInfo
from storage.migrate import script_heads

# The same rows and counts as ``storage.feeds.list_feeds``; a test holds the two to the same answer.
_LIST_SQL = (
    "SELECT f.id, f.url, f.title, f.site_url, f.etag, f.last_modified, f.next_check_at,"
    " f.last_checked_at, f.last_ok_at, f.error_count, f.last_error, f.disabled, f.disabled_reason,"
    " COALESCE(c.n, 0)"
    " FROM feeds f LEFT JOIN (SELECT feed_id, COUNT(*) AS n FROM articles GROUP BY feed_id) c"
    " ON c.feed_id = f.id ORDER BY f.id"
)
_VERSION_SQL = "SELECT version_num FROM alembic_version"


def _utc(value: Any) -> datetime | None:
    """A stored timestamp as aware UTC, as ``storage.schema.UTCDateTime`` returns it.

    SQLite keeps SQLAlchemy's text form (``2026-12-06 21:06:32.498000``, naive UTC); PostgreSQL gives
    an aware datetime.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _feed(row: tuple[Any, ...]) -> FeedInfo:
    next_check_at = _utc(row[6])
    assert next_check_at is not None  # NOT NULL in the schema
    return FeedInfo(
        id=int(row[0]),
        url=row[1],
        title=row[2],
        site_url=row[3],
        etag=row[4],
        last_modified=row[5],
        next_check_at=next_check_at,
        last_checked_at=_utc(row[7]),
        last_ok_at=_utc(row[8]),
        error_count=int(row[9]),
        last_error=row[10],
        disabled=bool(row[11]),
        disabled_reason=row[12],
        article_count=int(row[13]),
    )


def _read(conn: Any) -> list[FeedInfo] | None:
    cur = conn.cursor()
    try:
        cur.execute(_VERSION_SQL)
        if frozenset(r[0] for r in cur.fetchall()) != script_heads():
            return None
        cur.execute(_LIST_SQL)
        return [_feed(r) for r in cur.fetchall()]
    finally:
        cur.close()


def _split_url(url: str) -> tuple[str, str] | None:
    """(backend, the rest after ``://``) of a ``sqlite:///…`` or ``postgresql://…`` URL, with or
    without a ``+driver``; None for anything else."""
    scheme, sep, rest = url.partition("://")
    backend = scheme.partition("+")[0].lower()
    if not sep or backend not in ("sqlite", "postgresql", "postgres"):
        return None
    return ("sqlite" if backend == "sqlite" else "postgresql"), rest


def list_feeds_readonly(url: str) -> list[FeedInfo] | None:
    """Every feed with its article count, ordered by id; ``None`` when the full path must answer."""
    parts = _split_url(url)
    if parts is None:
        return None
    backend, rest = parts
    if backend == "sqlite":
        return _list_sqlite(rest)
    return _list_postgresql(rest)


def _list_sqlite(rest: str) -> list[FeedInfo] | None:
    import sqlite3

    # ``sqlite:///data/x.db`` → ``data/x.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``. In-memory
    # databases and URLs with options are left to the full path.
    if not rest.startswith("/") or "?" in rest:
        return None
    path = rest[1:]
    if not path or path == ":memory:" or not Path(path).expanduser().is_file():
        return None
    try:
        # A read against a writer holds no lock in WAL mode; the timeout covers a rollback-journal file.
        conn = sqlite3.connect(Path(path).expanduser(), timeout=30)
    except sqlite3.Error:
        return None
    try:
        return _read(conn)
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _list_postgresql(rest: str) -> list[FeedInfo] | None:
    import psycopg

    try:
        with psycopg.connect("postgresql://" + rest, connect_timeout=10) as conn:
            return _read(conn)
    except psycopg.Error:
        return None
