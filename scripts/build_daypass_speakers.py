"""Build ``news/data/daypass_speakers.json``: names that open a title with a colon to give their words.

«أردوغان: ...», «فرنسا: ...», «قرقاش: ...»: in Arabic headlines a name and a colon quote that party. The
digest's day pass (``news.daypass``) reads such a title as the party's remarks, which a reader counts as a
story of its own beside news that does not name that party. Which names do this is read off real titles:
every one- or two-word head before a title's colon in the ANT corpus (titles of ``train.jsonl``, the ten
labeled evaluation days of ``benchmarks/data/story_days_*.jsonl`` left out), kept when it opens at least
``MIN_COUNT`` titles, is not a rubric (a genre, a tournament, a video label: ``RUBRICS`` below, which
names no party) and is not a place. A place is a head found after «في» («في سوريا») in ``PLACE_COUNT``
titles or leads or more: outlets open titles with a place as a dateline («تايلاند: أطفال الكهف خارج
المستشفى»), which tells the news rather than a party's words (on the labeled dev pairs of
``story_pairs.jsonl``, place heads told apart as many same-story pairs as different ones). Deterministic:
same corpus, same file.

    .venv/bin/python scripts/build_daypass_speakers.py [--data ../shared/data/ant/train.jsonl]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from email.utils import parsedate_to_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from news import daypass  # noqa: E402
from news.arabic import normalize, tokenize  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ant" / "train.jsonl"
LABELS = REPO / "benchmarks" / "data"
MIN_COUNT = 3
PLACE_COUNT = 3
# Heads that label a kind of item or an event, not a party whose words follow.
RUBRICS = frozenset(
    " ".join(tokenize(w))
    for w in (
        "مونديال روسيا",
        "مونديال 2018",
        "دراسة",
        "مباشر",
        "ريبورتاج",
        "فيديو",
        "بالصور",
        "مهرجان كان",
        "رأي",
        "تقرير",
        "تقارير",
        "كرة القدم",
        "خبراء",
        "مسؤول",
        "مصادر",
        "مصدر",
        "الانتخابات التركية",
        "كأس العالم",
        "مصادر لCNN",
        "نائب كويتي",
    )
)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args(argv)
    labeled: set[str] = set()
    for path in sorted(LABELS.glob("story_days_*.jsonl")):
        labeled.update(json.loads(line)["day"] for line in path.read_text("utf-8").splitlines())
    heads: collections.Counter[str] = collections.Counter()
    after_in: collections.Counter[str] = collections.Counter()
    in_word = normalize("في")
    seen: set[str] = set()
    with args.data.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["url"] in seen:
                continue
            seen.add(row["url"])
            if parsedate_to_datetime(row["time"]).strftime("%Y-%m-%d") in labeled:
                continue
            for text in (row["title"], (row["abstract"] or row["text"])[:300]):
                words = tokenize(text)
                for i, word in enumerate(words[:-1]):
                    if word == in_word:
                        after_in[words[i + 1]] += 1
                        after_in[" ".join(words[i + 1 : i + 3])] += 1
            head, colon, _ = row["title"].partition(":")
            words = tokenize(head)
            if colon and 1 <= len(words) <= 2 and not any(w.isdigit() for w in words):
                heads[" ".join(words)] += 1
    kept = sorted(
        h for h, n in heads.items() if n >= MIN_COUNT and h not in RUBRICS and after_in[h] < PLACE_COUNT
    )
    out = {"min_count": MIN_COUNT, "speakers": kept}
    path = daypass.SPEAKERS_PATH
    path.write_text(json.dumps(out, ensure_ascii=False, indent=0) + "\n", "utf-8")
    print(f"{len(kept)} speakers of {len(heads)} title heads (>= {MIN_COUNT} titles) -> {path}")
    assert all(normalize(h) == h for h in kept)


if __name__ == "__main__":
    main()
