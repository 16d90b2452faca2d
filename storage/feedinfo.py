"""``FeedInfo``: a feed as the rest of the project sees it.

Kept apart from ``storage.feeds`` so that the driver-only listing (``storage.listing``) can return it
without importing SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """A feed as the rest of the project sees it: no ORM object escapes storage."""

    id: int
    url: str
    title: str
    site_url: str | None
    etag: str | None
    last_modified: str | None
    next_check_at: datetime
    last_checked_at: datetime | None
    last_ok_at: datetime | None
    error_count: int
    last_error: str | None
    disabled: bool
    disabled_reason: str | None
    article_count: int = 0

    @property
    def status(self) -> str:
        if self.disabled:
            return "disabled"
        if self.error_count:
            return "failing"
        return "ok" if self.last_ok_at else "new"
