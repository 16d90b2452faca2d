"""ROUGE-1 F of news.summary against the outlets' own one-sentence descriptions, next to Lead-1.

Data: ``summaries-dev.jsonl`` (400 BBC Arabic and CNN Arabic articles whose RSS description was written
apart from the body; the description is the reference). Google's rouge_score drops Arabic letters, so
ROUGE is computed here: word tokens after removing diacritics and folding alef forms, alef maqsura and
taa marbuta, unigram counts clipped, F1 per article, averaged.

Lead-1 is the text up to its first sentence end (. ! ? ؟) or line break, with nothing removed — the
usual baseline; "Lead-1 cut" is the same cut to the budget at a word boundary.

    .venv/bin/python -m benchmarks.quality_summary [--data PATH] [--budget 300]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from news.summary import shorten, summarize  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ant" / "summaries-dev.jsonl"

_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u0640]")
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_TOKEN = re.compile(r"[^\W_]+")
_LEAD = re.compile(r"(.+?[.!?؟])(?=\s|$)|(.+)")


def rouge_tokens(text: str) -> list[str]:
    return _TOKEN.findall(_MARKS.sub("", text).translate(_FOLD).lower())


def rouge1_f(candidate: str, reference: str) -> float:
    cand, ref = Counter(rouge_tokens(candidate)), Counter(rouge_tokens(reference))
    overlap = sum((cand & ref).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(cand.values())
    recall = overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def lead1(text: str) -> str:
    first_line = next((line.strip() for line in text.split("\n") if line.strip()), "")
    m = _LEAD.match(first_line)
    return (m.group(1) or m.group(2)).strip() if m else ""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--budget", type=int, default=300)
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    systems = {
        "Lead-1": lambda r: lead1(r["text"]),
        "Lead-1 cut": lambda r: shorten(lead1(r["text"]), args.budget),
        "news.summary": lambda r: summarize(r["title"], r["text"], budget=args.budget),
    }
    print(f"{len(rows)} articles, budget {args.budget} characters\n")
    print(f"{'system':14} {'ROUGE-1 F':>9} {'within budget':>14} {'mean chars':>11} {'empty':>6}")
    for name, system in systems.items():
        outputs = [system(r) for r in rows]
        scores = [rouge1_f(out, r["abstract"]) for out, r in zip(outputs, rows, strict=True)]
        within = sum(1 for out in outputs if len(out) <= args.budget) / len(outputs)
        print(
            f"{name:14} {statistics.mean(scores):9.3f} {within:14.1%} "
            f"{statistics.mean(len(o) for o in outputs):11.1f} {sum(1 for o in outputs if not o):6}"
        )


if __name__ == "__main__":
    main()
