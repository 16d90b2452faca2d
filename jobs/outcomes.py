"""What an ingestion pass reports: one ``FeedOutcome`` per feed, summed into an ``IngestSummary``.

Kept apart from ``jobs.ingest`` so that a pass in which every feed answers 304 (``jobs.unchanged``)
reports exactly as a full pass does without importing the Arabic pipeline or SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CLAIM_BATCH = 64
"""Feeds a full pass claims at a time (``Ingestor.claim_batch``), and so how many bodies the 304 pass
fetches ahead of it (``jobs.unchanged``): one batch's bodies are what a pass holds at once."""


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    feed_id: int
    url: str
    status: str  # ok | not_modified | failed | disabled
    new: int = 0
    duplicates: int = 0
    error: str | None = None
    warning: str | None = None  # a feed parsed despite a complaint (malformed XML, a charset fixed, …)


@dataclass(slots=True)
class IngestSummary:
    feeds_ok: int = 0
    feeds_failed: int = 0
    feeds_not_modified: int = 0
    new: int = 0
    duplicates: int = 0
    failures: list[FeedOutcome] = field(default_factory=list)
    warnings: list[FeedOutcome] = field(default_factory=list)

    def add(self, outcome: FeedOutcome) -> None:
        if outcome.status in ("failed", "disabled"):
            self.feeds_failed += 1
            self.failures.append(outcome)
        else:
            self.feeds_ok += 1
            if outcome.status == "not_modified":
                self.feeds_not_modified += 1
        if outcome.warning:
            self.warnings.append(outcome)
        self.new += outcome.new
        self.duplicates += outcome.duplicates

    def as_dict(self) -> dict[str, object]:
        return {
            "feeds_ok": self.feeds_ok,
            "feeds_failed": self.feeds_failed,
            "feeds_not_modified": self.feeds_not_modified,
            "new": self.new,
            "duplicates": self.duplicates,
            "failures": [{"feed_id": f.feed_id, "url": f.url, "error": f.error} for f in self.failures],
            "warnings": [{"feed_id": f.feed_id, "url": f.url, "warning": f.warning} for f in self.warnings],
        }
