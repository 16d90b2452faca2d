"""Build the digest test fixtures from real articles of the ANT corpus.

Reads ``train.jsonl`` of the ANT corpus (default: ``../shared/data/ant/train.jsonl`` relative to the
repository) and writes ``tests/fixtures/digest/stories.json``: a dozen stories from one week of March
2018, as ``news.models.DigestStory`` fields. Multi-source stories are real: articles from different
outlets whose titles share most of their words within a day of each other are grouped, with the earliest
article as the story's own and the others as its other sources. A few single-outlet stories whose titles
start with digits, quotes or Latin text are added because they exercise the right-to-left rules.

The test suite reads only the written fixture, never the corpus. Run:

    .venv/bin/python scripts/make_digest_fixtures.py [path/to/train.jsonl]

The output is deterministic for a given corpus file.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, timedelta
from email.utils import parsedate_to_datetime
from itertools import combinations
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from news.arabic import tokenize  # noqa: E402 - after the path tweak that lets the script run directly

DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "ant" / "train.jsonl"
OUT = REPO / "tests" / "fixtures" / "digest" / "stories.json"

WINDOW = (date(2018, 3, 4), date(2018, 3, 14))
JACCARD = 0.4
SINGLES_PER_TOPIC = 2
SUMMARY_MAX = 280

OUTLETS = {
    "SkyNews": "سكاي نيوز عربية",
    "BBC": "بي بي سي عربي",
    "Alarabia": "العربية",
    "CNN": "سي إن إن بالعربية",
    "France24": "فرانس 24",
}
TOPICS = {
    "internationalNews": "world",
    "middleEast": "middle_east",
    "economy": "economy",
    "sport": "sports",
    "technology": "technology",
    "culture": "culture",
}


def load(path: Path) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if not row.get("time") or not row.get("title") or not row.get("url"):
                continue
            row["dt"] = parsedate_to_datetime(row["time"]).astimezone(UTC)
            row["words"] = {t for t in tokenize(row["title"]) if len(t) > 2}
            rows.setdefault(row["url"], row)  # the corpus repeats some articles
    return sorted(rows.values(), key=lambda r: (r["dt"], r["id"]))


def clusters(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Union-find over cross-outlet pairs with similar titles published within a day."""
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in combinations(range(len(rows)), 2):
        a, b = rows[i], rows[j]
        if a["outlet"] == b["outlet"] or abs(a["dt"] - b["dt"]) > timedelta(days=1):
            continue
        union = a["words"] | b["words"]
        if union and len(a["words"] & b["words"]) / len(union) >= JACCARD:
            parent[find(i)] = find(j)
    groups: dict[int, list[dict[str, Any]]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(find(i), []).append(row)
    return [sorted(g, key=lambda r: (r["dt"], r["id"])) for g in groups.values()]


def summary(row: dict[str, Any]) -> str:
    """The outlet's lead, cut at a word boundary; «…» marks a lead that stops mid-sentence."""
    text = " ".join((row["abstract"] or row["text"]).split())
    full = " ".join(row["text"].split())
    if len(text) > SUMMARY_MAX:
        cut = text[:SUMMARY_MAX]
        return cut[: cut.rfind(" ")].rstrip("،,") + "…"
    if len(text) < len(full) and not text.endswith((".", "!", "؟", "?", "…")):
        return text.rstrip("،,") + "…"
    return text


def story(members: list[dict[str, Any]]) -> dict[str, Any]:
    first = members[0]
    topics: list[str] = []
    for row in members:
        for cat in [row["category"], *row["all_categories"]]:
            key = TOPICS.get(cat)
            if key and key not in topics:
                topics.append(key)
    others = []
    seen = {first["outlet"]}
    for row in members[1:]:
        if row["outlet"] in seen:
            continue
        seen.add(row["outlet"])
        others.append({"source": OUTLETS[row["outlet"]], "url": row["url"], "title": row["title"]})
    return {
        "corpus_id": first["id"],
        "title": first["title"],
        "url": first["url"],
        "summary": summary(first),
        "source": OUTLETS[first["outlet"]],
        "published_at": first["dt"].isoformat(),
        "topics": topics,
        "other_sources": others,
    }


def _rtl_risky(title: str) -> bool:
    head = title.lstrip()[:1]
    return bool(head) and (head.isdigit() or head.isascii())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    rows = [r for r in load(args.corpus) if WINDOW[0] <= r["dt"].date() < WINDOW[1]]
    groups = clusters(rows)
    multi = [g for g in groups if len({r["outlet"] for r in g}) > 1]
    singles = [g[0] for g in groups if len(g) == 1]
    chosen = list(multi)
    per_topic: dict[str, int] = {}
    for row in singles:  # chronological, so deterministic
        if not _rtl_risky(row["title"]):
            continue
        if per_topic.get(row["category"], 0) < SINGLES_PER_TOPIC:
            per_topic[row["category"]] = per_topic.get(row["category"], 0) + 1
            chosen.append([row])
    chosen.sort(key=lambda g: (g[0]["dt"], g[0]["id"]))
    stories = [{"story_id": i, **story(g)} for i, g in enumerate(chosen, start=1)]

    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "origin": "ANT corpus v2.1 (antcorpus/antcorpus.multisource.data), Apache-2.0; see ATTRIBUTION.md",
        "generated_by": "scripts/make_digest_fixtures.py",
        "window": [WINDOW[0].isoformat(), WINDOW[1].isoformat()],
        "stories": stories,
    }
    args.out.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    multi_count = sum(1 for s in stories if s["other_sources"])
    print(f"wrote {len(stories)} stories ({multi_count} multi-source) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
