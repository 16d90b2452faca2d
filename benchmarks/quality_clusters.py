"""Pairwise precision and recall of story clustering on the labeled pairs (benchmarks/data/story_pairs.jsonl).

The pairs are split by day (a hash of the earlier article's date) into a dev half, on which the verifier's
weights and threshold were fit (``--fit``), and a test half, which is only ever reported. The dev half
holds two labeling batches (benchmarks/data/README.md): "dev" rows are all of them, "dev 1" the first
batch alone, drawn like the test pairs. Two figures:

* pairwise — the decision the clusterer makes for two articles: they share a retrieval band, are within
  the window, and the verifier scores them at or above the threshold;
* streaming — every corpus article is fed in publication order through ``StoryIndex`` (a new story when
  nothing matches, the matched story otherwise), and a pair counts as "same" when both ended in one
  story; this includes chaining and retrieval caps, as the product runs it.

Word weights (IDF): a bot's 48-hour window holds thousands of articles, the ANT corpus only ~60 per 48
hours. So document frequencies over the whole corpus (8.6k articles, no labels involved) stand in for a
busy window: the pairwise figures and the "streaming" row use them (as ``StoryIndex``'s prior), and the
"streaming, window DF only" row shows the same run with nothing but the sparse ANT window's counts.

    .venv/bin/python -m benchmarks.quality_clusters [--data ../shared/data/ant/train.jsonl] [--fit]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from news import cluster  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ant" / "train.jsonl"
PAIRS = REPO / "benchmarks" / "data" / "story_pairs.jsonl"
WINDOW = timedelta(hours=48)
TARGET_PRECISION = 0.95


@dataclass
class Corpus:
    """Document frequencies of word hashes over every article (the IDF stand-in, see the docstring)."""

    df: dict[int, int]
    docs: int

    def idf(self, word_hash: int) -> float:
        return cluster.smooth_idf(self.df.get(word_hash, 0), self.docs)


CORPUS = Corpus({}, 0)


@dataclass
class Doc:
    id: str
    outlet: str
    at: datetime
    sig: cluster.StorySignature


def split_of(day: str) -> str:
    """dev or test, by a stable hash of the day, so that one day's stories never straddle the split."""
    return "dev" if int(hashlib.md5(day.encode()).hexdigest(), 16) % 2 == 0 else "test"


def load_docs(path: Path) -> dict[str, Doc]:
    """Signatures of every corpus article; also fills ``CORPUS`` with their word frequencies."""
    docs: dict[str, Doc] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["id"] in docs:
                continue
            docs[row["id"]] = Doc(
                row["id"],
                row["outlet"],
                parsedate_to_datetime(row["time"]),
                cluster.signature(row["title"], row["text"]),
            )
    df: collections.Counter[int] = collections.Counter()
    for doc in docs.values():
        df.update(doc.sig.words)
    CORPUS.df, CORPUS.docs = dict(df), len(docs)
    return docs


def load_pairs(path: Path, docs: dict[str, Doc]) -> list[dict[str, Any]]:
    pairs = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            p = json.loads(line)
            a, b = docs[p["a"]], docs[p["b"]]
            p["split"] = split_of(min(a.at, b.at).strftime("%Y-%m-%d"))
            pairs.append(p)
    return pairs


def pair_features(p: dict[str, Any], docs: dict[str, Doc]) -> tuple[float, ...]:
    a, b = docs[p["a"]], docs[p["b"]]
    return cluster.features(a.sig, b.sig, gap=b.at - a.at, same_source=a.outlet == b.outlet, idf=CORPUS.idf)


def retrieved(a: cluster.StorySignature, b: cluster.StorySignature) -> bool:
    return bool(set(cluster._band_keys(a)) & set(cluster._band_keys(b)))


def pairwise_decision(p: dict[str, Any], docs: dict[str, Doc], threshold: float) -> bool:
    a, b = docs[p["a"]], docs[p["b"]]
    if abs(b.at - a.at) > WINDOW or not retrieved(a.sig, b.sig):
        return False
    score = cluster.similarity(
        a.sig, b.sig, gap=b.at - a.at, same_source=a.outlet == b.outlet, idf=CORPUS.idf
    )
    return score >= threshold


def streaming_stories(docs: dict[str, Doc], *, prior: bool = True) -> dict[str, int]:
    if prior:
        index = cluster.StoryIndex(WINDOW, prior_df=CORPUS.df, prior_docs=CORPUS.docs)
    else:
        index = cluster.StoryIndex(WINDOW)
    story: dict[str, int] = {}
    ordered = sorted(docs.values(), key=lambda d: (d.at, d.id))
    for number, doc in enumerate(ordered):
        index.evict(doc.at)
        found = index.match(doc.sig, doc.at, source=doc.outlet)
        story[doc.id] = found.story_id if found else number
        index.add(number, story[doc.id], doc.sig, doc.at, source=doc.outlet)
    return story


def precision_recall(labels: list[bool], predicted: list[bool]) -> tuple[float, float, int, int, int]:
    tp = sum(1 for y, p in zip(labels, predicted, strict=True) if y and p)
    fp = sum(1 for y, p in zip(labels, predicted, strict=True) if p and not y)
    fn = sum(1 for y, p in zip(labels, predicted, strict=True) if y and not p)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


FIRST_BATCH_END = 1000  # candidate indices from here on are the second, dev-only batch


def stratum_weights(dev: list[dict[str, Any]]) -> list[float]:
    """Per-pair weights that give every stratum the share it has among the first batch's dev pairs.

    The second batch labeled every remaining dev-day pair of the mid-cosine strata, so unweighted it
    would tilt the fit and the threshold towards the hardest region; weighted, it adds depth to each
    stratum without changing the mix the test split was drawn with.
    """
    first = collections.Counter(p["stratum"] for p in dev if p["index"] < FIRST_BATCH_END)
    every = collections.Counter(p["stratum"] for p in dev)
    return [first[p["stratum"]] / every[p["stratum"]] for p in dev]


def weighted_precision_recall(
    labels: list[bool], predicted: list[bool], weights: list[float]
) -> tuple[float, float]:
    tp = sum(w for y, p, w in zip(labels, predicted, weights, strict=True) if y and p)
    fp = sum(w for y, p, w in zip(labels, predicted, weights, strict=True) if p and not y)
    pos = sum(w for y, w in zip(labels, weights, strict=True) if y)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / pos if pos else 1.0)


# The direction each verifier weight may take, in ``cluster.FEATURE_NAMES`` order: overlap cannot make
# two articles less alike, a conflict or a longer gap cannot make them more alike; ``same_source`` is
# left free. Unconstrained, the fit gave ``number_conflict`` a small positive weight (it overlaps with
# the title-number conflict and the gap), which would merge two results of one match day more readily.
WEIGHT_SIGNS = (1, 1, 1, 1, 1, 1, 1, -1, -1, -1, 0)
FIT_C = 3.0  # inverse L2 strength, as scikit-learn's LogisticRegression(C=3.0) used before


def fit_logistic(
    x: Any, y: Any, weights: Any, *, signs: tuple[int, ...] = WEIGHT_SIGNS, c: float = FIT_C
) -> tuple[tuple[float, ...], float]:
    """Weighted L2 logistic regression whose weights keep the signs in ``signs`` (L-BFGS-B bounds)."""
    import numpy as np
    from scipy.optimize import minimize

    x, y, weights = np.asarray(x, float), np.asarray(y, float), np.asarray(weights, float)
    n = x.shape[1]

    def loss(theta: Any) -> tuple[float, Any]:
        w, b = theta[:n], theta[n]
        z = x @ w + b
        grad = weights * (1.0 / (1.0 + np.exp(-z)) - y)
        value = float(np.sum(weights * (np.logaddexp(0.0, z) - y * z)) + 0.5 / c * w @ w)
        return value, np.append(x.T @ grad + w / c, grad.sum())

    bounds = [(0, None) if s > 0 else (None, 0) if s < 0 else (None, None) for s in signs]
    found = minimize(loss, np.zeros(n + 1), jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)])
    if not found.success:
        raise RuntimeError(f"verifier fit did not converge: {found.message}")
    return tuple(round(float(v), 2) + 0.0 for v in found.x[:n]), round(float(found.x[n]), 2)


def fit(pairs: list[dict[str, Any]], docs: dict[str, Doc]) -> None:
    """Fit the verifier on the dev split and print constants to paste into news/cluster.py."""
    dev = [p for p in pairs if p["split"] == "dev"]
    weights = stratum_weights(dev)
    x = [pair_features(p, docs) for p in dev]
    y = [p["same_story"] for p in dev]
    coefs, bias = fit_logistic(x, y, weights)
    cluster_weights, cluster_bias = cluster.WEIGHTS, cluster.BIAS
    cluster.WEIGHTS, cluster.BIAS = coefs, bias  # type: ignore[misc]
    try:
        chosen = None
        labels = [p["same_story"] for p in dev]
        for step in range(50, 100):
            threshold = step / 100
            got = [pairwise_decision(p, docs, threshold) for p in dev]
            precision, recall = weighted_precision_recall(labels, got, weights)
            print(
                f"  dev threshold {threshold:.2f}: precision {precision:.3f} recall {recall:.3f} (weighted)"
            )
            if chosen is None and precision >= TARGET_PRECISION + 0.01:
                chosen = threshold
    finally:
        cluster.WEIGHTS, cluster.BIAS = cluster_weights, cluster_bias  # type: ignore[misc]
    print(f"WEIGHTS: Final = {coefs}\nBIAS: Final = {bias}\nDEFAULT_THRESHOLD: Final = {chosen}")


def report(pairs: list[dict[str, Any]], docs: dict[str, Doc]) -> None:
    threshold = cluster.DEFAULT_THRESHOLD
    story = streaming_stories(docs)
    sparse = streaming_stories(docs, prior=False)
    print(
        f"labeled pairs: {len(pairs)} ({sum(p['same_story'] for p in pairs)} same story); "
        f"window {WINDOW}, threshold {threshold}"
    )
    print(f"{'split':6} {'mode':26} {'pairs':>5} {'pos':>4} {'precision':>9} {'recall':>6}   tp  fp  fn")
    rows = {
        "dev": [p for p in pairs if p["split"] == "dev"],
        "dev 1": [p for p in pairs if p["split"] == "dev" and p["index"] < FIRST_BATCH_END],
        "test": [p for p in pairs if p["split"] == "test"],
    }
    for split, chosen in rows.items():
        labels = [p["same_story"] for p in chosen]
        modes = {
            "pairwise": [pairwise_decision(p, docs, threshold) for p in chosen],
            "streaming": [story[p["a"]] == story[p["b"]] for p in chosen],
            "streaming, window DF only": [sparse[p["a"]] == sparse[p["b"]] for p in chosen],
        }
        for mode, got in modes.items():
            precision, recall, tp, fp, fn = precision_recall(labels, got)
            print(
                f"{split:6} {mode:26} {len(chosen):5} {sum(labels):4} {precision:9.3f} {recall:6.3f}  "
                f"{tp:3} {fp:3} {fn:3}"
            )
    print("\nsame-story pairs the pairwise decision misses, by stage:")
    for split in ("dev", "test"):
        positives = [p for p in pairs if p["split"] == split and p["same_story"]]
        outside = [p for p in positives if abs(docs[p["b"]].at - docs[p["a"]].at) > WINDOW]
        unretrieved = [
            p for p in positives if p not in outside and not retrieved(docs[p["a"]].sig, docs[p["b"]].sig)
        ]
        rejected = [
            p
            for p in positives
            if p not in outside and p not in unretrieved and not pairwise_decision(p, docs, threshold)
        ]
        print(
            f"  {split:5} same {len(positives):3}  outside window {len(outside):2}  "
            f"never retrieved {len(unretrieved):2}  rejected by verifier {len(rejected):2}"
        )
    test = [p for p in pairs if p["split"] == "test"]
    print("\ntest pairs by candidate stratum (pairwise decision):")
    by_stratum: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for p in test:
        by_stratum[p["stratum"]].append(p)
    for name, chosen in sorted(by_stratum.items()):
        labels = [p["same_story"] for p in chosen]
        got = [pairwise_decision(p, docs, threshold) for p in chosen]
        precision, recall, tp, fp, fn = precision_recall(labels, got)
        print(
            f"  {name:18} pairs {len(chosen):3}  same {sum(labels):3}  predicted same {tp + fp:3}  "
            f"false merges {fp:2}  missed {fn:2}"
        )
    hard = [p for p in test if "hard" in p.get("note", "")]
    easy = [p for p in test if "hard" not in p.get("note", "")]
    for name, chosen in (("pairs noted hard", hard), ("other pairs", easy)):
        labels = [p["same_story"] for p in chosen]
        got = [pairwise_decision(p, docs, threshold) for p in chosen]
        precision, recall, *_ = precision_recall(labels, got)
        print(f"  {name:18} pairs {len(chosen):3}  precision {precision:.3f}  recall {recall:.3f}")
    print(f"\ntargets: precision >= {TARGET_PRECISION}, recall >= 0.80 (test split)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--pairs", type=Path, default=PAIRS)
    ap.add_argument(
        "--fit", action="store_true", help="fit the verifier on the dev split and print constants"
    )
    args = ap.parse_args(argv)
    docs = load_docs(args.data)
    pairs = load_pairs(args.pairs, docs)
    if args.fit:
        fit(pairs, docs)
    else:
        report(pairs, docs)


if __name__ == "__main__":
    main()
