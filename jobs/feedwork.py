"""A feed's Arabic work (parse → clean; enrich → story signature) and where it runs: here, or also in a
second process when the machine has a core to spare.

The work is pure CPU and GIL-bound: threads cannot spread it, so with two cores a pass of many new articles
took as long as one core needed for everything. ``FeedWork`` keeps one worker thread in this process and,
when allowed (``fork``), forks one worker process *after* the pipeline's modules and the topic model
are loaded, so the child shares those pages copy-on-write instead of loading its own. Both pull jobs
from one queue as they become free (a feed's enrichment before any feed's parsing, so that stores can
start early); the functions are pure, so where a job ran never changes its result. What stays in the
calling process: HTTP, the database, story matching.

What it does not do: decide what is new (the caller looks that up between parsing and enrichment, so
only new articles pay for enrichment), store anything, or keep the worker process between passes
(``close`` ends it; the next pass forks a fresh one).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import warnings
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from news.models import Article

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from jobs.ingest import Enricher

T = TypeVar("T")

# The one enricher a forked worker uses: set in the parent before the fork, inherited by the child.
_ENRICHER: list[Enricher] = []
_PARSE, _ENRICH = 1, 0  # queue priorities: enrichment first, so that stores can begin
_PROCESS_DEPTH = 2
# A job the worker process has not finished in this long is taken as a stuck child (a fork can copy a
# lock some other thread held at that moment): the child is killed and its jobs run on the thread. One
# feed's parse or enrichment takes well under a second; a 5 MB feed a few.
PROCESS_JOB_SECONDS = 120.0

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ParsedArticles:
    """What a feed's bytes became: the feed's title and link, how many entries it had, the cleaned ones."""

    title: str
    link: str | None
    entries: int
    articles: list[Article]


def parse_and_clean(body: bytes, headers: dict[str, str], url: str, fallback_source: str) -> ParsedArticles:
    """Feed bytes → cleaned articles; ``fallback_source`` names the outlet when the feed has no title.

    Raises ``news.parse.FeedParseError`` for bytes that are not a feed.
    """
    from news.article import to_article
    from news.parse import parse_feed

    parsed = parse_feed(body, headers, url)
    source = (parsed.title or fallback_source).strip()[:200]
    cleaned = (to_article(e, source=source, feed_url=url) for e in parsed.entries)
    return ParsedArticles(parsed.title, parsed.link, len(parsed.entries), [a for a in cleaned if a])


def enrich_and_sign(enricher: Enricher, articles: list[Article]) -> list[tuple[Article, bytes]]:
    """Topics and digest summaries (``Enricher.many``), and each article's story signature as bytes.

    The signature is part of the article's pure work, so it is computed here, off the thread that matches
    stories; bytes travel between processes as they are stored.
    """
    from news.cluster import signature

    enriched = enricher.many(articles)
    return [(a, signature(a.title, a.body or a.summary).to_bytes()) for a in enriched]


def _enrich_in_worker(articles: list[Article]) -> list[tuple[Article, bytes]]:
    return enrich_and_sign(_ENRICHER[0], articles)


def spare_cores() -> int:
    """Cores this process may use beyond its own (0 on a one-core machine or a one-core affinity)."""
    try:
        return len(os.sched_getaffinity(0)) - 1
    except AttributeError:  # not Linux
        return (os.cpu_count() or 1) - 1


class FeedWork:
    """Runs feeds' parse and enrich jobs on a worker thread and, if ``fork``, one forked worker process.

    ``fork`` is decided by the caller (enough feeds, a spare core, the built-in enricher); the process
    is only forked when the first job arrives, so a pass in which every feed answers 304 forks nothing.
    Use one ``FeedWork`` per pass and ``close`` it at the end.
    """

    def __init__(self, enricher: Callable[[], Enricher], *, fork: bool) -> None:
        self._make_enricher = enricher
        self._fork = fork
        self._queue: asyncio.PriorityQueue[tuple[int, int, Callable[[Executor], Any], asyncio.Future[Any]]]
        self._queue = asyncio.PriorityQueue()
        self._seq = itertools.count()
        self._thread: ThreadPoolExecutor | None = None
        self._process: ProcessPoolExecutor | None = None
        self._consumers: list[asyncio.Task[None]] = []
        self._starting: asyncio.Task[None] | None = None
        self._loaded: Enricher | None = None
        self._child: int | None = None  # the worker process's pid
        self.jobs_in_process = 0
        """Jobs the worker process ran (for tests and the benchmark's curiosity)."""

    @property
    def forked(self) -> bool:
        return self._process is not None

    async def parse(self, body: bytes, headers: dict[str, str], url: str, fallback: str) -> ParsedArticles:
        """``parse_and_clean`` in whichever worker is free first."""
        return await self._run(_PARSE, lambda ex: ex.submit(parse_and_clean, body, headers, url, fallback))

    async def enrich(self, articles: list[Article]) -> list[tuple[Article, bytes]]:
        """``enrich_and_sign`` of ``articles``, in whichever worker is free first."""
        if not articles:
            return []

        def submit(executor: Executor) -> Future[list[tuple[Article, bytes]]]:
            if executor is self._process:
                return executor.submit(_enrich_in_worker, articles)  # the enricher the fork inherited
            return executor.submit(enrich_and_sign, self._enricher(), articles)

        return await self._run(_ENRICH, submit)

    async def _run(self, priority: int, submit: Callable[[Executor], Future[T]]) -> T:
        await self._start()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((priority, next(self._seq), submit, future))
        return await future

    async def _start(self) -> None:
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._open())
        await asyncio.shield(self._starting)

    async def _open(self) -> None:
        # The enricher (the topic model) and every module of the pipeline are loaded before the fork:
        # the child then finds them in memory shared with this process, not loading anything itself.
        self._loaded = await asyncio.to_thread(self._load)
        if self._fork:
            # Imported here: a pass in which every feed answers 304 never needs them.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            _ENRICHER[:] = [self._loaded]
            self._process = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
            # Forked now (in ``submit``: a fork-context pool starts its process at once), before this pass's
            # worker thread exists: a fork copies only the forking thread, so no job can be caught half-way,
            # holding a lock the child would need. Other threads (the database driver's) are never used by
            # the child, which only runs the pure functions above; hence Python 3.12's warning about
            # forking a threaded process is silenced for this one call.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                started = self._process.submit(os.getpid)
            self._child = await asyncio.wrap_future(started)
            # Two jobs handed to the process at a time: it starts the next as soon as it ends one, instead
            # of waiting for this process's busy event loop to give it one.
            for _ in range(_PROCESS_DEPTH):
                self._consumers.append(asyncio.ensure_future(self._consume(self._process)))
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedwork")
        self._consumers.append(asyncio.ensure_future(self._consume(self._thread)))

    def _enricher(self) -> Enricher:
        assert self._loaded is not None, "used before _open"
        return self._loaded

    def _load(self) -> Enricher:
        import news.article
        import news.cluster
        import news.parse
        import news.summary  # noqa: F401  (loaded for the fork, used by the jobs)

        return self._make_enricher()

    async def _consume(self, executor: Executor) -> None:
        while True:
            priority, seq, submit, future = await self._queue.get()
            if future.cancelled():
                continue
            try:
                job = asyncio.wrap_future(submit(executor))
                result = await (self._watched(job) if executor is self._process else job)
            except Exception as exc:  # the job's own error goes to whoever awaits it
                if isinstance(exc, BrokenExecutor) and executor is self._process:
                    # The worker process died: this job, and the rest, run on the thread.
                    self._queue.put_nowait((priority, seq, submit, future))
                    return
                if not future.cancelled():
                    future.set_exception(exc)
                continue
            if executor is self._process:
                self.jobs_in_process += 1
            if not future.cancelled():
                future.set_result(result)

    async def _watched(self, job: asyncio.Future[T]) -> T:
        """``job``'s result from the worker process; past ``PROCESS_JOB_SECONDS`` the child is killed,
        so that the job fails as ``BrokenProcessPool`` and goes, with the rest, to the thread."""
        try:
            return await asyncio.wait_for(asyncio.shield(job), PROCESS_JOB_SECONDS)
        except TimeoutError:
            if self._child is not None:
                log.warning(
                    "ingest worker process %d stuck for %.0f s: killed", self._child, PROCESS_JOB_SECONDS
                )
                with contextlib.suppress(ProcessLookupError):  # it died on its own meanwhile
                    os.kill(self._child, signal.SIGKILL)
            return await job

    async def close(self) -> None:
        """Stop the consumers and end the worker thread and process (waiting for a job under way)."""
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        for executor in (self._thread, self._process):
            if executor is not None:
                await asyncio.to_thread(executor.shutdown, True, cancel_futures=True)
        if self._process is not None:
            _ENRICHER.clear()
