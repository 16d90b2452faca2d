"""Ingestion throughput: 100 feeds of 50 real articles each, fetched from a loopback server and stored.

Prints, side by side in one run (the machine is shared, so only same-run ratios mean much):
- feedparser alone parsing the 100 feed documents (the floor any feed bot pays);
- Nashra's parse + clean (``parse_feed`` + ``to_article``) on the same documents;
- the full pass (``Ingestor.run``: HTTP fetch, parse, clean, dedup, classify, summarize, cluster, store)
  on a SQLite file and on PostgreSQL, in articles per second on one core;
- a second pass over the unchanged feeds (conditional GET → 304, nothing new).

Usage: .venv/bin/python benchmarks/ingest.py [--data ../shared/data] [--feeds 100] [--items 50] [--no-pg]
Reads the ANT corpus from ../shared/data (the tests never do).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402
import psycopg  # noqa: E402

from jobs.fetcher import Fetcher, FetchPolicy  # noqa: E402
from jobs.ingest import Ingestor  # noqa: E402
from news.article import to_article  # noqa: E402
from news.classifier import TopicClassifier  # noqa: E402
from news.parse import parse_feed  # noqa: E402
from storage import feeds as feed_store  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.feedserver import FeedServer  # noqa: E402


def build_feeds(data_dir: Path, n_feeds: int, n_items: int) -> list[bytes]:
    docs = []
    with (data_dir / "ant" / "train.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            docs.append(json.loads(line))
            if len(docs) >= n_feeds * n_items:
                break
    base = datetime(2018, 5, 1, tzinfo=UTC)
    feeds = []
    for f in range(n_feeds):
        items = []
        for i, d in enumerate(docs[f * n_items : (f + 1) * n_items]):
            pub = format_datetime(base + timedelta(minutes=f * n_items + i))
            body = "".join(f"<p>{escape(p)}</p>" for p in d["text"].split("\n") if p.strip())
            items.append(
                f"<item><title>{escape(d['title'])}</title><link>{escape(d['url'])}</link>"
                f"<guid isPermaLink='false'>{escape(d['id'])}</guid><pubDate>{pub}</pubDate>"
                f"<description>{escape(d['abstract'])}</description>"
                f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
            )
        feeds.append(
            (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
                f"<channel><title>Outlet {f}</title><link>https://outlet{f}.example/</link>"
                + "".join(items)
                + "</channel></rss>"
            ).encode()
        )
    return feeds


def time_feedparser(feeds: list[bytes]) -> float:
    t = time.perf_counter()
    for body in feeds:
        feedparser.parse(io.BytesIO(body), response_headers={"content-type": "application/rss+xml"})
    return time.perf_counter() - t


def time_parse_clean(feeds: list[bytes]) -> tuple[float, int]:
    t = time.perf_counter()
    n = 0
    for i, body in enumerate(feeds):
        parsed = parse_feed(body, {"content-type": "application/rss+xml"}, f"https://outlet{i}.example/rss")
        n += sum(
            1 for e in parsed.entries if to_article(e, source=parsed.title, feed_url="https://x/") is not None
        )
    return time.perf_counter() - t, n


async def time_full(url: str, server: FeedServer, n_feeds: int) -> tuple[float, int, float, int]:
    upgrade(url)
    db = Database(url)
    now = datetime.now(UTC)
    async with db.session() as s, s.begin():
        for f in range(n_feeds):
            await feed_store.add_feed(s, server.url(f"/bench/{f}.xml"), now=now)
    TopicClassifier.load()  # model loading is start-up cost, not throughput
    async with Fetcher(FetchPolicy(allow_private=True, per_host=8, concurrency=16)) as fetcher:
        ingestor = Ingestor(db, fetcher, interval=timedelta(minutes=15))
        t = time.perf_counter()
        first = await ingestor.run(now, include_all=True)
        t_first = time.perf_counter() - t
        t = time.perf_counter()
        second = await ingestor.run(now + timedelta(minutes=20), include_all=True)
        t_second = time.perf_counter() - t
    await db.dispose()
    assert first.feeds_failed == 0, first.failures[:3]
    return t_first, first.new, t_second, second.new


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--feeds", type=int, default=100)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL run")
    args = ap.parse_args(argv)

    feeds = build_feeds(args.data, args.feeds, args.items)
    total = sum(b.count(b"<item>") for b in feeds)
    print(f"{args.feeds} feeds × {args.items} items = {total} articles, {sum(map(len, feeds)) / 1e6:.1f} MB")

    fp = time_feedparser(feeds)
    pc, n_clean = time_parse_clean(feeds)
    print(f"feedparser only          {fp:7.2f} s  {total / fp:8.0f} articles/s")
    print(
        f"parse + clean (Nashra)   {pc:7.2f} s  {n_clean / pc:8.0f} articles/s  ({pc / fp:.2f}× feedparser)"
    )

    with FeedServer() as server:
        for i, body in enumerate(feeds):
            server.route(
                f"/bench/{i}.xml",
                body=body,
                content_type="application/rss+xml; charset=utf-8",
                etag=f'"bench-{i}"',
            )
        with tempfile.TemporaryDirectory() as tmp:
            backends = [("SQLite", f"sqlite:///{tmp}/bench.db")]
            admin = None
            if not args.no_pg:
                name = f"nashra_bench_{uuid.uuid4().hex[:8]}"
                admin = psycopg.connect("host=127.0.0.1 dbname=test user=postgres", autocommit=True)
                admin.execute(f'CREATE DATABASE "{name}"')
                backends.append(("PostgreSQL", f"postgresql://postgres@127.0.0.1:5432/{name}"))
            try:
                for label, url in backends:
                    t1, new, t2, new2 = asyncio.run(time_full(url, server, args.feeds))
                    print(
                        f"full pass, {label:<10}  {t1:7.2f} s  {new / t1:8.0f} articles/s  "
                        f"({t1 / fp:.1f}× feedparser; {new} new)   unchanged re-run {t2:5.2f} s, {new2} new"
                    )
            finally:
                if admin is not None:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    admin.close()


if __name__ == "__main__":
    main()
