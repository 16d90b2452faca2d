"""Build candidate article pairs for the story-clustering labeled set, show them for reading, merge labels.

Candidates come from measures that are *not* the clusterer under test: TF-IDF cosine over the corpus
(title + first 600 characters, Snowball stems), title stem Jaccard and shared rare stems. Pairs are drawn
per stratum with a fixed seed so the set can be rebuilt; the labels themselves are a human's reading.

    python scripts/label_story_pairs.py candidates            # -> benchmarks/data/story_candidates.jsonl
    python scripts/label_story_pairs.py show 0 40             # print pairs 0..39 to read
    python scripts/label_story_pairs.py merge labels.txt      # -> benchmarks/data/story_pairs.jsonl
    python scripts/label_story_pairs.py more                  # second batch: dev days only, unlabeled
    python scripts/label_story_pairs.py show 0 40 --candidates benchmarks/data/story_candidates_2.jsonl
    python scripts/label_story_pairs.py merge labels2.txt --candidates \
        benchmarks/data/story_candidates_2.jsonl

``labels.txt`` holds one line per read pair: ``<index> <1|0> [note]``. ``merge`` keeps the pairs already
in story_pairs.jsonl that came from other candidate files, so batches add up.

The second batch (``more``) draws only pairs whose earlier article falls on a **dev** day of
``benchmarks/quality_clusters.split_of``, so the verifier gets more pairs to be fitted on while the test
pairs stay exactly as they were; it skips every pair already labeled and numbers its candidates from
``BATCH2_START`` so indices never collide with the first batch.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import random
import sys
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from news.arabic import stems  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ant" / "train.jsonl"
CANDIDATES = REPO / "benchmarks" / "data" / "story_candidates.jsonl"
PAIRS = REPO / "benchmarks" / "data" / "story_pairs.jsonl"
WINDOW = timedelta(hours=48)
SEED = 20180215

# Second batch, dev days only: stratum -> how many to draw among the pairs not labeled yet.
BATCH2: dict[str, int] = {
    "cross_mid": 10_000,
    "title_only": 10_000,
    "cross_low": 50,
    "same_outlet_mid": 25,
    "same_outlet_high": 25,
}
BATCH2_START = 1000
CANDIDATES_2 = REPO / "benchmarks" / "data" / "story_candidates_2.jsonl"

# stratum name -> (how many to draw, description)
STRATA: dict[str, tuple[int, str]] = {
    "cross_high": (10_000, "other outlet, cosine >= 0.45 (all)"),
    "cross_mid": (130, "other outlet, 0.30 <= cosine < 0.45"),
    "cross_low": (70, "other outlet, 0.18 <= cosine < 0.30"),
    "title_only": (30, "title stem Jaccard >= 0.3 but cosine < 0.30"),
    "hard_negative": (60, "same category, >= 3 shared rare stems, 0.10 <= cosine < 0.30"),
    "same_outlet_high": (40, "same outlet, cosine >= 0.5 (re-posts, updates)"),
    "same_outlet_mid": (30, "same outlet, 0.25 <= cosine < 0.5"),
    "random": (20, "any pair inside the window"),
}


def load(path: Path) -> list[dict[str, Any]]:
    """Articles with a parsed time, one per URL (the corpus lists an URL once per category folder)."""
    seen: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            seen.setdefault(row["url"], row)
    rows = list(seen.values())
    for row in rows:
        row["dt"] = parsedate_to_datetime(row["time"])
    rows.sort(key=lambda r: (r["dt"], r["id"]))
    return rows


def vectors(rows: list[dict[str, Any]]) -> tuple[list[dict[str, float]], list[set[str]], list[set[str]]]:
    docs = [stems(r["title"] + "\n" + r["text"][:600]) for r in rows]
    df: collections.Counter[str] = collections.Counter()
    for d in docs:
        df.update(set(d))
    n = len(docs)
    vecs: list[dict[str, float]] = []
    for d in docs:
        tf = collections.Counter(d)
        v = {t: (1 + math.log(c)) * math.log(n / df[t]) for t, c in tf.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vecs.append({t: x / norm for t, x in v.items()})
    rare = [{t for t in set(d) if df[t] <= 40 and len(t) > 2 and not t.isdigit()} for d in docs]
    titles = [set(stems(r["title"])) for r in rows]
    return vecs, rare, titles


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(t, 0.0) for t, x in a.items())


def stratum(cos: float, tj: float, shared_rare: int, same_outlet: bool, same_cat: bool) -> str | None:
    if same_outlet:
        if cos >= 0.5:
            return "same_outlet_high"
        if cos >= 0.25:
            return "same_outlet_mid"
        return None
    if cos >= 0.45:
        return "cross_high"
    if cos >= 0.30:
        return "cross_mid"
    if tj >= 0.3:
        return "title_only"
    if cos >= 0.18:
        return "cross_low"
    if same_cat and shared_rare >= 3 and cos >= 0.10:
        return "hard_negative"
    return None


def pools_of(rows: list[dict[str, Any]], rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """Every pair inside the window, scored and sorted into its stratum (random: a 1-in-2000 sample)."""
    vecs, rare, titles = vectors(rows)
    pools: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for i, a in enumerate(rows):
        for j in range(i + 1, len(rows)):
            b = rows[j]
            if b["dt"] - a["dt"] > WINDOW:
                break
            cos = cosine(vecs[i], vecs[j])
            tu = titles[i] | titles[j]
            tj = len(titles[i] & titles[j]) / len(tu) if tu else 0.0
            shared = len(rare[i] & rare[j])
            cats = set(a["all_categories"]) & set(b["all_categories"])
            pair = {
                "a": a["id"],
                "b": b["id"],
                "cosine": round(cos, 3),
                "title_jaccard": round(tj, 3),
                "shared_rare": shared,
            }
            name = stratum(cos, tj, shared, a["outlet"] == b["outlet"], bool(cats))
            if name:
                pools[name].append(pair)
            elif rng.random() < 0.0005:
                pools["random"].append(pair)
    return pools


def draw(
    pools: dict[str, list[dict[str, Any]]], sizes: dict[str, int], rng: random.Random
) -> list[dict[str, Any]]:
    """Up to ``sizes[name]`` pairs of each pool (all when fewer), tagged with their stratum, shuffled."""
    picked: list[dict[str, Any]] = []
    for name, k in sizes.items():
        pool = pools[name]
        sample = pool if len(pool) <= k else rng.sample(pool, k)
        for p in sample:
            p["stratum"] = name
        picked.extend(sample)
        print(f"{name:18} pool {len(pool):6}  drawn {len(sample)}")
    rng.shuffle(picked)
    return picked


def candidates(path: Path, out: Path) -> None:
    rows = load(path)
    rng = random.Random(SEED)
    pools = pools_of(rows, rng)
    picked = draw(pools, {name: k for name, (k, _) in STRATA.items()}, rng)
    write_candidates(rows, picked, out, start=0)


def more(path: Path, out: Path) -> None:
    """The second batch: pairs of dev days that the first batch did not label, drawn per ``BATCH2``.

    Only first-batch labels are excluded, so rerunning after the merge rebuilds the same file.
    """
    from benchmarks.quality_clusters import split_of

    rows = load(path)
    byid = {r["id"]: r for r in rows}
    with PAIRS.open(encoding="utf-8") as fh:
        first = {frozenset((p["a"], p["b"])) for p in map(json.loads, fh) if p["index"] < BATCH2_START}

    def wanted(p: dict[str, Any]) -> bool:
        day = min(byid[p["a"]]["dt"], byid[p["b"]]["dt"]).strftime("%Y-%m-%d")
        return frozenset((p["a"], p["b"])) not in first and split_of(day) == "dev"

    rng = random.Random(SEED + 2)
    pools = pools_of(rows, rng)
    dev_pools = {name: [p for p in pools[name] if wanted(p)] for name in BATCH2}
    write_candidates(rows, draw(dev_pools, BATCH2, rng), out, start=BATCH2_START)


def write_candidates(
    rows: list[dict[str, Any]], picked: list[dict[str, Any]], out: Path, *, start: int
) -> None:
    byid = {r["id"]: r for r in rows}
    with out.open("w", encoding="utf-8") as fh:
        for idx, p in enumerate(picked, start):
            p["index"] = idx
            p["url_a"], p["url_b"] = byid[p["a"]]["url"], byid[p["b"]]["url"]
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(f"{len(picked)} candidates -> {out}")


def show(path: Path, start: int, stop: int, chars: int, candidates_path: Path = CANDIDATES) -> None:
    byid = {r["id"]: r for r in load(path)}
    with candidates_path.open(encoding="utf-8") as fh:
        cands = [json.loads(line) for line in fh]
    for p in cands[start:stop]:
        a, b = byid[p["a"]], byid[p["b"]]
        gap = abs((b["dt"] - a["dt"]).total_seconds()) / 3600
        print(f"#{p['index']} [{p['stratum']} cos={p['cosine']} gap={gap:.0f}h]")
        for r in (a, b):
            print(f"  {r['outlet'][:3]} {r['title']} || {' '.join(r['text'][:chars].split())}")


def merge(labels: Path, out: Path, candidates_path: Path = CANDIDATES) -> None:
    with candidates_path.open(encoding="utf-8") as fh:
        cands = {p["index"]: p for p in map(json.loads, fh)}
    rows = []
    if out.exists():  # pairs labeled against other candidate files stay
        with out.open(encoding="utf-8") as fh:
            rows = [p for p in map(json.loads, fh) if p["index"] not in cands]
    for line in labels.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        idx, label, *note = line.split(maxsplit=2)
        p = dict(cands[int(idx)])
        p["same_story"] = label == "1"
        if note:
            p["note"] = note[0]
        rows.append(p)
    rows.sort(key=lambda p: p["index"])
    with out.open("w", encoding="utf-8") as fh:
        for p in rows:
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    pos = sum(p["same_story"] for p in rows)
    print(f"{len(rows)} labeled pairs ({pos} same story) -> {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("candidates")
    sub.add_parser("more")
    s = sub.add_parser("show")
    s.add_argument("start", type=int)
    s.add_argument("stop", type=int)
    s.add_argument("--chars", type=int, default=260)
    s.add_argument("--candidates", type=Path, default=CANDIDATES)
    m = sub.add_parser("merge")
    m.add_argument("labels", type=Path)
    m.add_argument("--candidates", type=Path, default=CANDIDATES)
    args = ap.parse_args()
    if args.cmd == "candidates":
        candidates(args.data, CANDIDATES)
    elif args.cmd == "more":
        more(args.data, CANDIDATES_2)
    elif args.cmd == "show":
        show(args.data, args.start, args.stop, args.chars, args.candidates)
    else:
        merge(args.labels, PAIRS, args.candidates)


if __name__ == "__main__":
    main()
