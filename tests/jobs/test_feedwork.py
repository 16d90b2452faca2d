"""FeedWork: a feed's Arabic work gives the same result on the worker thread and in forked processes,
whether they were forked after the model was loaded here or before anything was (``WorkerProcesses``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import pytest

from jobs.feedwork import FeedWork, ParsedArticles, WorkerProcesses, enrich_and_sign, parse_and_clean
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
        assert len(processes.pids()) == 2
        assert all(os.kill(pid, 0) is None for pid in processes.pids())  # FeedWork left them to their owner
    finally:
        processes.close()
    assert processes.pids() == []


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
        assert len(children) == 2
        for child in children:
            with pytest.raises(ProcessLookupError):
                for _ in range(50):  # the child is gone (reaped by the pool once it saw it die)
                    os.kill(child, 0)
                    await asyncio.sleep(0.1)
    finally:
        for child in children:  # a failed run must not leave close() waiting an hour on it
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        await work.close()
