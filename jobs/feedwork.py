"""A feed's Arabic work (parse → clean; enrich → story signature) and where it runs: on a worker thread
of this process, or in worker processes when the machine has a core to spare.

The work is pure CPU and GIL-bound: threads cannot spread it. A pass that forks (``fork``) runs it in
``worker_count()`` worker processes (one per spare core, two to four) and none of it here: a worker
thread in this process only took the GIL from the event loop, which fetches, stores and matches
stories, and made this process the slowest. The workers are forked from one loader process once it
holds the pipeline's modules and the topic model, so those are loaded once and shared copy-on-write.
The loader is forked either *after* they are loaded here, or, for ``nashra fetch``, before this
process loads any of it, or even its HTTP client (``WorkerProcesses(held=True)``: the loader loads the
pipeline on its own core while this process opens the database, and this process never holds the
model). Jobs come from one queue as a worker becomes free (a feed's enrichment before any feed's
parsing, so that stores can start early); the functions are pure, so where a job ran never changes its
result.

A feed never read before is parsed and enriched in one job (``parse_and_enrich``): its articles are new
but for those another feed carries too, so the worker goes on without waiting for the caller's look-up.
``nashra fetch`` hands each body to the workers as it arrives (``WorkerProcesses.submit_early``), before
its pass is ready to ask; ``FeedWork`` then takes that answer instead of submitting the job again.

What it does not do: decide what is new (the caller looks that up between parsing and enrichment, so
only new articles pay for enrichment), store anything, or keep worker processes between passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import os
import signal
import warnings
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, InvalidStateError, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from news.models import Article

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from jobs.enrich import Enricher

T = TypeVar("T")

# The one enricher the worker processes use: set in the parent before the loader is forked and inherited,
# or built by the loader (``_load_in_child``) when it was forked before anything was loaded.
_ENRICHER: list[Enricher] = []
_PARSE, _ENRICH = 1, 0  # queue priorities: enrichment first, so that stores can begin
_PROCESS_DEPTH = 2
PROCESSES = 2
"""The fewest worker processes a forked pass runs: the Arabic work on two cores, while this process keeps
HTTP, the database and story matching (which need little CPU, and none of the model's memory)."""
MAX_PROCESSES = 4
"""The most: one per core this process leaves spare, up to this many. By then the calling process, which
stores and matches every feed's articles in turn (a third of a first pass's CPU on two cores), is what a
pass waits for, and each worker adds ~15-20 MB of its own (its word memos, the shared pages it writes)."""
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


Enriched = tuple[ParsedArticles, list[tuple[Article, bytes]]]


def parse_and_enrich(
    enricher: Enricher, body: bytes, headers: dict[str, str], url: str, fallback_source: str
) -> Enriched:
    """``parse_and_clean``, then ``enrich_and_sign`` of every article: one job instead of two for a feed
    whose articles are all expected to be new (its first fetch), so that the worker goes on without
    waiting for this process to look them up."""
    parsed = parse_and_clean(body, headers, url, fallback_source)
    return parsed, enrich_and_sign(enricher, parsed.articles)


def _parse_and_enrich_in_worker(body: bytes, headers: dict[str, str], url: str, fallback: str) -> Enriched:
    return parse_and_enrich(_ENRICHER[0], body, headers, url, fallback)


def _load_in_child() -> None:
    """The loader's work when it was forked before anything was loaded: builds the enricher (and with it
    the pipeline's modules and the topic model) that the workers it forks then share."""
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


def cpu_limit(
    cpu_max: str | None, cfs_quota_us: str | None = None, cfs_period_us: str | None = None
) -> float | None:
    """The CPUs a cgroup's quota allows (a container's ``--cpus``), from cgroup v2's ``cpu.max``
    («200000 100000»: two CPUs; «max 100000»: no limit) or v1's ``cpu.cfs_quota_us`` and
    ``cpu.cfs_period_us`` (-1: no limit); None when there is no limit or the text is not understood."""
    if cpu_max is not None:
        quota, _, period = cpu_max.strip().partition(" ")
    elif cfs_quota_us is not None and cfs_period_us is not None:
        quota, period = cfs_quota_us.strip(), cfs_period_us.strip()
    else:
        return None
    try:
        q, p = int(quota), int(period or "100000")
    except ValueError:  # "max": unlimited
        return None
    return q / p if q > 0 and p > 0 else None


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def spare_cores() -> int:
    """Cores this process may use beyond its own (0 on a one-core machine, a one-core affinity or a
    container limited to one CPU). The affinity counts every core of the host a container runs on; the
    cgroup's CPU quota says how much of them it may use."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return (os.cpu_count() or 1) - 1
    limit = cpu_limit(_read("/sys/fs/cgroup/cpu.max")) or cpu_limit(
        None, _read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), _read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
    )
    if limit is not None:
        cores = min(cores, max(1, math.ceil(limit)))
    return cores - 1


def worker_count(spare: int | None = None) -> int:
    """Worker processes for a forked pass on a machine with ``spare`` cores beyond this process's own
    (default: ``spare_cores()``): one per spare core, at least ``PROCESSES`` and at most
    ``MAX_PROCESSES``. On two cores that is two workers beside this process, which needs about half a
    core of its own; a third core takes a third worker."""
    spare = spare_cores() if spare is None else spare
    return max(PROCESSES, min(MAX_PROCESSES, spare))


class WorkerProcesses:
    """``count`` worker processes for the Arabic work, the pipeline loaded once for all of them.

    A loader process is forked as soon as this object is built; once ``start``ed (at once unless
    ``held``), it loads the pipeline (or finds the enricher it inherited) and only then forks the
    workers, which share its modules and model copy-on-write: the model is read and the modules
    imported once, not once per worker (~0.5 s of CPU each on a 2-core machine). ``nashra fetch``
    builds it ``held`` before it imports httpx, SQLAlchemy or anything of the pipeline, so that no
    worker carries the parent's HTTP client (~13 MB each), and starts it when its conditional GETs say
    the pass will parse feeds (or closes it, unused, when they are all 304s). With ``enricher``, the
    loader inherits it: the way a pass forks once its own modules and model are loaded. The owner
    ``close``s them.
    """

    def __init__(
        self, count: int | None = None, *, enricher: Enricher | None = None, held: bool = False
    ) -> None:
        if enricher is not None:
            _ENRICHER[:] = [enricher]
        count = worker_count() if count is None else count
        self.count = count
        self.pool = _ForkedPool(count)
        self._early: dict[tuple[str, bytes, str, bool], Future[Any]] = {}
        if not held:
            self.start()

    def start(self) -> None:
        """Let the loader load the pipeline and fork the workers (jobs may be submitted before)."""
        self.pool.start()

    def submit_early(
        self, body: bytes, headers: dict[str, str], url: str, fallback: str, *, enrich: bool
    ) -> None:
        """Hand a feed's parse (with ``enrich``: and enrichment) to the workers now, before the pass that
        will ask for it is ready: ``FeedWork`` takes the answer instead of submitting the same job."""
        key = (url, body, fallback, enrich)
        if key in self._early:
            return
        fn = _parse_and_enrich_in_worker if enrich else parse_and_clean
        try:
            self._early[key] = self.pool.submit(fn, body, dict(headers), url, fallback)
        except (BrokenExecutor, RuntimeError):
            return

    def take_early(self, body: bytes, url: str, fallback: str, *, enrich: bool) -> Future[Any] | None:
        """The job ``submit_early`` handed over for these same arguments, once; None when there is none."""
        return self._early.pop((url, body, fallback, enrich), None)

    @property
    def started(self) -> bool:
        return self.pool.started

    def pids(self) -> list[int]:
        """The processes' ids: the loader's, then the workers' that have started."""
        return self.pool.pids()

    def kill(self) -> None:
        """Kill the processes now (a job stuck past ``PROCESS_JOB_SECONDS``): every job not answered yet
        fails with ``BrokenProcessPool``."""
        self.pool.kill()

    def close(self) -> None:
        """End the processes, waiting for the jobs under way."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        self._early.clear()  # feeds the pass did not claim after all (another worker did)
        _ENRICHER.clear()


_POLL_SECONDS = 1.0  # how often an idle worker checks that this process is still there


class _ForkedPool(Executor):
    """The executor behind ``WorkerProcesses``: jobs through one queue, each worker's answers through
    its own pipe.

    A worker's pipe doubles as its sign of life: when a worker dies (killed, crashed), its pipe ends
    and every job not yet answered fails with ``BrokenProcessPool``, as ``ProcessPoolExecutor`` does,
    so ``FeedWork`` runs them on its thread. One pipe per worker, not one shared queue: a worker killed
    half-way through an answer leaves a torn message only in its own pipe, which then just ends.
    """

    def __init__(self, count: int) -> None:
        import multiprocessing
        import threading

        ctx = multiprocessing.get_context("fork")
        self._count = count
        self._jobs: Any = ctx.Queue()  # a feeder thread here writes to the pipe: ``submit`` never blocks
        pipes = [ctx.Pipe(duplex=False) for _ in range(count)]
        self._conns = [reader for reader, _ in pipes]
        go, self._go = ctx.Pipe(duplex=False)  # True: load and fork the workers; False (or its end): end
        self._lock = threading.Lock()
        self._killing = threading.Lock()
        self._pending: dict[int, Future[Any]] = {}
        self._ids = itertools.count()
        self._pids: dict[int, int] = {}
        self._started = False
        self._closed = False
        self._broken: str | None = None
        # Forked now, from the calling thread, before any worker thread of the pass exists; the workers
        # run only the pure functions above and never touch another thread's locks. Python 3.12's
        # warning about forking a threaded process is silenced for this one call.
        self._loader = ctx.Process(
            target=_loader,
            args=(go, self._go, self._jobs, [writer for _, writer in pipes], os.getpid()),
            name="feedwork",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self._loader.start()
        for _, writer in pipes:
            writer.close()
        go.close()
        self._reader = threading.Thread(target=self._read, name="feedwork-answers", daemon=True)
        self._reader.start()

    @property
    def started(self) -> bool:
        return self._started

    def start(self) -> None:
        with self._lock:
            if self._started or self._closed:
                return
            self._started = True
        with contextlib.suppress(OSError):  # the loader died: its workers' pipes ended, the pool is broken
            self._go.send(True)

    def pids(self) -> list[int]:
        with self._lock:
            if self._closed:
                return []
            workers = [self._pids[i] for i in sorted(self._pids)]
        return [self._loader.pid, *workers] if self._loader.pid is not None else workers

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._broken is not None:
                raise BrokenProcessPool(self._broken)
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            job = next(self._ids)
            self._pending[job] = future
        self._jobs.put((job, fn, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            started = self._started
        if started:
            for _ in range(self._count):
                self._jobs.put(None)
        else:
            with contextlib.suppress(OSError):  # it died already
                self._go.send(False)  # the loader ends without loading anything
        self._go.close()
        if wait:
            self._loader.join(PROCESS_JOB_SECONDS)
        if self._loader.is_alive() or self._broken is not None:
            self.kill()
            self._jobs.cancel_join_thread()  # nobody may read what is still queued
        self._reader.join(5)
        self._jobs.close()
        with self._lock:
            left, self._pending = list(self._pending.values()), {}
            self._pids.clear()
        for future in left:  # no worker is left to answer them, whatever ``cancel_futures`` says
            future.cancel()

    def kill(self) -> None:
        """Kill the workers, then let the loader reap them and end; kill it too if it does not (stuck in
        loading, or it had not forked them yet), so that no killed worker is left unreaped."""
        with self._killing:
            with self._lock:
                workers = list(self._pids.values())
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):  # ended meanwhile
                    os.kill(pid, signal.SIGKILL)
            self._loader.join(2)
            if self._loader.is_alive() and self._loader.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._loader.pid, signal.SIGKILL)
                self._loader.join(5)

    def _read(self) -> None:
        """The answers thread: resolves futures until every worker's pipe has ended."""
        from multiprocessing.connection import wait

        index = {conn: i for i, conn in enumerate(self._conns)}
        while index:
            for ready in wait(list(index)):
                conn = cast("Connection", ready)
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    i = index.pop(conn)
                    conn.close()
                    self._ended(i)
                    continue
                self._answer(index[conn], message)

    def _answer(self, worker: int, message: tuple[Any, ...]) -> None:
        if message[0] == "pid":
            with self._lock:
                self._pids[worker] = message[1]
            return
        job, ok, value = message
        with self._lock:
            future = self._pending.pop(job, None)
        if future is None:
            return
        with contextlib.suppress(InvalidStateError):  # cancelled by its awaiter meanwhile
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _ended(self, worker: int) -> None:
        with self._lock:
            expected = self._closed and self._broken is None
            if not expected and self._broken is None:
                self._broken = f"feed worker process {worker} ended unexpectedly"
            left = [] if expected else list(self._pending.values())
            if not expected:
                self._pending.clear()
        if expected:
            return
        log.warning("ingest worker process %d ended unexpectedly: its jobs run in this process", worker)
        self.kill()  # the others may be waiting on a lock the dead one held
        for future in left:
            with contextlib.suppress(InvalidStateError):
                future.set_exception(BrokenProcessPool(self._broken or "feed worker process ended"))


def _loader(go: Connection, go_end: Connection, jobs: Any, writers: list[Connection], owner: int) -> None:
    """The process the workers are forked from: waits to be started, loads the pipeline, forks the
    workers, then only reaps them (it runs no job, so it never gets stuck in one) and ends after them."""
    import multiprocessing

    go_end.close()  # the parent's end, copied by the fork: only the parent may end this pipe
    if not _started(go, owner):  # closed before it was started: nothing was loaded
        return
    if not _ENRICHER:
        _load_in_child()
    ctx = multiprocessing.get_context("fork")
    workers = []
    for i, writer in enumerate(writers):
        worker = ctx.Process(target=_serve, args=(jobs, writers, i, owner), name=f"feedwork-{i}")
        worker.start()
        workers.append(worker)
        writer.close()
    for worker in workers:
        worker.join()


def _serve(jobs: Any, writers: list[Connection], me: int, owner: int) -> None:
    """A worker's loop: runs jobs from the queue and answers on its own pipe until told to end."""
    from multiprocessing.reduction import ForkingPickler

    for i, writer in enumerate(writers):
        if i != me:
            writer.close()  # only the worker's own pipe stays open here, so that its end means its death

    answers = writers[me]
    answers.send(("pid", os.getpid()))
    while (job := _next_job(jobs, owner)) is not None:
        number, fn, args, kwargs = job
        try:
            answer: tuple[Any, ...] = (number, True, fn(*args, **kwargs))
        except Exception as exc:  # the job's own error goes back to whoever waits for it
            answer = (number, False, exc)
        try:
            data = ForkingPickler.dumps(answer)
        except Exception as exc:  # an answer (or an error) that does not pickle
            data = ForkingPickler.dumps((number, False, RuntimeError(f"the answer does not pickle: {exc}")))
        try:
            answers.send_bytes(data)
        except OSError:  # the process that started the workers is gone
            return


def _started(go: Connection, owner: int) -> bool:
    """Waits for the word to load (True) or to end (False, the pipe's end, the parent's death)."""
    try:
        while not go.poll(_POLL_SECONDS):
            os.kill(owner, 0)
        return bool(go.recv())
    except (EOFError, OSError):  # ProcessLookupError is an OSError
        return False
    finally:
        go.close()


def _next_job(jobs: Any, owner: int) -> Any:
    """The next message, or None once the process that started the workers is gone."""
    import queue

    while True:
        try:
            return jobs.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                return None
        except (EOFError, OSError):
            return None


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
        self._process: _ForkedPool | None = None
        self._consumers: list[asyncio.Task[None]] = []
        self._starting: asyncio.Task[None] | None = None
        self._loaded: Enricher | None = None
        self.jobs_in_process = 0
        """Jobs the worker processes ran (for tests and the benchmark's curiosity)."""
        self.jobs_taken_early = 0
        """Of those, jobs handed to them before this pass began (``WorkerProcesses.submit_early``)."""

    @property
    def forked(self) -> bool:
        return self._process is not None

    async def parse(self, body: bytes, headers: dict[str, str], url: str, fallback: str) -> ParsedArticles:
        """``parse_and_clean`` in whichever worker is free first."""
        taken, early = await self._taken_early(body, url, fallback, enrich=False)
        if taken:
            return cast(ParsedArticles, early)
        return await self._run(_PARSE, lambda ex: ex.submit(parse_and_clean, body, headers, url, fallback))

    async def parse_and_enrich(
        self, body: bytes, headers: dict[str, str], url: str, fallback: str
    ) -> Enriched:
        """``parse_and_enrich`` in whichever worker is free first."""
        taken, early = await self._taken_early(body, url, fallback, enrich=True)
        if taken:
            return cast(Enriched, early)

        def submit(executor: Executor) -> Future[Enriched]:
            if executor is self._process:
                return executor.submit(_parse_and_enrich_in_worker, body, headers, url, fallback)
            return executor.submit(lambda: parse_and_enrich(self._enricher(), body, headers, url, fallback))

        return await self._run(_ENRICH, submit)

    async def _taken_early(self, body: bytes, url: str, fallback: str, *, enrich: bool) -> tuple[bool, Any]:
        """(True, the answer) of the same job handed to the processes before this pass began
        (``WorkerProcesses.submit_early``); (False, None) when there was none or the processes broke."""
        if self._processes is None:
            return False, None
        future = self._processes.take_early(body, url, fallback, enrich=enrich)
        if future is None:
            return False, None
        try:
            result = await self._watched(asyncio.wrap_future(future))
        except BrokenExecutor:
            return False, None
        self.jobs_in_process += 1
        self.jobs_taken_early += 1
        return True, result

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
            stuck = self._processes.pids()
            log.warning("ingest worker processes %s stuck for %.0f s: killed", stuck, PROCESS_JOB_SECONDS)
            await asyncio.to_thread(self._processes.kill)
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
