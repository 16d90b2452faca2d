"""Quality and speed of the shipped topic classifier on the held-out side of the ANT corpus.

    python benchmarks/quality_topics.py [--data ../shared/data/ant/train.jsonl] [--model news/data/topics.npz]

Loads the *shipped* model (or ``--model``), takes the held-out documents from the split that
``scripts/train_topics.py`` trains without, and prints macro-F1 over the five built-in topics for two
inputs: title + description + body, and title + description only (what most feeds carry), each scored
as ingestion scores it (the URL picks the outlet's own weights) and as from an unknown source; per-class F1;
the share of predictions that name any folder the URL was filed under; articles per second on one
core, through ``predict_many`` and through ``predict``; the model file's size and loading time. It also
measures the light stemmer against Snowball on the hand-written word families in tests/fixtures/topics.
``main()`` returns the figures as a dict, for scripts that collect benchmarks.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for _path in (REPO, REPO / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from train_topics import DEFAULT_DATA, LabeledDoc, load_corpus, short_version, split_corpus  # noqa: E402

from news import arabic  # noqa: E402
from news.classifier import MODEL_RESOURCE, TopicClassifier, TopicPrediction  # noqa: E402
from news.models import Topic  # noqa: E402
from news.topics import (  # noqa: E402
    BUILTIN_KEYS,
    ArticleTerms,
    KeywordMatcher,
    desk_topic,
    matching_topics,
    url_sections,
)

FAMILIES = REPO / "tests" / "fixtures" / "topics" / "stem_families.json"


def f1_by_class(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Per-class F1 over the built-in keys (0 for a class never predicted nor present)."""
    out: dict[str, float] = {}
    for key in BUILTIN_KEYS:
        tp = sum(t == key and p == key for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != key and p == key for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == key and p != key for t, p in zip(truth, predicted, strict=True))
        out[key] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return out


def _predict(
    model: TopicClassifier, docs: Sequence[LabeledDoc], *, with_url: bool = True
) -> list[TopicPrediction]:
    urls = [d.url for d in docs] if with_url else None
    return model.predict_many([(d.title, d.description, d.text) for d in docs], urls)


def _quality(model: TopicClassifier, docs: Sequence[LabeledDoc], *, with_url: bool = True) -> dict[str, Any]:
    preds = _predict(model, docs, with_url=with_url)
    best = [p.best for p in preds]
    truth = [d.label for d in docs]
    per_class = f1_by_class(truth, best)
    multi = [(d, p) for d, p in zip(docs, preds, strict=True) if len(p.topics) > 1]
    return {
        "macro_f1": sum(per_class.values()) / len(per_class),
        "accuracy": sum(t == b for t, b in zip(truth, best, strict=True)) / len(docs),
        "any_folder_accuracy": sum(b in d.labels for d, b in zip(docs, best, strict=True)) / len(docs),
        "per_class_f1": per_class,
        "second_topic_share": len(multi) / len(docs),
        "second_topic_in_folders": (sum(p.topics[1] in d.labels for d, p in multi) / len(multi))
        if multi
        else None,
    }


def _filing(model: TopicClassifier, docs: Sequence[LabeledDoc]) -> dict[str, Any]:
    """Topics as ingestion files them: a desk named by the URL's section path first, else the model.

    Not the classifier's figure: most of these outlets put the desk in the path, which is their folder.
    """
    preds = _predict(model, docs)
    desks = [desk_topic(url_sections(d.url)) for d in docs]
    best = [desk or p.best for desk, p in zip(desks, preds, strict=True)]
    per_class = f1_by_class([d.label for d in docs], best)
    named = [(desk, d) for desk, d in zip(desks, docs, strict=True) if desk is not None]
    return {
        "macro_f1": sum(per_class.values()) / len(per_class),
        "url_desk_share": len(named) / len(docs),
        "url_desk_in_folders": sum(desk in d.labels for desk, d in named) / len(named) if named else None,
    }


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _speed(model: TopicClassifier, docs: Sequence[LabeledDoc]) -> dict[str, float]:
    """Articles per second; CPU time is the fair figure for «one core» on a machine others share too."""
    batch = [(d.title, d.description, d.text) for d in docs]
    urls = [d.url for d in docs]
    out: dict[str, float] = {}
    runs: list[tuple[str, Callable[[], object]]] = [
        # per-word caches still cold for these texts
        ("first_pass", lambda: model.predict_many(batch, urls)),
        ("batch", lambda: model.predict_many(batch, urls)),
        ("single", lambda: [model.predict(*a, url=u) for a, u in zip(batch, urls, strict=True)]),
    ]
    for name, fn in runs:
        wall, cpu = _timed(fn)
        out[f"{name}_articles_per_cpu_s"] = len(batch) / cpu
        out[f"{name}_articles_per_wall_s"] = len(batch) / wall
    return out


def keyword_matching_speed(docs: Sequence[LabeledDoc], n_topics: int = 10_000) -> dict[str, float]:
    """Cost of checking ``n_topics`` five-keyword topics against articles, tokenized once per article."""
    rng = random.Random(0)
    vocabulary = sorted({w for d in docs for w in arabic.tokenize(d.title) if len(w) > 2})
    matchers = []
    for i in range(n_topics):
        words = rng.sample(vocabulary, 6)
        words[1] += " " + rng.choice(vocabulary)  # one phrase per topic
        topic = Topic(f"k{i}", f"t{i}", keywords=tuple(words[:5]), excluded=(words[5],))
        matchers.append(KeywordMatcher(topic))
    sample = list(docs[:100])
    for d in sample:
        ArticleTerms.of(d.title, d.description, d.text)  # warm the word caches
    _, terms_cpu = _timed(lambda: [ArticleTerms.of(d.title, d.description, d.text) for d in sample])
    terms = [ArticleTerms.of(d.title, d.description, d.text) for d in sample[:20]]
    _, match_cpu = _timed(lambda: [matching_topics(t, matchers) for t in terms])
    return {
        "article_terms_ms": terms_cpu / len(sample) * 1e3,
        "match_all_topics_ms": match_cpu / len(terms) * 1e3,
    }


def stemmer_agreement(path: Path = FAMILIES) -> dict[str, dict[str, float]]:
    """Share of word families given one key, and of unrelated pairs kept apart, per stemming method."""
    import Stemmer

    snowball = Stemmer.Stemmer("arabic")
    keep_taa = str.maketrans({k: v for k, v in arabic._FOLD_TABLE.items() if k != "ة"})

    def snowball_after_fold(word: str) -> str:
        return str(snowball.stemWord(arabic.tokenize(word)[0]))

    def snowball_then_fold(word: str) -> str:
        return str(snowball.stemWord(arabic._clean(word).translate(keep_taa))).replace("ة", "ه")

    def light(word: str) -> str:
        return arabic.stem(arabic.tokenize(word)[0])

    def light_readings(word: str) -> set[str]:
        return {arabic.stem(r) for r in arabic.proclitic_splits(arabic.tokenize(word)[0])}

    data = json.loads(path.read_text(encoding="utf-8"))
    methods = {
        "snowball after folding (old draft)": snowball_after_fold,
        "snowball before folding": snowball_then_fold,
        "light stem": light,
    }
    out: dict[str, dict[str, float]] = {}
    for name, fn in methods.items():
        same = sum(len({fn(w) for w in fam}) == 1 for fam in data["same"]) / len(data["same"])
        apart = sum(fn(a) != fn(b) for a, b in data["different"]) / len(data["different"])
        out[name] = {"families_joined": same, "pairs_apart": apart}
    joined = sum(all(light(fam[0]) in light_readings(w) for w in fam[1:]) for fam in data["same"]) / len(
        data["same"]
    )
    apart = sum(light(a) not in light_readings(b) for a, b in data["different"]) / len(data["different"])
    out["light stem + proclitic readings (keyword matching)"] = {
        "families_joined": joined,
        "pairs_apart": apart,
    }
    return out


def run(data: Path = DEFAULT_DATA, model_path: Path | None = None) -> dict[str, Any]:
    """Every figure of this benchmark, as a dict."""
    if model_path is None:
        model = TopicClassifier.load()
        blob = resources.files("news").joinpath("data", MODEL_RESOURCE).read_bytes()
    else:
        model = TopicClassifier.from_path(model_path)
        blob = model_path.read_bytes()
    size = len(blob)
    load_cpu = _timed(lambda: TopicClassifier.from_bytes(blob))[1]  # a fresh instance, not the cached one
    _, held = split_corpus(load_corpus(data))
    speed = _speed(model, held)
    return {
        "keyword_matching": keyword_matching_speed(held),
        "held_out_documents": len(held),
        "full": _quality(model, held),
        "title_description": _quality(model, [short_version(d) for d in held]),
        "full_unknown_source": _quality(model, held, with_url=False),
        "title_description_unknown_source": _quality(model, [short_version(d) for d in held], with_url=False),
        "outlets": list(model.sources.names) if model.sources is not None else [],
        "filing": _filing(model, [short_version(d) for d in held]),
        "speed": speed,
        "model_bytes": size,
        "model_load_cpu_s": load_cpu,
        "features": model.n_features,
        "stemmers": stemmer_agreement(),
    }


def _print(result: dict[str, Any]) -> None:
    print(f"held-out documents: {result['held_out_documents']}")
    outlets = ", ".join(result["outlets"]) or "none"
    print(f"with its URL an article of a known outlet ({outlets}) gets that outlet's weights")
    conditions = (
        ("full", "title + description + body"),
        ("title_description", "title + description"),
        ("full_unknown_source", "… unknown source, full"),
        ("title_description_unknown_source", "… unknown source, title+desc"),
    )
    for cond, label in conditions:
        q = result[cond]
        per_class = "  ".join(f"{k} {v:.3f}" for k, v in q["per_class_f1"].items())
        print(
            f"{label:28s} macro-F1 {q['macro_f1']:.4f}  accuracy {q['accuracy']:.4f}  "
            f"in any folder {q['any_folder_accuracy']:.4f}"
        )
        right = q["second_topic_in_folders"]
        print(
            f"{'':28s} second topic on {q['second_topic_share']:.1%} of articles, "
            f"{'-' if right is None else f'{right:.0%}'} of them filed under it too"
        )
        print(f"{'':28s} {per_class}")
    f = result["filing"]
    agree = f["url_desk_in_folders"]
    print(
        f"ingestion's filing of title + description (a desk in the URL path first; not the classifier's "
        f"figure): macro-F1 {f['macro_f1']:.4f}; the path names a desk for {f['url_desk_share']:.0%} "
        f"of articles, {'-' if agree is None else f'{agree:.1%}'} of them a folder of theirs"
    )
    s = result["speed"]
    print(
        f"classifier speed, articles per CPU second (wall): "
        f"predict_many {s['batch_articles_per_cpu_s']:.0f} ({s['batch_articles_per_wall_s']:.0f}), "
        f"first pass with cold word caches {s['first_pass_articles_per_cpu_s']:.0f} "
        f"({s['first_pass_articles_per_wall_s']:.0f}), "
        f"predict one by one {s['single_articles_per_cpu_s']:.0f} ({s['single_articles_per_wall_s']:.0f})"
    )
    k = result["keyword_matching"]
    print(
        f"keyword topics: ArticleTerms {k['article_terms_ms']:.2f} ms per article, "
        f"then 10,000 topics checked in {k['match_all_topics_ms']:.1f} ms"
    )
    print(
        f"model: {result['model_bytes'] / 1e6:.2f} MB, {result['features']} features, "
        f"loads in {result['model_load_cpu_s']:.2f} CPU s"
    )
    for name, figures in result["stemmers"].items():
        print(
            f"stemmer {name}: families joined {figures['families_joined']:.0%}, "
            f"unrelated pairs apart {figures['pairs_apart']:.0%}"
        )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="ANT train.jsonl")
    parser.add_argument("--model", type=Path, default=None, help="model file (default: the shipped one)")
    args = parser.parse_args(argv)
    result = run(args.data, args.model)
    _print(result)
    return result


if __name__ == "__main__":
    main()
