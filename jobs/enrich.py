"""What the digest and search need of a cleaned article beyond its text: built-in topics, a short
summary and the search column's stems.

Kept apart from ``jobs.ingest`` so that a worker process forked before the pass opens its database can
build the enricher without importing SQLAlchemy or the storage layer: it only needs ``news``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from news.models import Article

if TYPE_CHECKING:
    from news.classifier import TopicClassifier


class Enricher:
    """Adds what the digest needs to a cleaned article (built-in topics, a short summary) and the stems
    search matches (``news.arabic.search_stems``), so that all of it is computed where the work runs.

    Topics are the classifier's, except that a section naming a desk comes first, in a tag («رياضة»,
    «Economy») or at the head of the URL's path («/sport/…»): the outlet's own filing beats a guess,
    and the classifier's best stays as the second topic. The URL also lets the classifier use an
    outlet's own weights when it was trained on that outlet.
    """

    def __init__(self, classifier: TopicClassifier | None = None, *, summary_budget: int = 300) -> None:
        if classifier is None:
            from news.classifier import TopicClassifier

            classifier = TopicClassifier.load()
        self._classifier = classifier
        self._budget = summary_budget

    def __call__(self, article: Article) -> Article:
        return self.many([article])[0]

    def many(self, articles: Sequence[Article]) -> list[Article]:
        """Every article of one feed at once: the classifier's matrix work is done once per outlet."""
        from news.arabic import search_stems
        from news.summary import summarize
        from news.topics import desk_topic, url_sections, with_desk

        predictions = self._classifier.predict_many(
            [(a.title, a.summary, a.body) for a in articles], [a.canonical_url or a.url for a in articles]
        )
        return [
            replace(
                a,
                topics=with_desk(p.topics, desk_topic([*a.categories, *url_sections(a.url)])),
                digest_summary=summarize(a.title, a.body or a.summary, budget=self._budget),
                search_text=search_stems(a.title, a.summary),
            )
            for a, p in zip(articles, predictions, strict=True)
        ]
