"""The feed list read through the database driver alone, for ``nashra feeds list``.

Why not the async engine: importing SQLAlchemy's asyncio extension and ORM costs ~0.3 s of a command
that runs one query. This module speaks to ``sqlite3`` or ``psycopg`` directly, and only to a database
already at the migration heads (read from ``alembic_version`` and compared with the revision files as
``storage.migrate.upgrade`` does). Anything else (no file yet, a migration due, a URL it does not know
how to open, any driver error) returns ``None``: the caller then takes the full path, which migrates
and reports errors as every other command does. It writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

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


def utc(value: Any) -> datetime | None:
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


def feed_from_row(row: Sequence[Any]) -> FeedInfo:
    """A ``FeedInfo`` from the columns of ``_LIST_SQL`` (also ``storage.conditional``'s)."""
    next_check_at = utc(row[6])
    assert next_check_at is not None  # NOT NULL in the schema
    return FeedInfo(
        id=int(row[0]),
        url=row[1],
        title=row[2],
        site_url=row[3],
        etag=row[4],
        last_modified=row[5],
        next_check_at=next_check_at,
        last_checked_at=utc(row[7]),
        last_ok_at=utc(row[8]),
        error_count=int(row[9]),
        last_error=row[10],
        disabled=bool(row[11]),
        disabled_reason=row[12],
        article_count=int(row[13]),
    )


class DriverDatabase(NamedTuple):
    """A plain DB-API connection to a database at the migration heads, for the driver-only paths."""

    conn: Any
    backend: str  # "sqlite" | "postgresql"
    placeholder: str  # the driver's parameter marker: "?" (sqlite3) or "%s" (psycopg)
    error: type[Exception]  # the driver's base error: any of these means "take the full path"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """A cursor on ``sql``, written with ``?`` markers whatever the driver wants."""
        cur = self.conn.cursor()
        cur.execute(sql.replace("?", self.placeholder) if self.placeholder != "?" else sql, params)
        return cur

    def feeds(self, sql: str, params: Sequence[Any] = ()) -> list[FeedInfo] | None:
        """The feeds a ``SELECT`` of ``feed_from_row``'s fourteen columns finds; None on a driver error."""
        try:
            cur = self.execute(sql, params)
            try:
                return [feed_from_row(r) for r in cur.fetchall()]
            finally:
                cur.close()
        except self.error:
            return None


def _at_heads(db: DriverDatabase) -> bool:
    cur = db.execute(_VERSION_SQL)
    try:
        return frozenset(r[0] for r in cur.fetchall()) == script_heads()
    finally:
        cur.close()


def split_url(url: str) -> tuple[str, str] | None:
    """(backend, the rest after ``://``) of a ``sqlite:///…`` or ``postgresql://…`` URL, with or
    without a ``+driver``; None for anything else."""
    scheme, sep, rest = url.partition("://")
    backend = scheme.partition("+")[0].lower()
    if not sep or backend not in ("sqlite", "postgresql", "postgres"):
        return None
    return ("sqlite" if backend == "sqlite" else "postgresql"), rest


@contextmanager
def current_database(url: str) -> Iterator[DriverDatabase | None]:
    """The database at ``url`` through its bare driver when it is at the migration heads, else None.

    None as well for a URL or a file the driver path does not open (no file yet, in memory, options in
    the URL) and for any driver error while connecting or reading the revision. The connection is
    closed on leaving; an open transaction is rolled back unless the caller committed it.
    """
    parts = split_url(url)
    db = None
    if parts is not None:
        db = _connect_sqlite(parts[1]) if parts[0] == "sqlite" else _connect_postgresql(parts[1])
    if db is None:
        yield None
        return
    try:
        try:
            current = _at_heads(db)
        except db.error:
            current = False
        yield db if current else None
    finally:
        db.conn.close()


def list_feeds_readonly(url: str) -> list[FeedInfo] | None:
    """Every feed with its article count, ordered by id; ``None`` when the full path must answer."""
    with current_database(url) as db:
        return None if db is None else db.feeds(_LIST_SQL)


def _connect_sqlite(rest: str) -> DriverDatabase | None:
    import sqlite3

    # ``sqlite:///data/x.db`` → ``data/x.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``. In-memory
    # databases and URLs with options are left to the full path.
    if not rest.startswith("/") or "?" in rest:
        return None
    path = rest[1:]
    if not path or path == ":memory:" or not Path(path).expanduser().is_file():
        return None
    try:
        # A read against a writer holds no lock in WAL mode; the timeout covers a rollback-journal file
        # and a writer (as the engine's busy_timeout does).
        conn = sqlite3.connect(Path(path).expanduser(), timeout=30)
    except sqlite3.Error:
        return None
    return DriverDatabase(conn, "sqlite", "?", sqlite3.Error)


def _connect_postgresql(rest: str) -> DriverDatabase | None:
    import psycopg

    try:
        conn = psycopg.connect("postgresql://" + rest, connect_timeout=10)
    except psycopg.Error:
        return None
    return DriverDatabase(conn, "postgresql", "%s", psycopg.Error)
