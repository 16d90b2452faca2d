"""Build ``news/data/daypass_prior.json``: how common each word key of ``news.daypass`` is in real news.

The digest's day pass weighs words by their inverse document frequency over the day. A small bot (a
handful of feeds, a fresh install) sees too few articles for those counts to tell «قال» from a name, so
the pass adds these counts from the ANT corpus (8.7k articles of five outlets, titles and the first 300
characters of their descriptions, as the digest has them). Keys found in one article only are left out
(an absent key counts as rare, which is what such a key is). Deterministic: same corpus, same
file.

    .venv/bin/python scripts/build_daypass_prior.py [--data ../shared/data/ant/train.jsonl]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from news import daypass  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ant" / "train.jsonl"
MIN_DF = 2


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args(argv)
    df: collections.Counter[str] = collections.Counter()
    seen: set[str] = set()
    with args.data.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["url"] in seen:
                continue
            seen.add(row["url"])
            lead = " ".join((row["abstract"] or row["text"]).split())[:300]
            df.update(daypass.word_keys(row["title"], lead))
    kept = {k: n for k, n in sorted(df.items()) if n >= MIN_DF}
    out = {"docs": len(seen), "min_df": MIN_DF, "df": kept}
    daypass.PRIOR_PATH.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    print(f"{len(kept)} keys of {len(df)} (df >= {MIN_DF}) over {len(seen)} articles -> {daypass.PRIOR_PATH}")


if __name__ == "__main__":
    main()
