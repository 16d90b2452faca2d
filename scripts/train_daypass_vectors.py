"""Train the day pass's word vectors on the ANT corpus and write news/data/daypass_vectors.npz.

    pip install -e '.[train]'                         # gensim, for training only
    python scripts/train_daypass_vectors.py           # about a minute on one core
    python scripts/train_daypass_vectors.py --data PATH --out PATH

What it is for: ``news.daypass`` merges two entries of a day when their words overlap enough. Two
outlets sometimes tell one story in other words («MH17» / «الطائرة الماليزية», «سوبر هاتريك» /
«رباعية»); a closeness of meaning between their titles is added evidence for a merge whose word overlap
falls short (see the module docstring there for how it is used and what it earned).

Data decisions:
- Titles and RSS descriptions of ``train.jsonl`` (one record per URL), the text the digest has of an
  article; bodies are left out (most feeds carry none).
- The ten labeled days of ``benchmarks/data/story_days_{dev,test}.jsonl`` and the day on each side of
  them are left out, so the figures measured on those days are not trained on.
- Tokens are ``news.arabic.tokenize``'s, as the day pass reads titles.
- gensim's FastText (skip-gram, 64 dimensions, character 3–5-grams hashed into 20,000 buckets): the
  n-grams give a vector to a spelling the corpus never had (a new transliteration of a name).

Shipped form, read with numpy alone (no gensim at run time): the vocabulary (words seen in 3+
records), each word's vector and each bucket's vector as int8 with a float16 scale per row. A word
outside the vocabulary gets the mean of its n-grams' bucket vectors, as FastText does; the hash is
FastText's (FNV-1a over UTF-8 bytes read as signed chars), checked here against gensim's.

Deterministic: records in file order, a fixed seed, one worker thread, ``PYTHONHASHSEED`` unused by
gensim 4's initialization; the archive is written with fixed timestamps.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import zipfile
from datetime import date, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from news.arabic import tokenize  # noqa: E402
from news.wordvectors import ngram_buckets  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ant" / "train.jsonl"
OUT = REPO / "news" / "data" / "daypass_vectors.npz"
LABELED = [REPO / "benchmarks" / "data" / f"story_days_{split}.jsonl" for split in ("dev", "test")]
DIM, MIN_N, MAX_N, BUCKETS, EPOCHS, SEED, MIN_COUNT, KEEP_COUNT = 64, 3, 5, 20_000, 5, 1, 2, 3
BODY_CHARS = 1500


def held_out_days() -> set[str]:
    days: set[str] = set()
    for path in LABELED:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                day = date.fromisoformat(json.loads(line)["day"])
                days.update((day + timedelta(days=k)).isoformat() for k in (-1, 0, 1))
    return days


def sentences(data: Path) -> list[list[str]]:
    skip = held_out_days()
    seen: set[str] = set()
    out: list[list[str]] = []
    with data.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["url"] in seen:
                continue
            seen.add(row["url"])
            if parsedate_to_datetime(row["time"]).strftime("%Y-%m-%d") in skip:
                continue
            for text in (row["title"], row["abstract"], row["text"][:BODY_CHARS]):
                tokens = tokenize(text or "")
                if tokens:
                    out.append(tokens)
    return out


def quantize(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and the float16 scale of each (row ≈ q * scale)."""
    scale = np.abs(rows).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.rint(rows / scale[:, None]).astype(np.int8)
    return q, scale.astype(np.float16)


def main(argv: list[str] | None = None) -> None:
    from gensim.models import FastText
    from gensim.models.fasttext import ft_ngram_hashes

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    sents = sentences(args.data)
    started = time.perf_counter()
    model = FastText(
        vector_size=DIM,
        window=5,
        min_count=MIN_COUNT,
        min_n=MIN_N,
        max_n=MAX_N,
        bucket=BUCKETS,
        epochs=EPOCHS,
        sg=1,
        seed=SEED,
        workers=1,
    )
    model.build_vocab(sents)
    model.train(sents, total_examples=len(sents), epochs=EPOCHS)
    wv = model.wv
    words = sorted(w for w in wv.index_to_key if wv.get_vecattr(w, "count") >= KEEP_COUNT)
    for w in [*words[:2000:97], "تشيلسي", "بوتين", "mh17"]:
        ours, theirs = ngram_buckets(w, MIN_N, MAX_N, BUCKETS), ft_ngram_hashes(w, MIN_N, MAX_N, BUCKETS)
        if sorted(ours) != sorted(theirs):
            raise SystemExit(f"n-gram hashing differs from gensim's for {w!r}")
    word_q, word_scale = quantize(np.stack([wv[w] for w in words]).astype(np.float32))
    ngram_q, ngram_scale = quantize(np.asarray(wv.vectors_ngrams, dtype=np.float32))
    arrays = {
        "words": np.array(words),
        "word_vectors": word_q,
        "word_scale": word_scale,
        "ngram_vectors": ngram_q,
        "ngram_scale": ngram_scale,
        "params": np.array([MIN_N, MAX_N, BUCKETS]),
    }
    with zipfile.ZipFile(args.out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.save(buf, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())
    took = time.perf_counter() - started
    size = args.out.stat().st_size / 1e6
    kept = f"{len(words)} words kept of {len(wv.index_to_key)}"
    print(f"{len(sents)} texts, {kept}: {args.out} ({size:.1f} MB, {took:.0f} s)")


if __name__ == "__main__":
    main()
