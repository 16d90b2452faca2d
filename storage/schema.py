"""Tables. One schema for SQLite and PostgreSQL: only portable types, timestamps stored as aware UTC.

Later capabilities fill these tables in; their shape is decided here so that one migration tree serves
every backend.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware UTC.

    SQLite has no timezone-aware type and hands back naive values; comparing those with aware ``now``
    values raises, so every value is normalized to aware UTC on the way in and out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Feed(Base):
    """A feed and its fetch schedule: the schedule lives here so a restart loses nothing."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(String(512), default="")
    site_url: Mapped[str | None] = mapped_column(String(2048))
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An ingest worker's claim: who is fetching the feed now, and when the claim lapses if it dies.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Story(Base):
    """One event, told by one or more articles (from one or several outlets)."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    representative_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL", use_alter=True)
    )
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    article_count: Mapped[int] = mapped_column(Integer, default=1)
    source_count: Mapped[int] = mapped_column(Integer, default=1)
    topics: Mapped[str] = mapped_column(Text, default="")  # space-separated topic keys
    # When the story was found breaking and its alerts were queued; set once, so it never alerts twice.
    breaking_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class ArticleRow(Base):
    """A stored article. ``canonical_url`` is the exact-dedup key; ``minhash`` feeds story clustering."""

    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("feed_id", "guid", name="uq_articles_feed_guid"),
        Index("ix_articles_published_at", "published_at"),
        Index("ix_articles_fetched_at", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"), index=True)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    guid: Mapped[str | None] = mapped_column(String(2048))
    source: Mapped[str] = mapped_column(String(512), default="")
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    digest_summary: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[str] = mapped_column(Text, default="")  # feed <category> tags, newline-separated
    topics: Mapped[str] = mapped_column(Text, default="")  # space-separated topic keys
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fingerprint: Mapped[str] = mapped_column(String(64), default="", index=True)
    # Normalized, stemmed title+summary wrapped in spaces, so `LIKE '% stem %'` is an Arabic-aware word
    # search on SQLite and PostgreSQL alike.
    search_text: Mapped[str] = mapped_column(Text, default="")
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)


class Chat(Base):
    """A subscribed chat (private, group, supergroup or channel) and its delivery settings.

    ``telegram_id`` is not the primary key because Telegram changes it when a group becomes a
    supergroup (ChatMigrated); rows that point at the chat keep working after the move.
    """

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    type: Mapped[str] = mapped_column(String(16))  # private | group | supergroup | channel
    title: Mapped[str] = mapped_column(String(256), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="ar")
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: paused by /stop
    deactivated_reason: Mapped[str | None] = mapped_column(Text)  # set when Telegram refuses the chat
    delivery_minute: Mapped[int] = mapped_column(Integer, default=7 * 60)  # local minutes after midnight
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Riyadh")
    digits: Mapped[str] = mapped_column(String(8), default="arabic")  # arabic | western
    topics: Mapped[str] = mapped_column(Text, default="")  # space-separated followed topic keys
    linked_by: Mapped[int | None] = mapped_column(BigInteger)  # user who linked a channel
    # Editions: every local delivery time (minutes after midnight, space-separated, up to four);
    # ``delivery_minute`` keeps the first for code that only knows one time.
    edition_minutes: Mapped[str] = mapped_column(Text, default="", server_default="")
    digest_length: Mapped[str] = mapped_column(String(8), default="full", server_default="full")
    per_topic: Mapped[int | None] = mapped_column(Integer)  # stories per topic; None: the length's default
    muted_sources: Mapped[str] = mapped_column(Text, default="", server_default="")  # newline-separated
    alerts: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    alerts_per_day: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    quiet_start: Mapped[int | None] = mapped_column(Integer, default=23 * 60, server_default=str(23 * 60))
    quiet_end: Mapped[int | None] = mapped_column(Integer, default=7 * 60, server_default=str(7 * 60))
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class KeywordTopic(Base):
    """An admin-defined keyword topic of one chat."""

    __tablename__ = "keyword_topics"
    __table_args__ = (UniqueConstraint("chat_id", "key", name="uq_keyword_topics_chat_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(80))
    keywords: Mapped[str] = mapped_column(Text)  # newline-separated; a leading "-" excludes
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserTarget(Base):
    """Which chat a user's settings commands in their private chat apply to (a channel they linked).

    Kept in the database, not in memory, so that after a restart an admin's /time still changes the
    channel they chose rather than, silently, their own private subscription.
    """

    __tablename__ = "user_targets"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SentStory(Base):
    """Which stories a chat has received: a story goes into a chat's digests once."""

    __tablename__ = "sent_stories"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    digest_key: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(Base):
    """The outbox: one row per message to send, written in the same transaction as the digest.

    ``(chat_id, digest_key, page)`` is unique so a digest rendered twice cannot be queued twice; a row is
    marked ``sent`` with Telegram's message id as soon as Telegram accepts it.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("chat_id", "digest_key", "page", name="uq_deliveries_chat_digest_page"),
        Index("ix_deliveries_status_not_before", "status", "not_before"),
        # The open rows of each chat, for "is this row the head of its chat's queue?" in every claim.
        # Partial: it holds only pending and sending rows, however long the history of sent pages grows,
        # and the planner picks it even before statistics know of a freshly queued broadcast.
        Index(
            "ix_deliveries_open_chat_id",
            "chat_id",
            "id",
            postgresql_where=text("status IN ('pending', 'sending')"),
            sqlite_where=text("status IN ('pending', 'sending')"),
        ),
        # Daily alert caps read a chat's recent alerts without scanning every digest page ever sent.
        Index("ix_deliveries_kind_created_at", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    digest_key: Mapped[str] = mapped_column(String(64))
    page: Mapped[int] = mapped_column(Integer, default=0)
    # digest | alert: alerts are counted against a chat's daily cap and shown apart in /stats.
    kind: Mapped[str] = mapped_column(String(16), default="digest", server_default="digest")
    text: Mapped[str] = mapped_column(Text)
    disable_preview: Mapped[bool] = mapped_column(Boolean, default=True)
    # pending | sending | sent | failed | cancelled (never tried: Telegram refused the chat)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The delivery worker holding the row while it is ``sending``; the lease runs from ``claimed_at``.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # When the digest was due (its slot; the request for /digest): the start of the digest-lag metric.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Worker(Base):
    """A running Nashra process, kept alive by its heartbeat: how delivery workers share the send rate.

    Rows of processes that stopped heartbeating are ignored after their lease and removed by the next
    worker to start; nothing else depends on them.
    """

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    pid_scope: Mapped[str | None] = mapped_column(String(128), nullable=True)
    """The kernel boot and PID namespace ``pid`` belongs to (``jobs.workers.pid_scope``)."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ReadCooldown(Base):
    """When a group last had a reading command answered (/digest, /latest, /search), and whether it was
    already told to wait since: the group cooldown, shared by every process that handles updates (a
    chat's updates may be handled by any of them, one after another)."""

    __tablename__ = "read_cooldowns"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    update_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The update whose command took the turn: handled again after a crash, it is answered again."""


# Core handles on the tables for hot paths that skip the ORM's unit of work (bulk inserts and updates).
articles_table = cast(Table, ArticleRow.__table__)
stories_table = cast(Table, Story.__table__)
read_cooldowns_table = cast(Table, ReadCooldown.__table__)


class StoredUpdate(Base):
    """An update from Telegram, kept from before Telegram is told it arrived until it has been handled.

    ``update_id`` is the key, so an update delivered twice (a poll repeated after a crash, a webhook
    retried or sent to two replicas) is stored once. ``owner``/``lease_until`` say which process handles
    it; a lease that runs out (the process died) lets another take it. ``done_at`` marks it handled; done
    rows are kept for a day so that a late duplicate is still recognized, then pruned.
    """

    __tablename__ = "updates"
    __table_args__ = (Index("ix_updates_done_at_update_id", "done_at", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


updates_table = cast(Table, StoredUpdate.__table__)
