"""Feeds that lie about their encoding: how many come out as the right Arabic, and what deciding costs.

Builds RSS feeds from ANT ``train.jsonl`` articles (title, link, description; 20 items a feed, file
order) and parses each with ``news.parse.parse_feed`` under several claims, comparing every entry with
the same feed served as honest UTF-8:

- lying: windows-1256 bytes, HTTP header and XML declaration both say UTF-8;
- lying, 1 item: the same with a single item (little text to decide on);
- declared 1256: windows-1256 bytes, declared as such (must stay right);
- utf-8: honest UTF-8 (must stay right and cost next to nothing more);
- utf-8 + stray byte: UTF-8 with one windows-1252 byte in a title.

It also times ``content_charset`` alone and, when charset-normalizer is importable (it is not a
dependency), how often its best guess for the lying feeds is windows-1256 and what a guess costs.

    .venv/bin/python -m benchmarks.charset_decision [--feeds 100] [--data PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from news.charset import content_charset, declared_charsets  # noqa: E402
from news.parse import parse_feed  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ant" / "train.jsonl"
PER_FEED = 20
UTF8_CLAIM = {"Content-Type": "application/rss+xml; charset=utf-8"}
CP1256_CLAIM = {"Content-Type": "application/rss+xml; charset=windows-1256"}


def rss(items: list[dict[str, str]], encoding: str) -> str:
    body = "".join(
        f"<item><title>{escape(r['title'])}</title><link>{escape(r['url'])}</link>"
        f"<description>{escape(r['abstract'])}</description></item>"
        for r in items
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>أخبار</title><link>https://news.example/</link>{body}</channel></rss>"
    )


def cp1256(text: str) -> bytes:
    return text.encode("cp1256", errors="xmlcharrefreplace")  # what a windows-1256 site does too


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=100)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args(argv)
    rows = []
    with args.data.open(encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
            if len(rows) >= args.feeds * PER_FEED:
                break
    groups = [rows[i : i + PER_FEED] for i in range(0, len(rows), PER_FEED)]
    url = "https://news.example/rss"

    cases: dict[str, list[tuple[bytes, dict[str, str], list[dict[str, str]]]]] = {
        "lying": [(cp1256(rss(g, "utf-8")), UTF8_CLAIM, g) for g in groups],
        "lying, 1 item": [(cp1256(rss(g[:1], "utf-8")), UTF8_CLAIM, g[:1]) for g in groups],
        "declared 1256": [(cp1256(rss(g, "windows-1256")), CP1256_CLAIM, g) for g in groups],
        "utf-8": [(rss(g, "utf-8").encode(), UTF8_CLAIM, g) for g in groups],
        "utf-8 + stray byte": [
            (rss(g, "utf-8").encode().replace(b"<item><title>", b"<item><title>\x96 ", 1), UTF8_CLAIM, g)
            for g in groups
        ],
    }

    print(f"{len(groups)} feeds of up to {PER_FEED} ANT articles\n")
    print(f"{'case':20} {'feeds right':>12} {'entries right':>14} {'ms/parse':>9}")
    for name, feeds in cases.items():
        feeds_right = entries_right = entries = 0
        started = time.perf_counter()
        parsed = [parse_feed(body, headers, url).entries for body, headers, _ in feeds]
        elapsed = time.perf_counter() - started
        for got, (_, _, items) in zip(parsed, feeds, strict=True):
            want = parse_feed(rss(items, "utf-8").encode(), UTF8_CLAIM, url).entries
            ok = [a == b for a, b in zip(got, want, strict=True)]
            if name == "utf-8 + stray byte":  # the stray byte becomes U+FFFD in the first title only
                ok[0] = (
                    got[0].title == "\ufffd " + want[0].title and got[0].summary_html == want[0].summary_html
                )
            feeds_right += all(ok)
            entries_right += sum(ok)
            entries += len(ok)
        per_parse = elapsed / len(feeds) * 1e3
        print(
            f"{name:20} {feeds_right / len(feeds):>12.1%} {entries_right / entries:>14.1%} {per_parse:>9.2f}"
        )

    print(f"\n{'content_charset alone':32} {'µs/feed':>8}")
    for name in ("utf-8", "lying"):
        started = time.perf_counter()
        for body, headers, _ in cases[name]:
            content_charset(body, declared_charsets(body, headers))
        print(f"{name:32} {(time.perf_counter() - started) / len(cases[name]) * 1e6:>8.0f}")

    try:
        from charset_normalizer import from_bytes
    except ImportError:
        print("\ncharset-normalizer is not installed: its comparison is left out")
        return
    expected = {"lying": "cp1256", "lying, 1 item": "cp1256", "utf-8 + stray byte": "utf-8"}
    header = (
        f"{'read as the true charset':24} {'news.charset':>13} {'charset-normalizer':>19} {'its ms/feed':>12}"
    )
    print(f"\n{header}")
    for name, want in expected.items():
        ours = sum(content_charset(b, declared_charsets(b, h)) == want for b, h, _ in cases[name])
        started = time.perf_counter()
        guesses = [from_bytes(body).best() for body, _, _ in cases[name]]
        elapsed = time.perf_counter() - started
        theirs = sum(1 for g in guesses if g is not None and g.encoding.replace("_", "-") == want)
        n = len(guesses)
        print(f"{name:24} {ours / n:>13.1%} {theirs / n:>19.1%} {elapsed / n * 1e3:>12.2f}")


if __name__ == "__main__":
    main()
