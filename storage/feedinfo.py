"""``FeedInfo``: a feed as the rest of the project sees it.

Kept apart from ``storage.feeds`` so that the driver-only listing (``storage.listing``) can return it
without importing SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit


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
    def outlet(self) -> str:
        """The outlet's name for a feed document without a title: the stored title, else the host."""
        return self.title or urlsplit(self.url).hostname or self.url

    @property
    def never_read(self) -> bool:
        """No fetch of it has succeeded yet: every article it carries is new here, unless another feed
        carries it too."""
        return self.last_ok_at is None

    @property
    def status(self) -> str:
        if self.disabled:
            return "disabled"
        if self.error_count:
            return "failing"
        return "ok" if self.last_ok_at else "new"
