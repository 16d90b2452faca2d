"""Lay out whole days of the ANT corpus for reading, and turn a reader's story labels into JSONL.

The day-level evaluation (``benchmarks/quality_days.py``) asks how a real digest reads: of a day's
entries, how many repeat a story already shown, and how many merged entries fold in another story. To
answer that for any clustering, every article of an evaluation day carries a story label written by a
reader; entries are then scored against the labels.

    python scripts/label_story_days.py show 2018-03-13            # every article of the day, to read
    python scripts/label_story_days.py merge labels.txt --split dev  # -> benchmarks/data/story_days_dev.jsonl
    python scripts/label_story_days.py merge more.txt --split test2  # a later, separate pass: its own file

``show`` prints each article with a day-local number, its outlet, time (UTC), folder, title and the
first characters of its description. ``labels.txt`` holds, per day, a line ``day 2018-03-13`` and then
one line per article: ``<number> <story label> [# note]``. Articles that share a label tell the same
story; a label used once is a story told once. ``merge`` checks that every article of each listed day
got exactly one label.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "ant" / "train.jsonl"
OUT = REPO / "benchmarks" / "data"


def day_articles(day: str, path: Path = DATA) -> list[dict[str, Any]]:
    """The day's articles (UTC publication date), in publication order, each URL once.

    The corpus files an article under every category folder that holds it (one id per folder); a
    feed reader stores it once, by URL, so the evaluation does too (the first id in file order).
    """
    rows: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            at = parsedate_to_datetime(row["time"]).astimezone(UTC)
            if at.strftime("%Y-%m-%d") == day and row["url"] not in rows:
                row["at"] = at
                rows[row["url"]] = row
    return sorted(rows.values(), key=lambda r: (r["at"], r["id"]))


def show(day: str, chars: int) -> None:
    for number, row in enumerate(day_articles(day)):
        lead = " ".join((row["abstract"] or row["text"]).split())[:chars]
        print(f"[{number}] {row['outlet'][:6]} {row['at']:%H:%M} {row['category']}")
        print(f"  T: {row['title']}\n  L: {lead}")


def merge(labels: Path, split: str) -> None:
    if split.partition("_")[0].rstrip("0123456789") not in ("dev", "test"):
        raise SystemExit(
            f"split must be dev or test, numbered (dev2) or a second reader's (dev_reader2), not {split!r}"
        )
    out: list[dict[str, Any]] = []
    day = ""
    got: dict[str, dict[int, tuple[str, str]]] = {}
    for raw in labels.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("day "):
            day = line.split()[1]
            got[day] = {}
            continue
        body, _, note = line.partition("#")
        number, label = body.split()
        got[day][int(number)] = (label, note.strip())
    for day, labeled in got.items():
        rows = day_articles(day)
        if sorted(labeled) != list(range(len(rows))):
            raise SystemExit(f"{day}: labels for {sorted(labeled)} but the day has {len(rows)} articles")
        for number, row in enumerate(rows):
            label, note = labeled[number]
            item = {"day": day, "id": row["id"], "url": row["url"], "story": f"{day}/{label}"}
            if note:
                item["note"] = note
            out.append(item)
    target = OUT / f"story_days_{split}.jsonl"
    with target.open("w", encoding="utf-8") as fh:
        for item in out:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(out)} articles of {len(got)} days -> {target}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("show")
    s.add_argument("day")
    s.add_argument("--chars", type=int, default=260)
    m = sub.add_parser("merge")
    m.add_argument("labels", type=Path)
    m.add_argument(
        "--split",
        required=True,
        help="dev or test, with a batch number for later passes (dev2, test2): each batch is its own file;"
        " a second reader's labels of a batch add a suffix (dev_reader2)",
    )
    args = ap.parse_args(argv)
    if args.command == "show":
        show(args.day, args.chars)
    else:
        merge(args.labels, args.split)


if __name__ == "__main__":
    main()
