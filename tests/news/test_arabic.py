"""Normalization, tokenization and light stemming for matching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from news.arabic import normalize, proclitic_splits, stem, stem_and_ending, stem_tokens, stems, tokenize

FAMILIES = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "topics" / "stem_families.json").read_text()
)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("أحمد إبراهيم آمن ٱلله", "احمد ابراهيم امن الله"),
        ("مستشفى", "مستشفي"),
        ("مدرسة", "مدرسه"),
        ("مسؤول رئيس", "مسوول رييس"),
        ("عَرَبِيٌّ", "عربي"),  # tashkeel
        ("الرحمٰن", "الرحمن"),  # superscript alef
        ("جميـــل", "جميل"),  # tatweel
        ("سلا\u200bم \u200fعليكم\u202c", "سلام عليكم"),  # zero-width space, RLM, PDF
        ("عام ٢٠١٨ و۱۳۹۷", "عام 2018 و1397"),  # Arabic-Indic and Persian digits
        ("ﻻ", "لا"),  # presentation-form ligature (NFKC)
        ("BBC News", "bbc news"),
        ("فارسی کتاب", "فارسي كتاب"),  # Persian yeh and keheh
    ],
)
def test_normalize_folds_spelling_variants(raw: str, folded: str) -> None:
    assert normalize(raw) == folded


def test_normalize_keeps_spaces_and_punctuation_for_phrases() -> None:
    assert normalize("قال: «نعم»، غدًا.") == "قال: «نعم»، غدا."


def test_tokenize_keeps_words_and_drops_punctuation() -> None:
    assert tokenize("قال الرئيس: «الاقتصاد» ينمو بـ3.5% في 2018!") == [
        "قال",
        "الرييس",
        "الاقتصاد",
        "ينمو",
        "ب3",
        "5",
        "في",
        "2018",
    ]


def test_tokenize_does_not_split_words_at_marks_or_invisible_characters() -> None:
    assert tokenize("الحُكُومَة ال\u200cحكومة") == ["الحكومه", "الحكومه"]


def test_tokenize_splits_on_underscore_and_hashtags() -> None:
    assert tokenize("#بدون_فلتر") == ["بدون", "فلتر"]


@pytest.mark.parametrize("family", FAMILIES["same"], ids=lambda f: f[0])
def test_forms_of_one_word_share_a_stem(family: list[str]) -> None:
    key = stem(tokenize(family[0])[0])
    for word in family[1:]:
        readings = {stem(r) for r in proclitic_splits(tokenize(word)[0])}
        assert key in readings, (word, readings)


def _has_lone_proclitic(word: str, base: str) -> bool:
    return word[0] in "وفبلك" and word[0] != base[0] and not word.startswith(("ال", "وال", "بال", "لل"))


@pytest.mark.parametrize(
    "family",
    [f for f in FAMILIES["same"] if not any(_has_lone_proclitic(w, f[0]) for w in f)],
    ids=lambda f: f[0],
)
def test_forms_without_a_lone_proclitic_share_the_plain_stem(family: list[str]) -> None:
    assert len({stem(tokenize(word)[0]) for word in family}) == 1


@pytest.mark.parametrize("pair", FAMILIES["different"], ids=lambda p: "-".join(p))
def test_unrelated_words_keep_different_stems(pair: list[str]) -> None:
    a, b = (stem(tokenize(word)[0]) for word in pair)
    assert a != b


def test_stem_fixes_the_taa_marbuta_order_problem() -> None:
    # Snowball after folding gave «العسكرية» → «عسكريه» but «عسكري» → «عسكر».
    assert stem(tokenize("العسكرية")[0]) == stem(tokenize("عسكري")[0]) == "عسكر"


def test_stem_never_strips_a_lone_waw_but_readings_do() -> None:
    assert stem("وزير") == "وزير"
    assert stem("ولبنان") == "ولبنان"
    assert "لبنان" in proclitic_splits("ولبنان")
    assert proclitic_splits("وطن") == ("وطن",)  # too short to hold a proclitic and a word


def test_stem_leaves_non_arabic_tokens_alone() -> None:
    assert stem("iphone") == "iphone"
    assert stem("2018") == "2018"


def test_stem_and_ending_reports_what_was_cut() -> None:
    assert stem_and_ending("الرياضيه") == ("رياض", "يه")
    assert stem_and_ending("الرياض") == ("رياض", "")
    assert stem_and_ending("حكومتها") == ("حكوم", "تها")


def test_stems_is_tokenize_then_stem() -> None:
    text = "وأكد وزير الخارجية الأمريكي أن المفاوضات الاقتصادية مستمرة"
    assert stems(text) == stem_tokens(tokenize(text)) == [stem(t) for t in tokenize(text)]
    assert stems(text)[2:4] == ["خارج", "امريك"]


def test_stems_of_empty_and_symbol_only_text() -> None:
    assert stems("") == []
    assert stems("!!! ... ؟") == []


def _fixture_pieces() -> list[str]:
    """Every white-space piece of the topic fixtures' articles, plus pieces that test the edges."""
    from news.arabic import chunks

    pieces: set[str] = set()
    path = Path(__file__).parent.parent / "fixtures" / "topics" / "articles.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        for key in ("title", "description", "text"):
            pieces.update(chunks(doc.get(key) or ""))
    edge = ["ﷺ", "ﹼ", "ﻻ", "İstanbul", "ΟΔΟΣ", "Σ", "سلا\u200bم", "عَرَبِيٌّ", "٢٠١٨", "-", "،", "10.5", "أ-ب"]
    return sorted(pieces) + edge


def test_chunk_tokens_many_equals_chunk_tokens_piece_by_piece() -> None:
    from news.arabic import chunk_tokens, chunk_tokens_many

    pieces = _fixture_pieces()
    assert chunk_tokens_many(pieces) == [chunk_tokens(p) for p in pieces]
    assert chunk_tokens_many([]) == []


def test_stem_many_equals_stem_token_by_token() -> None:
    """The batch stemmer is regular expressions over lines; the loop in ``_analyze`` is the reference."""
    from news.arabic import chunk_tokens_many, stem_many

    tokens = sorted({t for found in chunk_tokens_many(_fixture_pieces()) for t in found})
    tokens += [w for family in FAMILIES for w in family]
    # Each rule at its length limit: two letters after a proclitic, four before a pronoun, three stems.
    tokens += ["والب", "والبا", "الالعاب", "الالع", "حكومتها", "حكومتهما", "متهم", "تفاهم", "بيتهم"]
    tokens += ["كاتبيه", "ابيه", "مدرسيه", "معلمات", "لاعبون", "اللاعبين", "سيا", "سياسي", "ال", "يه"]
    tokens += ["abc", "x1ها", "2018", "ثثتهم", "ثثثتهم", "هاها", "الاتها"]
    expected = [stem(t) for t in tokens]
    assert stem_many(tokens) == expected
    assert len(tokens) > 1000 and sum(s != t for s, t in zip(expected, tokens, strict=True)) > 300
