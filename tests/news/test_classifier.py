"""The built-in topic classifier: the shipped model, the API shape, and a deterministic training run."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from news.classifier import FeatureConfig, Featurizer, TopicClassifier, TopicPrediction
from news.topics import BUILTIN_KEYS

FIXTURES = Path(__file__).parent.parent / "fixtures" / "topics"
ARTICLES = [
    json.loads(line) for line in (FIXTURES / "articles.jsonl").read_text(encoding="utf-8").splitlines()
]
REPO = Path(__file__).resolve().parents[2]


def _train_topics() -> ModuleType:
    """scripts/train_topics.py, imported by path (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("train_topics", REPO / "scripts" / "train_topics.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("train_topics", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def model() -> TopicClassifier:
    return TopicClassifier.load()


def test_load_is_cached_and_knows_the_builtin_topics(model: TopicClassifier) -> None:
    assert TopicClassifier.load() is model
    assert model.classes == BUILTIN_KEYS
    assert model.n_features > 1000
    assert model.temperature > 0 and 0 < model.second_min_prob <= 1


def test_fixture_set_covers_every_topic() -> None:
    assert len(ARTICLES) == 30
    assert sorted({a["topic"] for a in ARTICLES}) == sorted(BUILTIN_KEYS)


def test_shipped_model_classifies_real_articles(model: TopicClassifier) -> None:
    right = sum(model.predict(a["title"], a["description"], a["text"]).best == a["topic"] for a in ARTICLES)
    assert right / len(ARTICLES) >= 0.8


def test_shipped_model_classifies_titles_and_descriptions(model: TopicClassifier) -> None:
    right = sum(model.predict(a["title"], a["description"]).best == a["topic"] for a in ARTICLES)
    assert right / len(ARTICLES) >= 0.8


def test_prediction_shape(model: TopicClassifier) -> None:
    prediction = model.predict("ريال مدريد يفوز على برشلونة في الدوري الإسباني", "سجل رونالدو هدفين")
    assert isinstance(prediction, TopicPrediction)
    assert prediction.best == "sport"
    assert set(prediction.scores) == set(BUILTIN_KEYS)
    assert abs(sum(prediction.scores.values()) - 1) < 1e-4
    assert prediction.scores["sport"] == max(prediction.scores.values())
    assert prediction.topics[0] == prediction.best
    assert 1 <= len(prediction.topics) <= 2
    assert all(prediction.scores[t] >= model.second_min_prob for t in prediction.topics[1:])


def test_predict_many_equals_predict(model: TopicClassifier) -> None:
    batch = [(a["title"], a["description"], a["text"]) for a in ARTICLES[:8]]
    batch.append(("", "", ""))
    batch.append(("عنوان فقط",))  # type: ignore[arg-type]
    many = model.predict_many(batch)
    assert many == [model.predict(*args) for args in batch]
    assert model.predict_many([]) == []


def test_empty_article_gets_a_valid_prediction(model: TopicClassifier) -> None:
    prediction = model.predict("")
    assert prediction.best == max(prediction.scores, key=prediction.scores.__getitem__)
    assert abs(sum(prediction.scores.values()) - 1) < 1e-4


def _with_second_threshold(model: TopicClassifier, threshold: float) -> TopicClassifier:
    return TopicClassifier(
        classes=model.classes,
        vocabulary=model.vocabulary(),
        idf=model.idf,
        coef=model.coef,
        intercept=model.intercept,
        config=model.config,
        temperature=model.temperature,
        second_min_prob=threshold,
    )


def test_second_topic_follows_the_threshold(model: TopicClassifier) -> None:
    article = ("عقوبات أمريكية على قطاع النفط الإيراني", "تراجعت صادرات النفط وارتفعت الأسعار")
    always = _with_second_threshold(model, 0.0).predict(*article)
    never = _with_second_threshold(model, 1.0).predict(*article)
    assert never.topics == (never.best,)
    assert len(always.topics) == 2 and always.topics[0] == always.best
    runner_up = sorted(always.scores, key=always.scores.__getitem__)[-2]
    assert always.topics[1] == runner_up


def test_second_topic_only_when_clearly_supported(model: TopicClassifier) -> None:
    single = model.predict("مانشستر سيتي يتوج بلقب الدوري الإنجليزي الممتاز", "بعد فوزه على توتنهام بهدفين")
    assert single.topics == ("sport",)


def test_model_round_trips_through_bytes(model: TopicClassifier) -> None:
    blob = model.to_bytes()
    again = TopicClassifier.from_bytes(blob)
    assert again.to_bytes() == blob
    title, description, text = ARTICLES[0]["title"], ARTICLES[0]["description"], ARTICLES[0]["text"]
    assert again.predict(title, description, text) == model.predict(title, description, text)


def test_from_bytes_rejects_a_foreign_format(model: TopicClassifier) -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(model.to_bytes())) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "meta.npy":
                meta = np.load(io.BytesIO(data))
                doc = json.loads(bytes(meta).decode("utf-8"))
                doc["format"] = 999
                out = io.BytesIO()
                raw = json.dumps(doc).encode("utf-8")
                np.lib.format.write_array(out, np.frombuffer(raw, dtype=np.uint8))
                data = out.getvalue()
            dst.writestr(info, data)
    with pytest.raises(ValueError, match="format"):
        TopicClassifier.from_bytes(buf.getvalue())


def test_featurizer_uses_title_body_limit_and_bigrams() -> None:
    features = Featurizer(FeatureConfig(title_prefix=True, bigrams=True, body_chars=11)).features(
        "أسعار النفط", "", "ارتفعت الأسعار اليوم كثيرا"
    )
    assert "t:نفط" in features and "اسعار نفط" in features
    assert "ارتفعت" in features and "يوم" not in features  # the body is cut after 11 characters
    plain = Featurizer(FeatureConfig(title_prefix=False, bigrams=False)).features("أسعار النفط")
    assert plain == ["اسعار", "نفط"]


def test_fast_feature_path_finds_the_named_features(model: TopicClassifier) -> None:
    column = {feature: i for i, feature in enumerate(model.vocabulary())}
    for a in ARTICLES:
        args = (a["title"], a["description"], a["text"])
        named = [column[f] for f in model.featurizer.features(*args) if f in column]
        assert sorted(model.feature_ids(*args).tolist()) == sorted(named)


def test_shipped_word_table_agrees_with_tokenizing_and_stemming(model: TopicClassifier) -> None:
    from news.arabic import chunk_tokens, stem

    table = model.words()
    assert len(table.forms) > 10_000 and table.forms == sorted(table.forms)
    column = {feature: i for i, feature in enumerate(model.vocabulary())}
    for form, col, is_token in zip(table.forms, table.columns, table.tokens, strict=True):
        tokens = chunk_tokens(form)
        assert len(tokens) == 1
        assert col == column.get(stem(tokens[0]), -1)
        assert is_token == (tokens[0] == form)


def test_word_table_changes_no_feature(model: TopicClassifier) -> None:
    bare = _with_second_threshold(model, model.second_min_prob)  # the same model without a word table
    assert not bare.words().forms and model.words().forms
    for a in ARTICLES:
        punctuated = a["title"] + "، «" + a["description"] + "»!"
        for args in ((a["title"], a["description"], a["text"]), (punctuated,)):
            assert sorted(model.feature_ids(*args).tolist()) == sorted(bare.feature_ids(*args).tolist())


def test_word_table_of_pieces_keeps_single_words() -> None:
    model = TopicClassifier(
        classes=BUILTIN_KEYS,
        vocabulary=["اسعار", "نفط"],
        idf=np.ones(2, dtype=np.float32),
        coef=np.zeros((2, len(BUILTIN_KEYS)), dtype=np.float32),
        intercept=np.zeros(len(BUILTIN_KEYS), dtype=np.float32),
        config=FeatureConfig(),
        temperature=1.0,
        second_min_prob=1.0,
    )
    table = model.word_table(["النفط،", "نفط", "أسعار", "اسعار", "النفط-الخام", "جديد", "!!"])
    assert table.forms == ["أسعار", "اسعار", "النفط،", "جديد", "نفط"]
    assert table.columns == [0, 0, 1, -1, 1]
    assert table.tokens == [False, True, False, True, True]
    again = TopicClassifier.from_bytes(
        TopicClassifier(
            classes=BUILTIN_KEYS,
            vocabulary=model.vocabulary(),
            idf=model.idf,
            coef=model.coef,
            intercept=model.intercept,
            config=model.config,
            temperature=1.0,
            second_min_prob=1.0,
            words=table,
        ).to_bytes()
    )
    assert again.words() == table
    assert sorted(again.feature_ids("أسعار النفط، جديد").tolist()) == [0, 1]


# --- the vocabulary's tables, as the model file stores them ----------------------------------------------

SMALL_VOCABULARY = ["اسعار", "اسعار نفط", "t:نفط", "نفط", "نفط اسعار", "t:اسعار", "يوم"]


def test_vocabulary_tables_from_names_and_from_structure_agree() -> None:
    from news.classifier import VocabularyTables

    tables = VocabularyTables.of(SMALL_VOCABULARY)
    assert tables.names() == tuple(SMALL_VOCABULARY)
    again = VocabularyTables.from_structure(*tables.structure())
    assert again.unigrams == tables.unigrams and list(again.unigrams) == ["اسعار", "نفط", "يوم"]
    for name in ("bigram_codes", "bigram_cols", "title_cols"):
        assert np.array_equal(getattr(again, name), getattr(tables, name)), name
    assert again.n_features == len(SMALL_VOCABULARY)
    assert tables.title_cols.tolist() == [5, -1, -1, 2, -1, -1, -1]


def test_shipped_model_names_come_back_from_its_structure(model: TopicClassifier) -> None:
    from news.classifier import VocabularyTables

    names = model.vocabulary()
    assert len(names) == model.n_features and names == tuple(sorted(names))
    rebuilt = VocabularyTables.of(names)
    for name in ("bigram_codes", "bigram_cols", "title_cols"):
        assert np.array_equal(getattr(rebuilt, name), getattr(model._tables, name)), name
    assert rebuilt.unigrams == model._tables.unigrams


@pytest.mark.parametrize(
    ("first", "second", "problem"),
    [
        ([-1, -1, 0, 7], [-1, -1, 1, 0], "other than unigrams"),  # a bigram of a column past the end
        ([-1, -1, 0, 2], [-1, -1, 1, 0], "other than unigrams"),  # a bigram of a bigram
        ([-1, -1, 0, 0], [-1, -1, 1, 1], "twice"),  # the same bigram in two columns
        ([-1, -1, 0, 0], [-1, -1, -2, -2], "twice"),  # the same title feature twice
        ([-1, -1, 0, 5], [-1, -1, 1, -3], "other than unigrams"),  # a kind that does not exist
        ([-1, -1, -1, 0], [-1, -1, -1, 1], "do not match"),  # three unigrams, two names
    ],
)
def test_vocabulary_structure_is_checked(first: list[int], second: list[int], problem: str) -> None:
    from news.classifier import VocabularyTables

    with pytest.raises(ValueError, match=problem):
        VocabularyTables.from_structure(["اسعار", "نفط"], np.array(first), np.array(second))


def test_vocabulary_names_are_checked() -> None:
    from news.classifier import VocabularyTables

    with pytest.raises(ValueError, match="twice"):
        VocabularyTables.of(["نفط", "نفط"])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        VocabularyTables.of(["نفط", "نفط اسعار"])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        VocabularyTables.of(["نفط", "t:اسعار"])


def test_scoring_equals_the_float32_weights(model: TopicClassifier) -> None:
    """The model keeps its weights in half precision and widens the rows it gathers: same scores."""
    docs = model.feature_ids_many([(a["title"], a["description"], a["text"]) for a in ARTICLES])
    indptr, indices, data = model.vectorize(docs)
    expected = np.tile(model.intercept, (len(docs), 1))
    for row in range(len(docs)):
        span = slice(indptr[row], indptr[row + 1])
        expected[row] += (model.coef[indices[span]] * data[span, None]).sum(axis=0, dtype=np.float32)
    assert np.allclose(model.decision(indptr, indices, data), expected, atol=1e-5)


def test_memo_learns_only_the_pieces_it_meets_and_restarts_empty(
    model: TopicClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    import news.classifier

    fresh = TopicClassifier.from_bytes(model.to_bytes())
    codes = fresh._chunk_codes
    assert codes.memo == {}  # the 65k forms of the word table are not copied into a dict
    fresh.feature_ids("كلمةجديدةتماما أخرىجديدة", "", "")
    assert set(codes.memo) == {"كلمةجديدةتماما", "أخرىجديدة"}
    monkeypatch.setattr(news.classifier, "_CACHE_LIMIT", 3)
    a = ARTICLES[0]
    assert sorted(fresh.feature_ids(a["title"], a["description"], a["text"]).tolist()) == sorted(
        model.feature_ids(a["title"], a["description"], a["text"]).tolist()
    )
    assert "كلمةجديدةتماما" not in codes.memo and codes.memo


def test_word_table_lookup_finds_exactly_the_stored_forms(model: TopicClassifier) -> None:
    """The table answers as a dict of its forms would: every stored form gives its column (and, asked
    for tokens only, only the forms that are tokens), and nothing else matches: not a prefix, not a
    longer word, not a form with a NUL that numpy's fixed-width strings would drop."""
    words = model.words()
    index = model._chunk_codes._forms
    assert index.lookup(words.forms) == words.columns
    as_tokens = index.lookup(words.forms, tokens_only=True)
    assert as_tokens == [c if t else None for c, t in zip(words.columns, words.tokens, strict=True)]
    longest = max(words.forms, key=len)
    others = [longest[:-1] + "\u0640", longest + longest, words.forms[0] + "\0", "\0", ""]
    expected = [words.columns[words.forms.index(w)] if w in words.forms else None for w in others]
    assert index.lookup(others) == expected
    assert expected[1:4] == [None, None, None]


def test_a_word_table_with_a_form_twice_is_refused() -> None:
    from news.classifier import _FormIndex

    blob = "\n".join(["أ", "ب", "ب"]).encode()
    with pytest.raises(ValueError, match="not unique"):
        _FormIndex(blob, np.array([1, 2, 3], dtype=np.int32), np.ones(3, dtype=np.uint8))
    with pytest.raises(ValueError, match="do not match"):
        _FormIndex(blob, np.array([1, 2], dtype=np.int32), np.ones(2, dtype=np.uint8))


# --- training ----------------------------------------------------------------------------------------------

WORDS = {
    "politics": ["رئيس", "حكومة", "برلمان", "انتخابات", "وزير", "معارضة", "حزب", "قمة", "سفير", "عقوبات"],
    "economy": ["أسعار", "نفط", "بورصة", "أسهم", "تضخم", "بنك", "ميزانية", "ضريبة", "استثمار", "شركة"],
    "sport": ["مباراة", "هدف", "دوري", "منتخب", "لاعب", "مدرب", "كأس", "ملعب", "بطولة", "فريق"],
    "technology": ["هاتف", "تطبيق", "إنترنت", "برمجيات", "ذكاء", "روبوت", "شبكة", "بيانات", "حاسوب", "قرصنة"],
    "culture": ["فيلم", "مهرجان", "رواية", "مسرح", "ممثل", "أغنية", "فنان", "متحف", "سينما", "معرض"],
}
COMMON = ["قال", "أعلن", "يوم", "اليوم", "مصادر", "العام", "الماضي", "أمس", "خلال", "بعد"]


def _synthetic_doc(
    module: ModuleType,
    rng: random.Random,
    words: list[str],
    *,
    doc_id: str,
    url: str,
    outlet: str,
    label: str,
) -> Any:
    def sentence(k: int) -> str:
        return " ".join(rng.choice(words if rng.random() < 0.6 else COMMON) for _ in range(k))

    return module.LabeledDoc(
        doc_id=doc_id,
        url=url,
        outlet=outlet,
        title=sentence(6),
        description=sentence(12),
        text=sentence(40),
        label=label,
        labels=(label,),
    )


def _synthetic_corpus(module: ModuleType, n_per_topic: int = 30) -> list[Any]:
    rng = random.Random(7)
    return [
        _synthetic_doc(
            module,
            rng,
            words,
            doc_id=f"{topic}-{i:03d}",
            url=f"https://example.com/{topic}/{i}",
            outlet="synthetic",
            label=topic,
        )
        for topic, words in WORDS.items()
        for i in range(n_per_topic)
    ]


def test_training_is_deterministic_and_learns_the_synthetic_topics() -> None:
    module = _train_topics()
    docs = _synthetic_corpus(module)
    cfg = module.TrainConfig(min_df=1)
    first = module.train_model(docs, cfg).to_bytes()
    second = module.train_model(list(reversed(docs)), cfg).to_bytes()
    assert first == second
    model = TopicClassifier.from_bytes(first)
    assert model.vocabulary() == tuple(sorted(model.vocabulary()))
    assert model.predict("مباراة الدوري بين المنتخب والفريق", "سجل اللاعب هدفا").best == "sport"
    assert model.predict("فيلم جديد في المهرجان", "الممثل والفنان في السينما").best == "culture"


def test_split_keeps_a_url_and_its_copies_on_one_side() -> None:
    module = _train_topics()
    docs = _synthetic_corpus(module, n_per_topic=60)
    # The same article under a second URL, and another article with the first one's title.
    twin = dataclasses.replace(docs[0], url="https://x/y")
    retitled = dataclasses.replace(docs[1], url="https://x/z", title=docs[0].title)
    corpus = [*docs, twin, retitled]
    train, held = module.split_corpus(corpus)
    assert train and held and len(train) + len(held) == len(corpus)
    side = {id(d): "train" for d in train} | {id(d): "held" for d in held}
    assert side[id(docs[0])] == side[id(twin)] == side[id(retitled)] == side[id(docs[1])]
    assert module.split_corpus(corpus) == (train, held)


HEALTH = ["مستشفى", "طبيب", "مرض", "علاج", "دواء", "لقاح", "صحة", "مريض", "فيروس", "جراحة"]


def _two_outlet_corpus(module: ModuleType) -> list[Any]:
    """Two outlets with the same five desks, except that health stories go to technology at one
    and to culture at the other: what per-outlet weights exist to learn."""
    rng = random.Random(11)
    desks = {"a": "technology", "b": "culture"}
    return [
        _synthetic_doc(
            module,
            rng,
            words,
            doc_id=f"{outlet}-{topic}-{i:03d}",
            url=f"https://www.{host}/{topic}/{i}",
            outlet=outlet,
            label=desks[outlet] if topic == "health" else topic,
        )
        for outlet, host in (("a", "news-a.example"), ("b", "news-b.example"))
        for topic, words in [*WORDS.items(), ("health", HEALTH)]
        for i in range(20)
    ]


def test_per_outlet_weights_learn_how_each_outlet_files() -> None:
    module = _train_topics()
    cfg = module.TrainConfig(min_df=1, source_min_docs=50)
    model = module.train_model(_two_outlet_corpus(module), cfg)
    assert module.train_model(list(reversed(_two_outlet_corpus(module))), cfg).to_bytes() == (
        model.to_bytes()
    )
    assert model.sources is not None
    assert model.sources.names == ("a", "b")
    assert model.sources.domains == (("news-a.example",), ("news-b.example",))
    health = ("طبيب في المستشفى يعالج المريض", "لقاح جديد ضد الفيروس ودواء للمرض")
    assert model.predict(*health, url="https://news-a.example/x").best == "technology"
    assert model.predict(*health, url="https://m.news-b.example/y").best == "culture"
    unknown = model.predict(*health, url="https://other.example/z")
    assert unknown == model.predict(*health)  # the general model, as with no URL
    sport = ("مباراة الدوري بين المنتخب والفريق", "سجل اللاعب هدفا")
    assert model.predict(*sport, url="https://news-a.example/s").best == "sport"
    again = TopicClassifier.from_bytes(model.to_bytes())
    assert again.to_bytes() == model.to_bytes()
    assert again.predict(*health, url="https://news-b.example/y") == model.predict(
        *health, url="https://news-b.example/y"
    )
    assert model.info["training"]["per_outlet"]["outlets"] == {
        "a": ["news-a.example"],
        "b": ["news-b.example"],
    }


def test_outlets_without_enough_documents_get_no_weights() -> None:
    module = _train_topics()
    cfg = module.TrainConfig(min_df=1, source_min_docs=500)
    model = module.fit_linear(_two_outlet_corpus(module), cfg)
    assert module.fit_source_weights(_two_outlet_corpus(module), model, cfg) is None


@pytest.mark.parametrize(
    ("url", "outlet"),
    [
        ("https://www.alarabiya.net/ar/sport/2018/03/15/x.html", "Alarabia"),
        ("https://arabic.cnn.com/world/article/2018/x", "CNN"),
        ("https://www.bbc.com/arabic/world-123", "BBC"),
        ("http://www.bbc.co.uk/arabic/middleeast-1", "BBC"),
        ("https://www.france24.com/ar/20180315-x", "France24"),
        ("https://www.skynewsarabia.com/world/1-x", "SkyNews"),
        ("HTTPS://WWW.SKYNEWSARABIA.COM/world/1-x", "SkyNews"),
        ("https://notalarabiya.net/x", None),
        ("https://alarabiya.net.example.org/x", None),
        ("https://example.com/?u=https://www.alarabiya.net/", None),
        ("", None),
        (None, None),
        ("not a url", None),
        ("http://[::1", None),
    ],
)
def test_shipped_model_knows_the_corpus_outlets_by_host(
    model: TopicClassifier, url: str | None, outlet: str | None
) -> None:
    assert model.sources is not None
    index = model.source_of(url)
    assert (None if index is None else model.sources.names[index]) == outlet


def test_predict_many_with_urls_equals_predict(model: TopicClassifier) -> None:
    batch = [(a["title"], a["description"], a["text"]) for a in ARTICLES[:10]]
    urls = [
        "https://www.alarabiya.net/a",
        None,
        "https://arabic.cnn.com/b",
        "https://www.bbc.com/arabic/c",
        "https://example.com/d",
        "https://www.france24.com/ar/e",
        "https://www.skynewsarabia.com/f",
        "https://www.alarabiya.net/g",
        "",
        "https://arabic.cnn.com/h",
    ]
    many = model.predict_many(batch, urls)
    assert many == [model.predict(*a, url=u) for a, u in zip(batch, urls, strict=True)]
    assert many[1] == model.predict(*batch[1]) and many[4] == model.predict(*batch[4])
    with pytest.raises(ValueError, match="one URL"):
        model.predict_many(batch, urls[:3])


def test_shipped_outlet_weights_classify_real_articles(model: TopicClassifier) -> None:
    right = sum(
        model.predict(a["title"], a["description"], a["text"], url=a["url"]).best == a["topic"]
        for a in ARTICLES
    )
    assert right / len(ARTICLES) >= 0.8
