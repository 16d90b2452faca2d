"""FeedWork: a feed's Arabic work gives the same result on the worker thread and in forked processes,
whether they were forked after the model was loaded here or before anything was (``WorkerProcesses``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import pytest

from jobs.feedwork import (
    FeedWork,
    ParsedArticles,
    WorkerProcesses,
    cpu_limit,
    enrich_and_sign,
    parse_and_clean,
    spare_cores,
    worker_count,
)
from jobs.ingest import Enricher
from news.parse import FeedParseError

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
NAMES = ["alarabiya.xml", "bbc.xml", "cnn.xml", "france24.xml", "skynews.xml", "cp1256.xml"]
HEADERS = {"content-type": "application/rss+xml"}


def _parse(name: str) -> ParsedArticles:
    return parse_and_clean((FEEDS / name).read_bytes(), HEADERS, f"https://feeds.test/{name}", "feeds.test")


async def _all(work: FeedWork) -> list[tuple[ParsedArticles, list[tuple[object, bytes]]]]:
    async def one(name: str) -> tuple[ParsedArticles, list[tuple[object, bytes]]]:
        parsed = await work.parse(
            (FEEDS / name).read_bytes(), HEADERS, f"https://feeds.test/{name}", "feeds.test"
        )
        return parsed, list(await work.enrich(parsed.articles))

    try:
        return await asyncio.gather(*(one(n) for n in NAMES))
    finally:
        await work.close()


def _plain(enricher: Enricher) -> list[tuple[ParsedArticles, list[tuple[object, bytes]]]]:
    """Every feed parsed and enriched by plain calls, in this process: what any worker must give."""
    out: list[tuple[ParsedArticles, list[tuple[object, bytes]]]] = []
    for name in NAMES:
        parsed = _parse(name)
        out.append((parsed, list(enrich_and_sign(enricher, parsed.articles))))
    return out


async def test_the_forked_processes_and_the_thread_give_what_a_plain_call_gives() -> None:
    enricher = Enricher()
    expected = _plain(enricher)

    forked = FeedWork(lambda: enricher, fork=True)
    assert await _all(forked) == expected
    assert forked.forked and forked.jobs_in_process > 0

    alone = FeedWork(lambda: enricher, fork=False)
    assert await _all(alone) == expected
    assert not alone.forked and alone.jobs_in_process == 0


async def test_processes_forked_before_anything_was_loaded_build_their_own_enricher() -> None:
    """``nashra fetch``'s way: the children load the model; this process never builds an enricher."""
    expected = _plain(Enricher())

    def never() -> Enricher:
        raise AssertionError("the parent built an enricher")

    processes = WorkerProcesses()
    try:
        work = FeedWork(never, fork=False, processes=processes)
        assert await _all(work) == expected
        assert work.forked and work.jobs_in_process == 2 * len(NAMES)  # every job ran in a child
        assert len(processes.pids()) == 1 + worker_count()  # the loader and its workers
        assert all(os.kill(pid, 0) is None for pid in processes.pids())  # FeedWork left them to their owner
    finally:
        processes.close()
    assert processes.pids() == []


async def test_a_feed_parsed_and_enriched_in_one_job_gives_what_two_jobs_give() -> None:
    """``parse_and_enrich`` (a feed read for the first time) on the thread and in the processes."""
    enricher = Enricher()
    expected = _plain(enricher)
    for fork in (True, False):
        work = FeedWork(lambda: enricher, fork=fork)
        try:
            got = await asyncio.gather(
                *(
                    work.parse_and_enrich(
                        (FEEDS / n).read_bytes(), HEADERS, f"https://feeds.test/{n}", "feeds.test"
                    )
                    for n in NAMES
                )
            )
            assert [(parsed, list(signed)) for parsed, signed in got] == expected
            assert work.forked is fork and work.jobs_in_process == (len(NAMES) if fork else 0)
        finally:
            await work.close()


async def test_a_feed_handed_to_the_workers_early_is_worked_once() -> None:
    """``nashra fetch`` hands each body to the workers as it arrives (``submit_early``), before its pass
    is ready: the pass then takes those answers rather than submitting the same jobs again."""
    expected = _plain(Enricher())

    def never() -> Enricher:
        raise AssertionError("the parent built an enricher")

    processes = WorkerProcesses()
    try:
        for i, name in enumerate(NAMES):
            url = f"https://feeds.test/{name}"
            processes.submit_early((FEEDS / name).read_bytes(), HEADERS, url, "feeds.test", enrich=i % 2 == 0)
        work = FeedWork(never, fork=False, processes=processes)
        got = []
        for i, name in enumerate(NAMES):
            args = ((FEEDS / name).read_bytes(), HEADERS, f"https://feeds.test/{name}", "feeds.test")
            if i % 2 == 0:
                parsed, signed = await work.parse_and_enrich(*args)
                got.append((parsed, list(signed)))
            else:
                parsed = await work.parse(*args)
                got.append((parsed, list(await work.enrich(parsed.articles))))
        assert got == expected
        assert work.jobs_taken_early == len(NAMES)
        # One job per feed read once (its parse and enrichment), two for the others: none twice.
        assert work.jobs_in_process == len(NAMES) + len(NAMES) // 2
        await work.close()
    finally:
        processes.close()


async def test_an_early_job_lost_with_its_worker_runs_again_here() -> None:
    enricher = Enricher()
    (expected,) = [e for n, e in zip(NAMES, _plain(enricher), strict=True) if n == NAMES[0]]
    body, url = (FEEDS / NAMES[0]).read_bytes(), f"https://feeds.test/{NAMES[0]}"
    processes = WorkerProcesses(held=True)
    try:
        processes.submit_early(body, HEADERS, url, "feeds.test", enrich=True)
        processes.kill()  # before the loader ever forked a worker: the job is lost with it
        work = FeedWork(lambda: enricher, fork=False, processes=processes)
        parsed, signed = await asyncio.wait_for(work.parse_and_enrich(body, HEADERS, url, "feeds.test"), 60)
        assert (parsed, list(signed)) == expected
        assert work.jobs_taken_early == 0 and work.jobs_in_process == 0  # it ran on this process's thread
        await work.close()
    finally:
        processes.close()


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _pipeline_loaded() -> bool:
    import sys

    return "news.classifier" in sys.modules


async def test_the_workers_are_forked_from_one_loader_after_it_loaded_the_pipeline() -> None:
    """The model is read and the modules imported once: every worker is a child of the loader, and
    finds the pipeline already in memory."""
    processes = WorkerProcesses()
    try:
        answers = await asyncio.gather(
            *(asyncio.wrap_future(processes.pool.submit(os.getppid)) for _ in range(8)),
            *(asyncio.wrap_future(processes.pool.submit(_pipeline_loaded)) for _ in range(4)),
        )
        for _ in range(100):  # each worker reports its pid once it runs
            if len(processes.pids()) == 1 + worker_count():
                break
            await asyncio.sleep(0.05)
        loader, *workers = processes.pids()
        assert len(workers) == worker_count() and loader not in workers
        assert all(_parent_of(worker) == loader for worker in workers)
        assert set(answers[:8]) == {loader}
        assert answers[8:] == [True] * 4
    finally:
        processes.close()
    assert processes.pids() == []


async def test_held_workers_run_nothing_until_started_and_end_unused() -> None:
    import time

    processes = WorkerProcesses(held=True)
    try:
        job = asyncio.wrap_future(processes.pool.submit(os.getppid))
        await asyncio.sleep(0.3)
        assert not job.done() and len(processes.pids()) == 1  # only the loader, waiting
        processes.start()
        assert await asyncio.wait_for(job, 30) == processes.pids()[0]
    finally:
        processes.close()

    unused = WorkerProcesses(held=True)
    loader = unused.pids()[0]
    started = time.monotonic()
    unused.close()
    assert time.monotonic() - started < 5 and unused.pids() == []
    with pytest.raises(ProcessLookupError):
        os.kill(loader, 0)  # ended (and reaped) without ever loading the pipeline


def _unpicklable() -> object:
    return lambda: None


async def test_an_answer_that_does_not_pickle_fails_that_job_only() -> None:
    processes = WorkerProcesses()
    try:
        with pytest.raises(RuntimeError, match="does not pickle"):
            await asyncio.wrap_future(processes.pool.submit(_unpicklable))
        assert await asyncio.wrap_future(processes.pool.submit(os.getppid)) == processes.pids()[0]
    finally:
        processes.close()


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie left to a reaper that is not ours."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_the_workers_end_when_the_process_that_started_them_dies(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    code = (
        "import os, sys, time\n"
        "from jobs.feedwork import WorkerProcesses\n"
        "p = WorkerProcesses()\n"
        "p.pool.submit(os.getpid).result(60)\n"
        "while len(p.pids()) < 3:\n    time.sleep(0.05)\n"
        "print(*p.pids(), flush=True)\n"
        "time.sleep(600)\n"
    )
    root = Path(__file__).resolve().parents[2]
    owner = subprocess.Popen([sys.executable, "-c", code], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        pids = [int(p) for p in owner.stdout.readline().split()]
        assert len(pids) == 3
        owner.kill()  # no close(): the workers must notice on their own
        owner.wait(10)
        deadline = time.monotonic() + 15
        while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(_gone(pid) for pid in pids)
    finally:
        owner.kill()
        owner.wait(10)
        if owner.stdout is not None:
            owner.stdout.close()


async def test_a_job_error_in_the_process_reaches_the_caller() -> None:
    work = FeedWork(Enricher, fork=True)
    try:
        with pytest.raises(FeedParseError):
            # Several at once, so that the process surely gets some of them.
            await asyncio.gather(
                *(work.parse(b"<html>not a feed</html>", {}, "https://x.test/", "x") for _ in range(4))
            )
        assert work.forked
    finally:
        await work.close()


async def test_when_the_worker_process_dies_its_jobs_run_here() -> None:
    enricher = Enricher()
    work = FeedWork(lambda: enricher, fork=True)
    try:
        first = await work.parse(
            (FEEDS / NAMES[0]).read_bytes(), HEADERS, "https://feeds.test/a", "feeds.test"
        )
        assert work._processes is not None
        for pid in work._processes.pids():
            os.kill(pid, signal.SIGKILL)
        again = await asyncio.gather(
            *(
                work.parse((FEEDS / NAMES[0]).read_bytes(), HEADERS, "https://feeds.test/a", "feeds.test")
                for _ in range(4)
            )
        )
        assert all(p == first for p in again)
    finally:
        await work.close()


async def test_a_stuck_worker_process_is_killed_and_its_jobs_run_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    from jobs import feedwork

    monkeypatch.setattr(feedwork, "PROCESS_JOB_SECONDS", 0.5)
    work = FeedWork(Enricher, fork=True)
    # One job first, so that the workers exist (not only the process they are forked from).
    await work.parse((FEEDS / NAMES[0]).read_bytes(), HEADERS, "https://feeds.test/a", "feeds.test")

    children: list[int] = []

    def hangs_in_the_child(executor: object) -> object:
        # In the child the job never ends (as on a lock a fork copied held); on the thread it answers.
        if executor is work._process:
            assert work._processes is not None
            children.extend(p for p in work._processes.pids() if p not in children)
            return work._process.submit(time.sleep, 3600)
        return work._thread.submit(os.getpid)  # type: ignore[union-attr]

    try:
        started = time.monotonic()
        answers = await asyncio.wait_for(
            asyncio.gather(*(work._run(0, hangs_in_the_child) for _ in range(3))), timeout=30
        )
        assert answers == [os.getpid()] * 3  # every job ended on this process's thread
        assert time.monotonic() - started < 20
        assert len(children) == 1 + worker_count()  # the loader and the workers it forked
        for child in children:
            with pytest.raises(ProcessLookupError):
                for _ in range(50):  # the child is gone (reaped once it died, not left a zombie)
                    os.kill(child, 0)
                    await asyncio.sleep(0.1)
    finally:
        for child in children:  # a failed run must not leave close() waiting an hour on it
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        await work.close()


@pytest.mark.parametrize(
    ("cpu_max", "v1", "cpus"),
    [
        ("200000 100000\n", None, 2.0),  # cgroup v2, docker run --cpus 2
        ("150000 100000\n", None, 1.5),
        ("max 100000\n", None, None),  # no limit
        (None, ("100000\n", "100000\n"), 1.0),  # cgroup v1
        (None, ("-1\n", "100000\n"), None),
        (None, None, None),  # neither file
        ("garbage", None, None),
    ],
)
def test_the_cpu_quota_of_a_container_is_read_from_either_cgroup_version(
    cpu_max: str | None, v1: tuple[str, str] | None, cpus: float | None
) -> None:
    assert cpu_limit(cpu_max, *(v1 or (None, None))) == cpus


def test_a_forked_pass_runs_one_worker_per_spare_core_from_two_to_four() -> None:
    assert [worker_count(spare) for spare in range(7)] == [2, 2, 2, 3, 4, 4, 4]
    assert worker_count() == max(2, min(4, spare_cores()))


async def test_three_workers_give_what_two_give() -> None:
    """On a machine with three spare cores: the jobs spread over three children, the answers unchanged."""
    expected = _plain(Enricher())
    processes = WorkerProcesses(3)
    try:
        work = FeedWork(Enricher, fork=False, processes=processes)
        assert await _all(work) == expected
        assert len(processes.pids()) == 4  # the loader and three workers
    finally:
        processes.close()
