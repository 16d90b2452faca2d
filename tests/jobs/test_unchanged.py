"""``jobs.unchanged``: a pass of 304s ends early with the full pass's summary and rows; anything else
hands over to the full pass, which then asks no server a second time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs import unchanged
from jobs.fetcher import Fetcher, FetchPolicy, FetchResult
from jobs.ingest import Ingestor
from jobs.unchanged import unchanged_pass, without_validators
from storage import feeds as feed_store
from storage.conditional import due_feeds_readonly
from storage.db import Database
from storage.feedinfo import FeedInfo
from tests.feedserver import FeedServer

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
NOW = datetime(2018, 6, 4, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=15)


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(FetchPolicy(allow_private=True, timeout_s=3)) as f:
        yield f


async def _add(db: Database, urls: list[str]) -> None:
    async with db.session() as s, s.begin():
        for url in urls:
            await feed_store.add_feed(s, url, now=NOW)


async def _feeds(db: Database) -> list[feed_store.FeedInfo]:
    async with db.session() as s:
        return await feed_store.list_feeds(s)


async def test_a_pass_of_304s_reports_and_records_as_the_full_pass(
    db: Database, db_url: str, fetcher: Fetcher, feed_server: FeedServer
) -> None:
    await _add(db, [feed_server.url(f"/feeds/{n}") for n in ("bbc.xml", "cnn.xml", "atom.xml")])
    ingestor = Ingestor(db, fetcher, interval=INTERVAL)
    assert (await ingestor.run(NOW, include_all=True)).new > 0

    later = NOW + timedelta(hours=1)
    found = await unchanged_pass(db_url, fetcher, later, interval=INTERVAL, include_all=True)
    summary = found.summary
    assert summary is not None and found.changed == 0
    assert summary.feeds_not_modified == summary.feeds_ok == 3 and summary.new == 0
    recorded = await _feeds(db)
    assert all(f.last_ok_at == later and f.next_check_at > later for f in recorded)
    assert feed_server.requests_for("/feeds/bbc.xml")[-1].headers.get("if-none-match")

    # The full pass at the same moment finds the same and writes the same.
    full = await ingestor.run(later, include_all=True)
    assert full.as_dict() == summary.as_dict()
    assert await _feeds(db) == recorded


async def test_only_due_feeds_unless_all(
    db: Database, db_url: str, fetcher: Fetcher, feed_server: FeedServer
) -> None:
    await _add(db, [feed_server.url("/feeds/bbc.xml")])
    await Ingestor(db, fetcher, interval=INTERVAL).run(NOW, include_all=True)
    requests = len(feed_server.requests_for("/feeds/bbc.xml"))
    soon = NOW + timedelta(minutes=1)
    nothing_due = (await unchanged_pass(db_url, fetcher, soon, interval=INTERVAL)).summary
    assert nothing_due is not None and nothing_due.feeds_ok == 0
    assert len(feed_server.requests_for("/feeds/bbc.xml")) == requests


async def test_new_content_hands_over_without_asking_twice(
    db: Database, db_url: str, fetcher: Fetcher, feed_server: FeedServer
) -> None:
    changing = feed_server.route(
        "/changing.xml", body=(FEEDS / "cnn.xml").read_bytes(), content_type="application/rss+xml", etag='"1"'
    )
    await _add(db, [feed_server.url("/feeds/bbc.xml"), changing])
    ingestor = Ingestor(db, fetcher, interval=INTERVAL)
    await ingestor.run(NOW, include_all=True)
    feed_server.route(
        "/changing.xml",
        body=(FEEDS / "skynews.xml").read_bytes(),
        content_type="application/rss+xml",
        etag='"2"',
    )

    later = NOW + timedelta(hours=1)
    found = await unchanged_pass(db_url, fetcher, later, interval=INTERVAL, include_all=True)
    assert found.summary is None and found.changed == 1  # the full pass will parse one feed
    asked = {p: len(feed_server.requests_for(p)) for p in ("/feeds/bbc.xml", "/changing.xml")}
    assert asked == {"/feeds/bbc.xml": 2, "/changing.xml": 2}
    assert {f.last_ok_at for f in await _feeds(db)} == {NOW}  # nothing recorded yet

    full = await ingestor.run(later, include_all=True)
    assert full.feeds_ok == 2 and full.feeds_not_modified == 1 and full.new > 0
    assert {p: len(feed_server.requests_for(p)) for p in asked} == asked  # the answers were reused
    assert {f.etag for f in await _feeds(db) if f.url == changing} == {'"2"'}


async def test_feeds_never_fetched_are_asked_once_for_the_full_pass(
    db: Database, db_url: str, fetcher: Fetcher, feed_server: FeedServer
) -> None:
    """A feed without validators makes a full pass certain: the pass returns at once, its GETs under way
    (``Fetcher.fetch_ahead``), each body goes to ``on_body`` as it arrives, and the full pass then
    finds the answers in hand: the server is asked once."""
    await _add(db, [feed_server.url("/feeds/bbc.xml"), feed_server.url("/feeds/cnn.xml")])
    bodies: dict[str, int] = {}

    def on_body(feed: FeedInfo, result: FetchResult) -> None:
        bodies[feed.url.rsplit("/", 1)[1]] = len(result.body)

    found = await unchanged_pass(db_url, fetcher, NOW, interval=INTERVAL, include_all=True, on_body=on_body)
    assert found.summary is None and found.changed == 2
    assert {f.last_ok_at for f in await _feeds(db)} == {None}  # nothing recorded here
    for _ in range(500):  # the answers arrive while nothing asks for them yet
        if len(bodies) == 2:
            break
        await asyncio.sleep(0.01)
    sizes = {name: (FEEDS / name).stat().st_size for name in ("bbc.xml", "cnn.xml")}
    assert bodies == sizes

    full = await Ingestor(db, fetcher, interval=INTERVAL).run(NOW, include_all=True)
    assert full.feeds_ok == 2 and full.new > 0
    assert [len(feed_server.requests_for(p)) for p in ("/feeds/bbc.xml", "/feeds/cnn.xml")] == [1, 1]


async def test_a_fetch_started_ahead_that_nobody_asks_for_ends_with_the_fetcher(
    feed_server: FeedServer,
) -> None:
    """The full pass may not claim a feed (another worker did): the GET started for it is cancelled when
    the fetcher closes, and no task is left pending."""
    slow = feed_server.route("/slow.xml", body=(FEEDS / "bbc.xml").read_bytes(), delay_s=5.0)
    fetcher = Fetcher(FetchPolicy(allow_private=True, timeout_s=10))
    task = fetcher.fetch_ahead(slow)
    await asyncio.sleep(0.05)
    await fetcher.aclose()
    assert task.cancelled()


async def test_more_never_fetched_feeds_than_a_claim_batch_are_left_to_the_full_pass(
    db: Database, db_url: str, fetcher: Fetcher, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``CLAIM_BATCH`` due feeds, the bodies would all be held at once: nothing is asked."""
    monkeypatch.setattr(unchanged, "CLAIM_BATCH", 1)
    await _add(db, [feed_server.url("/feeds/bbc.xml"), feed_server.url("/feeds/cnn.xml")])
    found = await unchanged_pass(db_url, fetcher, NOW, interval=INTERVAL, include_all=True)
    assert found.summary is None and found.changed == 2
    assert feed_server.requests_for("/feeds/bbc.xml") == feed_server.requests_for("/feeds/cnn.xml") == []


async def test_a_failing_feed_hands_over_and_is_recorded_once(
    db: Database, db_url: str, fetcher: Fetcher, feed_server: FeedServer
) -> None:
    flaky = feed_server.route("/flaky.xml", body=(FEEDS / "cnn.xml").read_bytes(), etag='"1"')
    await _add(db, [flaky])
    ingestor = Ingestor(db, fetcher, interval=INTERVAL)
    await ingestor.run(NOW, include_all=True)
    feed_server.route("/flaky.xml", status=503, body=b"busy")
    later = NOW + timedelta(hours=1)
    assert (await unchanged_pass(db_url, fetcher, later, interval=INTERVAL, include_all=True)).summary is None
    full = await ingestor.run(later, include_all=True)
    assert full.feeds_failed == 1 and "503" in (full.failures[0].error or "")
    assert len(feed_server.requests_for("/flaky.xml")) == 2
    (feed,) = await _feeds(db)
    assert feed.error_count == 1 and feed.last_ok_at == NOW


async def test_feeds_that_cannot_answer_304_are_counted_before_any_get_is_sent(
    db: Database, db_url: str, fetcher: Fetcher, feed_server: FeedServer
) -> None:
    """The due feeds read first, ``without_validators`` counts those that have none (the full pass will
    parse them) while no GET is out yet, and the pass then runs on the feeds read: the caller starts
    loading what the full pass needs during the GETs."""
    await _add(db, [feed_server.url("/feeds/bbc.xml")])
    await Ingestor(db, fetcher, interval=INTERVAL).run(NOW, include_all=True)  # it now has validators
    await _add(db, [feed_server.url(f"/feeds/{n}") for n in ("cnn.xml", "atom.xml")])  # new: none
    before = len(feed_server.requests)
    due = due_feeds_readonly(db_url, NOW, include_all=True)
    assert due is not None and without_validators(due) == 2
    assert len(feed_server.requests) == before
    found = await unchanged_pass(db_url, fetcher, NOW, interval=INTERVAL, include_all=True, due=due)
    assert found.summary is None and found.changed == 3  # every due feed: the full pass is certain
    full = await Ingestor(db, fetcher, interval=INTERVAL).run(NOW, include_all=True)
    assert full.feeds_ok == 3 and full.feeds_not_modified == 1 and full.new > 0
    assert len(feed_server.requests) == before + 3  # the GETs sent ahead were the full pass's
