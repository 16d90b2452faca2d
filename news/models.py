"""Value types shared by every layer.

They are frozen so that a value handed from the parser to storage, or from storage to the renderer,
cannot be changed behind the caller's back; storage converts rows to and from these at its edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One feed item exactly as the feed gave it, HTML still in place.

    ``published`` is timezone-aware UTC or ``None`` when the feed gave no usable date.
    """

    guid: str | None
    link: str | None
    title: str
    summary_html: str = ""
    content_html: str = ""
    published: datetime | None = None
    categories: tuple[str, ...] = ()
    author: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed document. ``warning`` carries a non-fatal parser complaint worth showing operators."""

    title: str
    link: str | None
    entries: tuple[FeedEntry, ...]
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned article, ready to be stored.

    ``title`` is plain display text with headline prefixes («عاجل:») removed; ``summary`` is the cleaned
    feed description and ``body`` the cleaned full text when the feed carried one. ``fingerprint`` is a
    hash of the normalized title+text used for exact-content dedup across URLs. ``search_text`` is what
    the search column stores (``news.arabic.search_stems``), filled in with the topics so that the
    stemming runs in the ingest workers; where it is empty, the store computes it.
    """

    url: str
    canonical_url: str
    title: str
    summary: str = ""
    body: str = ""
    guid: str | None = None
    published_at: datetime | None = None
    source: str = ""
    categories: tuple[str, ...] = ()
    fingerprint: str = ""
    topics: tuple[str, ...] = ()
    digest_summary: str = ""
    search_text: str = ""


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic a chat can follow: a built-in taxonomy key or an admin-defined keyword topic.

    Keyword topics carry ``keywords`` (phrases that make an article match) and ``excluded`` (phrases that
    veto a match); built-in topics have neither and are decided by the classifier.
    """

    key: str
    name_ar: str
    name_en: str = ""
    keywords: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    @property
    def builtin(self) -> bool:
        return not self.keywords


@dataclass(frozen=True, slots=True)
class StorySource:
    """One outlet's telling of a story, as the digest links it."""

    source: str
    url: str
    title: str


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """One article of a story as the digest's second look at the day reads it (``news.daypass``)."""

    article_id: int
    source: str
    url: str
    title: str
    summary: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class DigestStory:
    """A story as the digest renderer needs it: no database ids beyond ``story_id``.

    ``articles`` are every article of the story (the representative too), when the loader gave them;
    ``merged_ids`` are other stories the digest's day pass folded into this one: sending this entry
    sends them too, so they do not come back as a repeat in the next digest.
    """

    story_id: int
    title: str
    url: str
    summary: str
    source: str
    published_at: datetime | None
    topics: tuple[str, ...] = ()
    other_sources: tuple[StorySource, ...] = field(default=())
    articles: tuple[StoryArticle, ...] = field(default=())
    merged_ids: tuple[int, ...] = field(default=())

    @property
    def source_count(self) -> int:
        return 1 + len({s.source for s in self.other_sources if s.source != self.source})


@dataclass(frozen=True, slots=True)
class DigestPage:
    """One Telegram message of a digest: HTML text no longer than Telegram's 4096-unit limit."""

    index: int
    html: str
    disable_preview: bool = True
