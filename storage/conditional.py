"""The feed rows a pass of unchanged feeds needs, read and written through the database driver alone.

Why: when every feed answers 304 Not Modified, a pass reads the due feeds' validators and moves their
schedules, and nothing else. Importing SQLAlchemy's asyncio extension and ORM for that cost more time
(~0.3 s) and memory (~25 MB) than the whole pass. Like ``storage.listing`` this only speaks to a
database at the migration heads and answers ``None`` / ``False`` for anything it cannot do for sure
(the caller then takes the full path, which migrates and reports errors as every command does).

The rows and values are those of ``storage.feeds``: ``due_feeds_readonly`` selects what
``claim_due_feeds`` would claim (without claiming it), ``record_not_modified`` writes what
``record_fetch_ok`` writes after a 304. Its UPDATE skips a feed that another worker claimed since it
was read (and then writes nothing at all), so it never clears someone else's claim. Tests hold both
paths to the same rows on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from storage.feedinfo import FeedInfo
from storage.listing import DriverDatabase, current_database

# The columns of ``storage.listing``'s query, with no article count (a pass does not need it).
_DUE_SQL = (
    "SELECT id, url, title, site_url, etag, last_modified, next_check_at, last_checked_at, last_ok_at,"
    " error_count, last_error, disabled, disabled_reason, 0 FROM feeds"
    " WHERE NOT disabled AND (claim_expires_at IS NULL OR claim_expires_at < ?)"
)
_DUE_ORDER = " ORDER BY next_check_at, id"
_RECORD_SQL = (
    "UPDATE feeds SET etag = ?, last_modified = ?, last_checked_at = ?, last_ok_at = ?,"
    " next_check_at = ?, error_count = 0, last_error = NULL, claimed_by = NULL, claim_expires_at = NULL"
    " WHERE id = ? AND NOT disabled AND (claim_expires_at IS NULL OR claim_expires_at < ?)"
)


class NotModified(NamedTuple):
    """One feed's 304, as ``record_fetch_ok`` would store it."""

    feed_id: int
    etag: str | None
    last_modified: str | None
    next_check_at: datetime


def _stamp(db: DriverDatabase, value: datetime) -> Any:
    """A timestamp as ``storage.schema.UTCDateTime`` binds it: SQLite keeps SQLAlchemy's text form of
    naive UTC (which also orders as text), PostgreSQL an aware value."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    value = value.astimezone(UTC)
    if db.backend == "sqlite":
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def due_feeds_readonly(url: str, now: datetime, *, include_all: bool = False) -> list[FeedInfo] | None:
    """The enabled, unclaimed feeds due at ``now`` (all of them with ``include_all``), oldest due first.

    ``None`` when the full path must answer (see the module's docstring).
    """
    with current_database(url) as db:
        if db is None:
            return None
        sql, params = _DUE_SQL, [_stamp(db, now)]
        if not include_all:
            sql += " AND next_check_at <= ?"
            params.append(_stamp(db, now))
        return db.feeds(sql + _DUE_ORDER, params)


def record_not_modified(url: str, feeds: Sequence[NotModified], now: datetime) -> bool:
    """Record every feed's 304 in one transaction; False (and nothing written) when that cannot be done.

    A feed that another worker claimed or disabled since it was read makes the whole write step aside:
    the full path then claims and fetches what is left, as it would have without this shortcut.
    """
    with current_database(url) as db:
        if db is None:
            return False
        stamp = _stamp(db, now)
        try:
            if db.backend == "sqlite":
                db.conn.execute("PRAGMA synchronous=NORMAL")  # as the engine's connections do (WAL)
            for f in feeds:
                after = _stamp(db, f.next_check_at)
                params = [f.etag, f.last_modified, stamp, stamp, after, f.feed_id, stamp]
                cur = db.execute(_RECORD_SQL, params)
                try:
                    if cur.rowcount != 1:
                        db.conn.rollback()
                        return False
                finally:
                    cur.close()
            db.conn.commit()
        except db.error:
            return False
        return True
