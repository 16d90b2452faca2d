"""Story assignment: joins each new article to an existing story or opens a new one.

The near-duplicate index lives in memory (bounded by the clustering window) and is rebuilt from the
signatures stored with each article, so a restart forgets nothing. If the transaction that recorded an
assignment fails, the index is dropped and rebuilt from the database on the next pass, so a rolled-back
feed leaves no ghost entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from storage import articles as article_store
from storage import stories as story_store
from storage.articles import StoredArticle
from storage.db import Database, Session

if TYPE_CHECKING:
    from news.cluster import StoryIndex, StorySignature


class StoryClusterer:
    def __init__(self, window: timedelta = timedelta(hours=48)) -> None:
        self.window = window
        self._index: StoryIndex | None = None
        self._warm_db: Database | None = None
        self._pending: tuple[Database, datetime] | None = None

    async def warm(self, db: Database, now: datetime) -> None:
        """Make the index ready for a pass at ``now`` over ``db``.

        The window's signatures are read once per database, and only when the pass first has a new
        article to place (``assign``, or ``load`` to do it now): a pass in which every feed answers
        304 never reads them, nor imports the clustering code. Later calls only evict what aged out.
        """
        if self._warm_db is db and self._index is not None:
            self._index.evict(now)
            return
        self._pending = (db, now)

    async def load(self) -> None:
        """Read the window's signatures now, if ``warm`` left them to be read."""
        if self._pending is None:
            return
        db, now = self._pending
        from news.cluster import StoryIndex, StorySignature, signature

        self._index = StoryIndex(window=self.window)
        async with db.session() as s:
            rows = await story_store.recent_signatures(s, now - self.window)
            sigs: dict[int, StorySignature] = {}
            stale: list[int] = []
            for row in rows:
                try:
                    sigs[row.article_id] = StorySignature.from_bytes(row.signature)
                except ValueError:  # an older signature format or stemmer: recompute from the text
                    stale.append(row.article_id)
            if stale:
                for article_id, (title, text) in (await story_store.article_texts(s, stale)).items():
                    sigs[article_id] = signature(title, text)
        for row in rows:
            if row.article_id in sigs:
                self._index.add(row.article_id, row.story_id, sigs[row.article_id], row.at, source=row.source)
        self._warm_db = db
        self._pending = None

    def __len__(self) -> int:
        """Articles in the in-memory index."""
        return len(self._index) if self._index is not None else 0

    def invalidate(self) -> None:
        """Forget the in-memory index (after a failed transaction); the next ``warm`` rebuilds it."""
        self._warm_db = None

    async def assign(
        self,
        session: Session,
        stored: Sequence[StoredArticle],
        now: datetime,
        *,
        signatures: Mapping[str, bytes] | None = None,
    ) -> None:
        """Attach each article to a story inside ``session``'s transaction.

        ``signatures`` (canonical URL → ``StorySignature.to_bytes()``) are those already computed with the
        article's other pure work, possibly in another process; an article without one gets it here.

        Articles of one batch see each other (each is indexed as soon as it is placed). Stories opened by
        the batch are indexed under provisional negative ids and created in one statement at the end,
        so the database is told in four batched statements however many articles arrive.
        """
        if not stored:
            return
        from news.cluster import StoryIndex, StorySignature, signature

        await self.load()
        if self._index is None:  # never warmed: an empty window
            self._index = StoryIndex(window=self.window)
        assignments: list[tuple[int, int, bytes]] = []
        joined: dict[int, list[str]] = defaultdict(list)
        opened: dict[int, tuple[int, tuple[str, ...]]] = {}  # provisional id -> (first article, topics)
        for item in stored:
            a = item.article
            known = signatures.get(a.canonical_url) if signatures else None
            sig = StorySignature.from_bytes(known) if known else signature(a.title, a.body or a.summary)
            match = self._index.match(sig, now, source=a.source)
            if match is not None:
                story_id = match.story_id
                joined[story_id].extend(a.topics)
            else:
                story_id = -(len(opened) + 1)
                opened[story_id] = (item.id, a.topics)
            assignments.append((item.id, story_id, known or sig.to_bytes()))
            self._index.add(item.id, story_id, sig, now, source=a.source)
        created = await story_store.create_stories(session, list(opened.values()), at=now)
        real = dict(zip(opened, created, strict=True))
        for provisional, story_id in real.items():
            self._index.rename_story(provisional, story_id)
            if provisional in joined:  # later articles of this batch joined it: recount it too
                joined[story_id] = joined.pop(provisional)
        await article_store.set_stories(session, [(a, real.get(s, s), sig) for a, s, sig in assignments])
        await story_store.refresh_stories(session, joined, at=now)
