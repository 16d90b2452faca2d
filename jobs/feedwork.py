"""A feed's Arabic work (parse → clean; enrich → story signature) and where it runs: on a worker thread
of this process, or in worker processes when the machine has a core to spare.

The work is pure CPU and GIL-bound: threads cannot spread it. A pass that forks (``fork``) runs it in
``PROCESSES`` worker processes and none of it here: a worker thread in this process only took the GIL
from the event loop, which fetches, stores and matches stories, and made this process the slowest. The
processes are forked either *after* the pipeline's modules and the topic model are loaded here (the
children share those pages copy-on-write), or, for ``nashra fetch``, before this process loads any of
it (``WorkerProcesses`` without an enricher: the children load it on their own cores while this
process opens the database, and this process never holds the model). Jobs come from one queue as a
worker becomes free (a feed's enrichment before any feed's parsing, so that stores can start early);
the functions are pure, so where a job ran never changes its result.

What it does not do: decide what is new (the caller looks that up between parsing and enrichment, so
only new articles pay for enrichment), store anything, or keep worker processes between passes.
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

    from jobs.enrich import Enricher

T = TypeVar("T")

# The one enricher a worker process uses: set in the parent before the fork and inherited, or built by
# the child itself (``_load_in_child``) when it was forked before anything was loaded.
_ENRICHER: list[Enricher] = []
_PARSE, _ENRICH = 1, 0  # queue priorities: enrichment first, so that stores can begin
_PROCESS_DEPTH = 2
PROCESSES = 2
"""Worker processes a forked pass runs: the Arabic work on two cores, while this process keeps HTTP,
the database and story matching (which need little CPU, and none of the model's memory)."""
FORK_MIN_FEEDS = 4
"""A pass forks worker processes only for a first batch of at least this many feeds."""
# A job a worker process has not finished in this long is taken as a stuck child (a fork can copy a
# lock some other thread held at that moment): the children are killed and the jobs run on the thread. One
# feed's parse or enrichment takes well under a second; a 5 MB feed a few.
PROCESS_JOB_SECONDS = 120.0

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ParsedArticles:
    """What a feed's bytes became: the feed's title and link, how many entries it had, the cleaned ones,
    and the parser's complaint about a feed it could still read (``ParsedFeed.warning``)."""

    title: str
    link: str | None
    entries: int
    articles: list[Article]
    warning: str | None = None


def parse_and_clean(body: bytes, headers: dict[str, str], url: str, fallback_source: str) -> ParsedArticles:
    """Feed bytes → cleaned articles; ``fallback_source`` names the outlet when the feed has no title.

    Raises ``news.parse.FeedParseError`` for bytes that are not a feed.
    """
    from news.article import to_article
    from news.parse import parse_feed

    parsed = parse_feed(body, headers, url)
    source = (parsed.title or fallback_source).strip()[:200]
    cleaned = (to_article(e, source=source, feed_url=url) for e in parsed.entries)
    return ParsedArticles(
        parsed.title, parsed.link, len(parsed.entries), [a for a in cleaned if a], parsed.warning
    )


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


def _load_in_child() -> None:
    """A worker process's initializer when it was forked before anything was loaded: builds its own
    enricher (and with it the pipeline's modules and the topic model)."""
    from jobs.enrich import Enricher

    _ENRICHER[:] = [_load_pipeline(Enricher)]


def _load_pipeline(make: Callable[[], Enricher]) -> Enricher:
    """Every module the jobs use, and the enricher: what a worker needs before its first job."""
    import news.article
    import news.cluster
    import news.parse
    import news.summary
    import news.topics  # noqa: F401

    return make()


def spare_cores() -> int:
    """Cores this process may use beyond its own (0 on a one-core machine or a one-core affinity)."""
    try:
        return len(os.sched_getaffinity(0)) - 1
    except AttributeError:  # not Linux
        return (os.cpu_count() or 1) - 1


class WorkerProcesses:
    """``count`` worker processes for the Arabic work, forked as soon as this object is built.

    With ``enricher``, the children inherit it (the model's pages shared copy-on-write): the way a pass
    forks once its own modules and model are loaded. Without one, each child builds its own in its
    initializer: ``nashra fetch`` starts them so before it has imported SQLAlchemy, feedparser or the
    model, and the children load all that on their cores while this process opens the database and
    fetches. This process then never loads the model at all. The owner ``close``s them.
    """

    def __init__(self, count: int = PROCESSES, *, enricher: Enricher | None = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if enricher is not None:
            _ENRICHER[:] = [enricher]
        self.count = count
        self.pool = ProcessPoolExecutor(
            max_workers=count,
            mp_context=multiprocessing.get_context("fork"),
            initializer=None if enricher is not None else _load_in_child,
        )
        # A fork-context pool starts all its processes at the first ``submit``: now, from the calling
        # thread, before any worker thread of the pass exists, so no job of this process can be caught
        # half-way holding a lock a child would need. Other threads (the database driver's, DNS) are
        # never used by the children, which only run the pure functions above; hence Python 3.12's
        # warning about forking a threaded process is silenced for this one call.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.pool.submit(os.getpid)

    def pids(self) -> list[int]:
        """The children's process ids (read from the pool, which has no public way to tell them)."""
        return list(self.pool._processes or {})

    def close(self) -> None:
        """End the processes, waiting for the jobs under way."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        _ENRICHER.clear()


class FeedWork:
    """Runs feeds' parse and enrich jobs on worker processes when forked, else on a worker thread.

    ``fork`` is decided by the caller (enough feeds, a spare core, the built-in enricher); the processes
    are only forked when the first job arrives, so a pass in which every feed answers 304 forks nothing.
    A caller that started ``processes`` itself passes them instead, and closes them itself. When forked,
    this process does none of the Arabic work (its thread would only take the GIL from the event loop,
    which stores and matches stories): the thread serves only if the processes die.
    Use one ``FeedWork`` per pass and ``close`` it at the end.
    """

    def __init__(
        self, enricher: Callable[[], Enricher], *, fork: bool, processes: WorkerProcesses | None = None
    ) -> None:
        self._make_enricher = enricher
        self._fork = fork or processes is not None
        self._processes = processes
        self._owns_processes = processes is None
        self._queue: asyncio.PriorityQueue[tuple[int, int, Callable[[Executor], Any], asyncio.Future[Any]]]
        self._queue = asyncio.PriorityQueue()
        self._seq = itertools.count()
        self._thread: ThreadPoolExecutor | None = None
        self._process: ProcessPoolExecutor | None = None
        self._consumers: list[asyncio.Task[None]] = []
        self._starting: asyncio.Task[None] | None = None
        self._loaded: Enricher | None = None
        self.jobs_in_process = 0
        """Jobs the worker processes ran (for tests and the benchmark's curiosity)."""

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
            # On the thread, which builds the enricher on first use (only it calls ``_enricher``).
            return executor.submit(lambda: enrich_and_sign(self._enricher(), articles))

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
        if self._fork and self._processes is None:
            # The enricher (the topic model) and every module of the pipeline are loaded before the
            # fork: the children then find them in memory shared with this process.
            self._loaded = await asyncio.to_thread(_load_pipeline, self._make_enricher)
            self._processes = WorkerProcesses(enricher=self._loaded)
        if self._processes is not None:
            self._process = self._processes.pool
            # Two jobs handed to each process at a time: it starts the next as soon as it ends one,
            # instead of waiting for this process's busy event loop to give it one.
            for _ in range(_PROCESS_DEPTH * self._processes.count):
                self._consumers.append(asyncio.ensure_future(self._consume(self._process)))
        else:
            self._start_thread()

    def _start_thread(self) -> None:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedwork")
            self._consumers.append(asyncio.ensure_future(self._consume(self._thread)))

    def _enricher(self) -> Enricher:
        if self._loaded is None:
            self._loaded = self._make_enricher()
        return self._loaded

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
                    # A worker process died: this job, and the rest, run on the thread.
                    self._queue.put_nowait((priority, seq, submit, future))
                    self._start_thread()
                    return
                if not future.cancelled():
                    future.set_exception(exc)
                continue
            if executor is self._process:
                self.jobs_in_process += 1
            if not future.cancelled():
                future.set_result(result)

    async def _watched(self, job: asyncio.Future[T]) -> T:
        """``job``'s result from a worker process; past ``PROCESS_JOB_SECONDS`` the children are killed,
        so that the job fails as ``BrokenProcessPool`` and goes, with the rest, to the thread."""
        try:
            return await asyncio.wait_for(asyncio.shield(job), PROCESS_JOB_SECONDS)
        except TimeoutError:
            assert self._processes is not None
            for pid in self._processes.pids():
                log.warning("ingest worker process %d stuck for %.0f s: killed", pid, PROCESS_JOB_SECONDS)
                with contextlib.suppress(ProcessLookupError):  # it died on its own meanwhile
                    os.kill(pid, signal.SIGKILL)
            return await job

    async def close(self) -> None:
        """Stop the consumers and end the worker thread and the processes this object started
        (waiting for a job under way)."""
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.shutdown, True, cancel_futures=True)
        if self._processes is not None and self._owns_processes:
            await asyncio.to_thread(self._processes.close)
