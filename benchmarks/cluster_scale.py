"""Cost of story clustering: signature time per article, and lookup time and memory at 10k/50k/200k.

Signatures are timed on real ANT articles (warm stem cache, as in a running bot). The indexes are
filled with synthetic signatures built from real ones: each keeps 40% of a real article's hashes and
draws the rest from the corpus's own word frequencies, so buckets fill the way a real window's do
(frequent words collide often, names rarely). Lookups are real articles' signatures, so some of them
find their synthetic relatives and go through the verifier. Lookup time should stay flat: retrieval
buckets are capped, and at most ``max_verify`` candidates are verified.

    .venv/bin/python -m benchmarks.cluster_scale [--data PATH] [--sizes 10000,50000,200000]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from news import cluster  # noqa: E402
from news.arabic import stems  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ant" / "train.jsonl"
WINDOW = timedelta(hours=48)
QUERIES = 2000


def load_articles(path: Path, limit: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out.append((row["title"], row["text"]))
            if len(out) >= limit:
                break
    return out


def time_signatures(articles: list[tuple[str, str]]) -> tuple[float, float, list[cluster.StorySignature]]:
    for title, text in articles:  # warm the stem and hash memos, as a running bot has them
        cluster.signature(title, text)
    start = time.perf_counter()
    sigs = [cluster.signature(title, text) for title, text in articles]
    per_doc = (time.perf_counter() - start) / len(articles) * 1000
    start = time.perf_counter()
    for title, text in articles:
        stems(title)
        stems(text[:800])
    stem_part = (time.perf_counter() - start) / len(articles) * 1000
    return per_doc, stem_part, sigs


class Synth:
    """Synthetic signatures with the corpus's hash frequencies."""

    def __init__(self, real: list[cluster.StorySignature], seed: int = 7) -> None:
        self.real = real
        self.rng = np.random.default_rng(seed)
        vocab, counts = np.unique(np.concatenate([s.words for s in real]), return_counts=True)
        self.words = self.rng.choice(vocab, size=4_000_000, p=counts / counts.sum())
        big, big_counts = np.unique(np.concatenate([s.bigrams for s in real]), return_counts=True)
        self.bigrams = self.rng.choice(big, size=6_000_000, p=big_counts / big_counts.sum())
        self.cursor = {"words": 0, "bigrams": 0}

    def _draw(self, pool: str, n: int) -> np.ndarray:
        values: np.ndarray = getattr(self, pool)
        start = self.cursor[pool]
        if start + n > values.size:
            start = 0
        self.cursor[pool] = start + n
        return values[start : start + n]

    def _mix(self, hashes: cluster.U32, pool: str) -> np.ndarray:
        values = np.asarray(hashes)
        keep = values[self.rng.random(values.size) < 0.4]
        fresh = self._draw(pool, values.size - keep.size)
        return np.unique(np.concatenate([keep, fresh]).astype(np.uint32))

    def make(self) -> cluster.StorySignature:
        base = self.real[int(self.rng.integers(len(self.real)))]
        words = self._mix(base.words, "words")
        title = words[self.rng.random(words.size) < len(base.title) / max(1, len(base.words))]
        first = words[self.rng.random(words.size) < 0.4]
        return cluster.StorySignature(
            title=_hashes(title),
            first=_hashes(first),
            words=_hashes(words),
            bigrams=_hashes(self._mix(base.bigrams, "bigrams")),
            numbers=base.numbers,
            title_numbers=base.title_numbers,
            minhash=cluster._minhash({int(h) for h in words}),
        )


def _hashes(values: np.ndarray) -> cluster.U32:
    return array(cluster._U32, values.tolist())


def build(size: int, synth: Synth, now: datetime) -> tuple[cluster.StoryIndex, float, int]:
    sigs = [synth.make() for _ in range(size)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    index = cluster.StoryIndex(WINDOW)
    step = WINDOW / size
    for i, sig in enumerate(sigs):
        index.add(i, i, sig, now - WINDOW + step * i, source=f"outlet{i % 40}")
    elapsed = time.perf_counter() - start
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return index, elapsed, used


def lookups(index: cluster.StoryIndex, queries: list[cluster.StorySignature], now: datetime) -> list[float]:
    times = []
    for sig in queries:
        start = time.perf_counter()
        index.match(sig, now, source="query")
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--sizes", default="10000,50000,200000")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    articles = load_articles(args.data, 9000)
    per_doc, stem_part, sigs = time_signatures(articles)
    blob = statistics.mean(len(s.to_bytes()) for s in sigs)
    print(
        f"signature: {per_doc:.3f} ms/doc over {len(articles)} real articles (of which tokenize+stem "
        f"{stem_part:.3f} ms); {blob:.0f} bytes stored per article"
    )

    now = datetime(2018, 6, 1, 12, tzinfo=UTC)
    synth = Synth(sigs)
    queries = sigs[:QUERIES]
    print(
        f"\n{'indexed':>8} {'build s':>8} {'memory MB':>10} {'B/article':>10} "
        f"{'lookup mean ms':>15} {'p50':>6} {'p99':>6} {'buckets':>8}"
    )
    for size in sizes:
        index, build_s, used = build(size, synth, now)
        times = lookups(index, queries, now)
        times.sort()
        print(
            f"{size:8} {build_s:8.2f} {used / 1e6:10.1f} {used / size:10.0f} {statistics.mean(times):15.3f} "
            f"{times[len(times) // 2]:6.3f} {times[int(len(times) * 0.99)]:6.3f} {len(index._buckets):8}"
        )
        dropped = index.evict(now + WINDOW + timedelta(seconds=1))
        if len(index) or index._buckets:
            raise SystemExit("eviction left articles behind")
        del index
        gc.collect()
    print(f"\nafter evict(now + window) every index was empty (last one dropped {dropped} articles)")


if __name__ == "__main__":
    main()
