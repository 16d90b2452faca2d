"""Ingestion end to end: a real loopback HTTP server serving feed fixtures, real parsing, a real database."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, func, select, update

from jobs.fetcher import Fetcher, FetchPolicy
from jobs.ingest import Enricher, Ingestor
from jobs.stories import StoryClusterer
from news.classifier import FeatureConfig, SourceWeights, TopicClassifier
from news.cluster import signature
from news.models import Article
from news.topics import BUILTIN_KEYS
from storage import feeds as feed_store
from storage.db import Database
from storage.feedinfo import FeedInfo
from storage.schema import ArticleRow, Feed, Story
from storage.stories import stories_since
from tests.feedserver import FeedServer

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
MANIFEST = json.loads((FEEDS / "manifest.json").read_text(encoding="utf-8"))
OUTLETS = ["alarabiya.xml", "bbc.xml", "cnn.xml", "france24.xml", "skynews.xml"]
NOW = datetime(2018, 6, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(FetchPolicy(allow_private=True, timeout_s=3, max_bytes=2 * 1024 * 1024)) as f:
        yield f


@pytest.fixture
def ingestor(db: Database, fetcher: Fetcher) -> Ingestor:
    return Ingestor(db, fetcher, interval=timedelta(minutes=15))


async def add_feeds(db: Database, urls: list[str]) -> list[int]:
    ids = []
    async with db.session() as s, s.begin():
        for url in urls:
            ids.append((await feed_store.add_feed(s, url, now=NOW)).id)
    return ids


async def scalar(db: Database, query: object) -> int:
    async with db.session() as s:
        return int(await s.scalar(query) or 0)  # type: ignore[call-overload]


async def test_first_pass_stores_every_article_and_second_pass_finds_nothing_new(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    names = [*OUTLETS, "atom.xml", "cp1256.xml", "rss1.rdf"]
    await add_feeds(db, [feed_server.url(f"/feeds/{n}") for n in names])

    first = await ingestor.run(NOW, include_all=True)
    stored = await scalar(db, select(func.count()).select_from(ArticleRow))
    assert first.feeds_ok == len(names) and first.feeds_failed == 0
    assert first.new == stored
    # Some fixture items appear in more than one file (the Atom feed re-tells France 24): stored once.
    assert sum(MANIFEST[n]["items"] for n in names) - 15 <= stored <= sum(MANIFEST[n]["items"] for n in names)

    second = await ingestor.run(NOW + timedelta(hours=1), include_all=True)
    assert (second.new, second.feeds_failed) == (0, 0)
    assert second.feeds_not_modified == len(names)  # conditional GET: the server answered 304
    again = feed_server.requests_for("/feeds/bbc.xml")[-1]
    assert again.headers.get("if-none-match")
    assert await scalar(db, select(func.count()).select_from(ArticleRow)) == stored


async def test_unchanged_feed_without_validators_counts_duplicates(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    body = (FEEDS / "bbc.xml").read_bytes()
    url = feed_server.route("/plain.xml", body=body, content_type="application/rss+xml; charset=utf-8")
    await add_feeds(db, [url])
    first = await ingestor.run(NOW, include_all=True)
    second = await ingestor.run(NOW + timedelta(hours=1), include_all=True)
    assert first.new == MANIFEST["bbc.xml"]["items"]
    assert (second.new, second.duplicates) == (0, first.new)


async def test_url_variants_and_reposts_are_stored_once(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    await add_feeds(db, [feed_server.url("/feeds/duplicates.xml")])
    summary = await ingestor.run(NOW, include_all=True)
    groups = MANIFEST["duplicates.xml"]["groups"]
    expected = len(groups["distinct"]) + 1 + 1  # every same_url variant → 1, the «عاجل:» re-post → 1
    assert summary.new == expected
    assert summary.duplicates == MANIFEST["duplicates.xml"]["items"] - expected


async def test_same_item_in_two_feeds_is_stored_once(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    body = (FEEDS / "skynews.xml").read_bytes()
    a = feed_server.route("/a.xml", body=body, content_type="application/rss+xml")
    b = feed_server.route("/b.xml", body=body, content_type="application/rss+xml")
    await add_feeds(db, [a])
    await ingestor.run(NOW, include_all=True)
    await add_feeds(db, [b])
    summary = await ingestor.run(NOW + timedelta(minutes=1), include_all=True)
    assert summary.new == 0
    assert await scalar(db, select(func.count()).select_from(ArticleRow)) == MANIFEST["skynews.xml"]["items"]


async def test_windows_1256_feed_comes_out_as_arabic(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    await add_feeds(db, [feed_server.url("/feeds/cp1256.xml")])
    await ingestor.run(NOW, include_all=True)
    async with db.session() as s:
        titles = set((await s.scalars(select(ArticleRow.title))).all())
    assert set(MANIFEST["cp1256.xml"]["titles"]) <= titles


CP1256_BYTES = (FEEDS / "cp1256.xml").read_bytes()
CP1256_DECLARATION = b'<?xml version="1.0" encoding="windows-1256"?>'
UTF8_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
WORD = re.compile(r"[^\W_]+")
CP1256_WORDS = set(WORD.findall(CP1256_BYTES.decode("cp1256")))  # every word the feed really says
CP1256_VARIANTS = {
    # windows-1256 bytes while the HTTP header and the XML declaration both claim UTF-8
    "lying": (
        CP1256_BYTES.replace(CP1256_DECLARATION, UTF8_DECLARATION),
        "application/rss+xml; charset=utf-8",
    ),
    "declared": (CP1256_BYTES, "text/xml; charset=windows-1256"),
    "utf-8": (
        CP1256_BYTES.decode("cp1256").encode("utf-8").replace(CP1256_DECLARATION, UTF8_DECLARATION),
        "application/rss+xml; charset=utf-8",
    ),
}


@pytest.mark.parametrize("variant", list(CP1256_VARIANTS))
async def test_arabic_is_stored_right_whatever_the_feed_claims(
    db: Database, feed_server: FeedServer, fetcher: Fetcher, variant: str
) -> None:
    body, content_type = CP1256_VARIANTS[variant]
    url = feed_server.route(f"/{variant}.xml", body=body, content_type=content_type)
    await add_feeds(db, [url])
    summary = await Ingestor(db, fetcher, interval=timedelta(minutes=15), enricher=Enricher()).run(
        NOW, include_all=True
    )
    assert (summary.new, summary.feeds_failed) == (MANIFEST["cp1256.xml"]["items"], 0)
    async with db.session() as s:
        rows = (await s.scalars(select(ArticleRow))).all()
    assert sorted(r.title for r in rows) == sorted(MANIFEST["cp1256.xml"]["titles"])
    for row in rows:
        for text in (row.summary, row.digest_summary):
            assert text
            words = set(WORD.findall(text))
            assert words <= CP1256_WORDS, words - CP1256_WORDS  # no mojibake such as «ÇáÍßæãÉ»


async def test_every_stored_article_has_topics_summary_and_story(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    await add_feeds(db, [feed_server.url(f"/feeds/{n}") for n in OUTLETS])
    await ingestor.run(NOW, include_all=True)
    async with db.session() as s:
        rows = (await s.scalars(select(ArticleRow))).all()
    assert rows
    builtin = {"politics", "economy", "sport", "technology", "culture"}
    for row in rows:
        assert row.story_id is not None and row.minhash
        assert set(row.topics.split()) & builtin, row.title
        assert row.digest_summary and len(row.digest_summary) <= 300
        # a sentence end or a whole word with «…», never a description's cut-off tail
        assert re.search(r"(?:(?<![.…])\.|[!?؟؛])[\"'»”)]*$|\w…$", row.digest_summary), row.digest_summary
        assert row.search_text.startswith(" ") and len(row.search_text) > 2


async def test_same_event_from_several_outlets_becomes_one_story(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    await add_feeds(db, [feed_server.url(f"/feeds/{n}") for n in OUTLETS])
    await ingestor.run(NOW, include_all=True)
    async with db.session() as s:
        articles = await s.scalar(select(func.count()).select_from(ArticleRow))
        stories = await s.scalar(select(func.count()).select_from(Story))
        multi = await s.scalar(select(func.count()).select_from(Story).where(Story.source_count > 1))
        digest = await stories_since(s, NOW - timedelta(days=30))
    assert stories is not None and articles is not None and stories < articles
    assert multi and multi >= 3
    told_twice = [d for d in digest if d.other_sources]
    assert told_twice and all(o.source != d.source for d in told_twice for o in d.other_sources)


@pytest.mark.parametrize(
    ("setup", "error_words"),
    [
        (lambda s: s.url("/feeds/homepage.html"), "not a valid feed"),
        (lambda s: s.route("/garbage", body=b"\x00\x01 not xml at all", content_type="text/plain"), "feed"),
        (lambda s: s.route("/boom", status=500, body=b"oops"), "500"),
        (lambda s: s.route("/missing", status=404, body=b"no"), "404"),
        (lambda s: s.gzip_bomb("/bomb"), "larger than"),
        (lambda s: s.huge("/huge", 3 * 1024 * 1024, declare_length=False), "larger than"),
        (lambda s: s.redirect("/loop", "/loop"), "redirect"),
        (lambda s: s.trickle("/slow", b"<rss>" + b" " * 200, interval_s=0.5), "time"),
    ],
    ids=["html-page", "garbage", "http-500", "http-404", "gzip-bomb", "huge", "redirect-loop", "slow"],
)
async def test_bad_feed_gets_a_clear_error_and_loses_nothing(
    db: Database, ingestor: Ingestor, feed_server: FeedServer, setup: object, error_words: str
) -> None:
    good = feed_server.url("/feeds/bbc.xml")
    bad = setup(feed_server)  # type: ignore[operator]
    good_id, bad_id = await add_feeds(db, [good, bad])
    summary = await ingestor.run(NOW, include_all=True)
    assert (summary.feeds_ok, summary.feeds_failed) == (1, 1)
    assert summary.new == MANIFEST["bbc.xml"]["items"]
    async with db.session() as s:
        feed = await s.get(Feed, bad_id)
        kept = await s.scalar(
            select(func.count()).select_from(ArticleRow).where(ArticleRow.feed_id == good_id)
        )
    assert feed is not None and feed.error_count == 1
    assert feed.last_error and error_words in feed.last_error.lower()
    assert feed.next_check_at > NOW  # backed off, not hammered
    assert kept == MANIFEST["bbc.xml"]["items"]


async def test_feed_that_breaks_later_keeps_its_articles(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    body = (FEEDS / "cnn.xml").read_bytes()
    url = feed_server.route("/cnn.xml", body=body, content_type="application/rss+xml")
    await add_feeds(db, [url])
    first = await ingestor.run(NOW, include_all=True)
    feed_server.route("/cnn.xml", body=b"<html><body>maintenance</body></html>", content_type="text/html")
    second = await ingestor.run(NOW + timedelta(hours=1), include_all=True)
    assert second.feeds_failed == 1 and second.failures[0].error
    assert await scalar(db, select(func.count()).select_from(ArticleRow)) == first.new


async def test_malformed_but_recoverable_and_empty_feeds(
    db: Database, ingestor: Ingestor, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    malformed = feed_server.url("/feeds/malformed.xml")
    await add_feeds(db, [malformed, feed_server.url("/feeds/empty.xml")])
    with caplog.at_level(logging.WARNING, logger="jobs.ingest"):
        summary = await ingestor.run(NOW, include_all=True)
    assert summary.feeds_failed == 0
    assert 0 < summary.new <= MANIFEST["malformed.xml"]["items"]
    # The operator hears of the damage (log and the pass's report), though nothing was lost.
    (warned,) = summary.warnings
    assert warned.url == malformed and "malformed feed" in (warned.warning or "")
    assert summary.as_dict()["warnings"] == [
        {"feed_id": warned.feed_id, "url": malformed, "warning": warned.warning}
    ]
    assert any(malformed in r.getMessage() and "malformed feed" in r.getMessage() for r in caplog.records)


async def test_gone_feed_is_disabled_and_rate_limited_feed_waits(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    gone = feed_server.route("/gone", status=410, body=b"gone")
    busy = feed_server.route("/busy", status=429, body=b"slow down", headers={"Retry-After": "7200"})
    gone_id, busy_id = await add_feeds(db, [gone, busy])
    await ingestor.run(NOW, include_all=True)
    async with db.session() as s:
        g = await s.get(Feed, gone_id)
        b = await s.get(Feed, busy_id)
        due = await feed_store.due_feeds(s, NOW + timedelta(hours=1))
    assert g is not None and g.disabled and g.disabled_reason
    assert b is not None and b.next_check_at >= NOW + timedelta(seconds=7200)
    assert due == []  # neither the disabled feed nor the waiting one is due an hour later


async def test_feed_title_and_schedule_are_recorded(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    (feed_id,) = await add_feeds(db, [feed_server.url("/feeds/bbc.xml")])
    await ingestor.run(NOW, include_all=False)
    async with db.session() as s:
        feed = await feed_store.get_feed(s, feed_id)
        due_soon = await feed_store.due_feeds(s, NOW + timedelta(minutes=5))
        due_later = await feed_store.due_feeds(s, NOW + timedelta(minutes=16))
    assert feed is not None and feed.title and feed.etag and feed.last_ok_at == NOW
    assert feed.status == "ok"
    assert due_soon == [] and [f.id for f in due_later] == [feed_id]


async def test_restart_rebuilds_the_story_index_even_from_stale_signatures(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    await add_feeds(db, [feed_server.url("/feeds/skynews.xml")])
    await ingestor.run(NOW, include_all=True)
    fresh = StoryClusterer()
    await fresh.warm(db, NOW)
    assert len(fresh) == 0  # read when a pass first has a new article, or on demand:
    await fresh.load()
    assert len(fresh) == MANIFEST["skynews.xml"]["items"]

    async with db.session() as s, s.begin():  # as if written by an older signature format
        await s.execute(update(ArticleRow).values(minhash=b"\x00stale"))
    rebuilt = StoryClusterer()
    await rebuilt.warm(db, NOW)
    await rebuilt.load()
    assert rebuilt._index is not None and len(rebuilt) == MANIFEST["skynews.xml"]["items"]
    async with db.session() as s:
        row = (await s.scalars(select(ArticleRow).limit(1))).one()
    probe = signature(row.title, row.body or row.summary)
    match = rebuilt._index.match(probe, NOW, source="another outlet")
    assert match is not None and match.story_id == row.story_id


async def test_a_section_tag_naming_a_desk_leads_the_topics(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    """The same politics-looking item thrice: tagged «رياضة» it is sport first, untagged it is politics,
    and filed under a /sport/ path it is sport first again."""
    story = (
        "<title>{title}</title><link>https://example.org/{slug}</link>"
        "<description>أعلن مجلس الوزراء عقد جلسة طارئة لبحث الأزمة السياسية مع البرلمان والحكومة "
        "بعد استقالة وزير الخارجية ورئيس الوزراء، وسط احتجاجات في العاصمة.</description>"
        "<pubDate>Mon, 04 Jun 2018 10:00:00 GMT</pubDate>"
    )
    items = (
        f"<item>{story.format(title='جلسة طارئة لمجلس الوزراء', slug='a')}<category>الرياضة</category></item>"
        f"<item>{story.format(title='الحكومة تبحث الأزمة مع البرلمان', slug='b')}"
        "<category>الرياض</category></item>"
        f"<item>{story.format(title='مجلس الوزراء يناقش الأزمة', slug='sport/2018/06/04/c')}</item>"
    )
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    body = f"{head}{items}</channel></rss>"
    await add_feeds(
        db, [feed_server.route("/desk.xml", body=body.encode(), content_type="application/rss+xml")]
    )
    await ingestor.run(NOW, include_all=True)
    async with db.session() as s:
        topics = {url: t for url, t in (await s.execute(select(ArticleRow.url, ArticleRow.topics))).all()}
    tagged, untagged = topics["https://example.org/a"].split(), topics["https://example.org/b"].split()
    assert untagged[0] == "politics"  # «الرياض» is a city, not the sport desk
    assert tagged[:2] == ["sport", "politics"]
    assert topics["https://example.org/sport/2018/06/04/c"].split()[:2] == ["sport", "politics"]


def test_enricher_scores_a_known_outlet_with_its_own_weights() -> None:
    """A model whose general intercept says politics and whose one outlet's says technology."""
    k = len(BUILTIN_KEYS)
    leaning = {key: np.eye(k, dtype=np.float32)[BUILTIN_KEYS.index(key)] for key in BUILTIN_KEYS}
    classifier = TopicClassifier(
        classes=BUILTIN_KEYS,
        vocabulary=["مستشف"],
        idf=np.ones(1, dtype=np.float32),
        coef=np.zeros((1, k), dtype=np.float32),
        intercept=leaning["politics"],
        config=FeatureConfig(title_prefix=False, bigrams=False),
        temperature=1.0,
        second_min_prob=1.0,
        sources=SourceWeights(
            names=("a",),
            domains=(("news-a.example",),),
            shared=np.zeros((1, k), dtype=np.float32),
            blocks=np.zeros((1, 1, k), dtype=np.float32),
            intercept=leaning["technology"],
            temperature=1.0,
            second_min_prob=1.0,
        ),
    )
    enrich = Enricher(classifier)

    def topics(url: str, canonical: str = "") -> tuple[str, ...]:
        return enrich(Article(url=url, canonical_url=canonical or url, title="مستشفى جديد")).topics

    assert topics("https://www.news-a.example/2018/x") == ("technology",)
    assert topics("https://news-a.example.org/x") == ("politics",)
    assert topics("https://feeds.example/r?id=1", canonical="https://news-a.example/x") == ("technology",)


async def test_stories_opened_in_one_batch_are_stored_with_their_own_articles(
    db: Database, ingestor: Ingestor, feed_server: FeedServer
) -> None:
    """A feed's new stories are created in one statement: each must get back its own first article,
    and a story joined later in the same batch must be counted with all of its articles."""
    await add_feeds(db, [feed_server.url(f"/feeds/{n}") for n in OUTLETS])
    await ingestor.run(NOW, include_all=True)
    async with db.session() as s:
        stories = (await s.scalars(select(Story))).all()
        members: dict[int, list[tuple[int, str]]] = {}
        for article_id, story_id, source in await s.execute(
            select(ArticleRow.id, ArticleRow.story_id, ArticleRow.source)
        ):
            members.setdefault(story_id, []).append((article_id, source))
    assert stories and set(members) == {story.id for story in stories}
    for story in stories:
        ids = [article_id for article_id, _ in members[story.id]]
        assert story.representative_id == min(ids)  # the article that opened it
        assert story.article_count == len(ids)
        assert story.source_count == len({source for _, source in members[story.id]})
    assert any(story.article_count > 1 for story in stories)


async def _stored_pass(
    db: Database, fetcher: Fetcher, urls: list[str], *, fork: bool
) -> list[tuple[object, ...]]:
    """One first pass over ``urls`` on an emptied database; every article row and story, ids made relative."""
    async with db.session() as s, s.begin():
        await s.execute(update(ArticleRow).values(story_id=None))
        await s.execute(update(Story).values(representative_id=None))
        for table in (ArticleRow, Story, Feed):
            await s.execute(delete(table))
    await add_feeds(db, urls)
    ingestor = Ingestor(db, fetcher, interval=timedelta(minutes=15), fork=fork)
    await ingestor.run(NOW, include_all=True)
    assert ingestor.last_pass_forked is fork
    async with db.session() as s:
        articles = (await s.execute(select(ArticleRow).order_by(ArticleRow.id))).scalars().all()
        stories = (await s.execute(select(Story).order_by(Story.id))).scalars().all()
    a0, s0 = articles[0].id, stories[0].id
    return [
        *(
            (a.id - a0, a.story_id - s0, a.canonical_url, a.source, a.title, a.summary, a.body, a.topics,
             a.digest_summary, a.categories, a.fingerprint, a.search_text, a.minhash)
            for a in articles
            if a.story_id is not None
        ),
        *((st.id - s0, st.representative_id - a0, st.article_count, st.source_count, st.topics)
          for st in stories if st.representative_id is not None),
    ]  # fmt: skip


async def test_a_pass_with_a_worker_process_stores_exactly_what_a_pass_without_one_does(
    db: Database, fetcher: Fetcher, feed_server: FeedServer
) -> None:
    """Where the Arabic work ran never shows: same rows, same ids, same stories, same signatures.

    Stores follow the claim order, so not even the order in which fetches answered changes a story.
    """
    urls = [feed_server.url(f"/feeds/{n}") for n in [*OUTLETS, "atom.xml", "cp1256.xml"]]
    serial = await _stored_pass(db, fetcher, urls, fork=False)
    forked = await _stored_pass(db, fetcher, urls, fork=True)
    assert len(serial) > 100
    assert forked == serial


async def test_a_feed_read_first_in_one_job_stores_what_parse_then_enrich_store(
    db: Database, fetcher: Fetcher, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed never read before is parsed and enriched in one job (all of it: its articles are new but
    for those another feed carries too, like a front page's); the rows are those of a parse, a look-up
    of what is new, then enrichment of that only."""
    urls = [feed_server.url(f"/feeds/{n}") for n in [*OUTLETS, "atom.xml", "duplicates.xml"]]
    front = (FEEDS / "bbc.xml").read_bytes()  # a front page: every item is also in a section's feed
    urls.append(feed_server.route("/front.xml", body=front, content_type="application/rss+xml"))
    for fork in (True, False):
        one_job = await _stored_pass(db, fetcher, urls, fork=fork)
        with monkeypatch.context() as m:
            m.setattr(FeedInfo, "never_read", property(lambda self: False))
            two_jobs = await _stored_pass(db, fetcher, urls, fork=fork)
        assert len(one_job) > 100
        assert one_job == two_jobs


async def test_a_worker_process_is_forked_only_for_a_batch_of_several_feeds_and_a_spare_core(
    db: Database, fetcher: Fetcher, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jobs.ingest

    ingestor = Ingestor(db, fetcher, interval=timedelta(minutes=15))
    await add_feeds(db, [feed_server.url(f"/feeds/{n}") for n in OUTLETS[:2]])
    await ingestor.run(NOW, include_all=True)
    assert not ingestor.last_pass_forked  # two feeds: not worth a process

    await add_feeds(db, [feed_server.url(f"/feeds/{n}") for n in OUTLETS[2:]])
    monkeypatch.setattr(jobs.ingest, "spare_cores", lambda: 0)
    await ingestor.run(NOW + timedelta(hours=1), include_all=True)
    assert not ingestor.last_pass_forked  # no spare core

    monkeypatch.setattr(jobs.ingest, "spare_cores", lambda: 1)
    await ingestor.run(NOW + timedelta(hours=2), include_all=True)
    assert not ingestor.last_pass_forked  # every feed answered 304: nothing to parse, nothing forked

    custom = Ingestor(db, fetcher, interval=timedelta(minutes=15), enricher=lambda a: a)
    assert not custom._may_fork(64)  # a caller's enricher may keep state: it runs in this process
    assert Ingestor(db, fetcher, interval=timedelta(minutes=15))._may_fork(64)


async def test_feeds_store_in_claim_order_even_around_a_feed_that_stores_nothing(
    db: Database, fetcher: Fetcher, feed_server: FeedServer
) -> None:
    # Claimed first, answering last; then a feed that fails at once; then one that answers at once.
    slow = feed_server.route(
        "/slow.xml", body=(FEEDS / "bbc.xml").read_bytes(), content_type="application/rss+xml", delay_s=1.0
    )
    broken = feed_server.route("/broken.xml", status=404)
    fast = feed_server.route(
        "/fast.xml", body=(FEEDS / "cnn.xml").read_bytes(), content_type="application/rss+xml"
    )
    slow_id, _, fast_id = await add_feeds(db, [slow, broken, fast])
    ingestor = Ingestor(db, fetcher, interval=timedelta(minutes=15), fork=False)
    summary = await ingestor.run(NOW, include_all=True)
    async with db.session() as s:
        ids = {
            feed_id: sorted(
                (await s.scalars(select(ArticleRow.id).where(ArticleRow.feed_id == feed_id))).all()
            )
            for feed_id in (slow_id, fast_id)
        }

    assert summary.feeds_failed == 1 and ids[slow_id] and ids[fast_id]
    assert max(ids[slow_id]) < min(ids[fast_id])  # the slow feed, claimed first, stored first
