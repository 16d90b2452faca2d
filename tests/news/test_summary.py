"""Extractive summaries of real articles (tests/fixtures/summary, from the ANT corpus; see ATTRIBUTION.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from news.summary import ELLIPSIS, shorten, split_sentences, summarize

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "summary"
ARTICLES: dict[str, dict[str, Any]] = {
    row["id"]: row
    for row in map(json.loads, (FIXTURES / "articles.jsonl").read_text(encoding="utf-8").splitlines())
}
BAHRAIN = ARTICLES["CN-economy-36-20180225"]
OPINION = ARTICLES["CN-middleEast-1102-20180604"]
WEINSTEIN = ARTICLES["BB-culture-179-20180529"]
LONG_LEAD = ARTICLES["BB-culture-199-20180613"]
UNEMPLOYMENT = ARTICLES["SK-economy-20-20180215"]
BUDGETS = [30, 60, 120, 200, 300]
_SPACES = re.compile(r"\s+")


def _flat(text: str) -> str:
    return _SPACES.sub(" ", text)


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("article_id", sorted(ARTICLES))
def test_summary_fits_the_budget_and_never_cuts_a_word(article_id: str, budget: int) -> None:
    article = ARTICLES[article_id]
    summary = summarize(article["title"], article["text"], budget=budget)
    assert 0 < len(summary) <= budget
    source = _flat(article["text"])
    if summary.endswith(ELLIPSIS):
        kept = summary[: -len(ELLIPSIS)]
        at = source.find(kept)
        assert at >= 0, "a cut summary is a prefix of a sentence of the text"
        following = source[at + len(kept) : at + len(kept) + 1]
        assert following == "" or not following.isalnum(), f"cut inside a word: {kept[-10:]}|{following}"
    else:
        sentences = split_sentences(summary)
        assert 1 <= len(sentences) <= 2
        for sentence in sentences:
            assert sentence in source


@pytest.mark.parametrize("article_id", sorted(ARTICLES))
def test_default_summary_is_one_or_two_whole_sentences(article_id: str) -> None:
    article = ARTICLES[article_id]
    summary = summarize(article["title"], article["text"])
    assert len(summary) <= 300
    if not summary.endswith(ELLIPSIS):
        assert 1 <= len(split_sentences(summary)) <= 2
        assert summary[-1] in '.!?؟؛"»”)'


def test_cnn_dateline_is_removed() -> None:
    summary = summarize(BAHRAIN["title"], BAHRAIN["text"])
    assert summary.startswith("أعلنت البحرين مؤخراً")
    assert "(CNN)" not in summary and "المنامة، البحرين" not in summary


@pytest.mark.parametrize(
    "dateline",
    ["دبي - العربية.نت", "لندن - (رويترز) -", "القاهرة (خاص عن مصر)-", "القاهرة - (أ ف ب) -"],
)
def test_other_outlets_datelines_are_removed(dateline: str) -> None:
    summary = summarize(UNEMPLOYMENT["title"], f"{dateline} {UNEMPLOYMENT['text']}")
    assert summary.startswith("أعلن الجهاز المركزي للتعبئة العامة والإحصاء في مصر")
    assert dateline.split()[0] not in summary


def test_decimals_do_not_end_a_sentence() -> None:
    summary = summarize(UNEMPLOYMENT["title"], UNEMPLOYMENT["text"])
    assert "11.3 بالمئة" in summary and "12.4 بالمئة" in summary


def test_disclaimer_and_byline_are_skipped_without_splitting_on_the_doctor_title() -> None:
    assert split_sentences(OPINION["text"])[0].startswith("هذا المقال بقلم د. عامر السبايلة،")
    summary = summarize(OPINION["title"], OPINION["text"])
    assert summary.startswith("تساؤلات كثيرة فجرتها الاحتجاجات")
    assert "بالضرورة" not in summary and "بقلم" not in summary


def test_read_also_links_captions_and_subheadings_are_skipped() -> None:
    text = (
        "اقرأ أيضا: محاكمة هارفي واينستين بكفالة مليون دولار\n"
        "مصدر الصورة Getty Images\n"
        "المنتج في قفص الاتهام\n" + WEINSTEIN["text"]
    )
    summary = summarize(WEINSTEIN["title"], text)
    assert summary.startswith("سلم المنتج قطب السينما")
    for junk in ("اقرأ", "Getty", "قفص الاتهام"):
        assert junk not in summary
    assert "اقرأ ايضاً" in WEINSTEIN["text"]  # the fixture's own link list sits further down


def test_a_lead_that_repeats_the_headline_is_skipped() -> None:
    summary = summarize(BAHRAIN["title"], f"{BAHRAIN['title']}.\n{BAHRAIN['text']}")
    assert not summary.startswith(BAHRAIN["title"])
    assert summary.startswith("أعلنت البحرين مؤخراً")


def test_first_sentence_longer_than_the_budget_is_cut_at_a_word_with_an_ellipsis() -> None:
    assert len(split_sentences(LONG_LEAD["text"])[0]) > 300
    summary = summarize(LONG_LEAD["title"], LONG_LEAD["text"], budget=300)
    assert summary.endswith(ELLIPSIS) and len(summary) <= 300
    assert summary.startswith('"من بونابرت إلى الجيش"')


def test_short_first_sentence_takes_the_next_one_along() -> None:
    text = (
        "قتل 99 شخصا على الأقل.\n"
        + "وتعمل خدمات الطوارئ بحثا عن ناجين بعد أن ضربت الحمم البركانية بلدات قريبة."
    )
    assert summarize("بركان فويغو", text) == text.replace("\n", " ")


def test_sentence_splitting_rules() -> None:
    text = 'قال د. أحمد إن الوضع صعب جدا. وأضاف: "الحل قريب"! هل انتهى الأمر؟ نعم؛ انتهى.. تقريبا'
    assert split_sentences(text) == [
        "قال د. أحمد إن الوضع صعب جدا.",
        'وأضاف: "الحل قريب"!',
        "هل انتهى الأمر؟",
        "نعم؛",
        "انتهى.. تقريبا",
    ]
    assert split_sentences("نقلت وكالة أ.ف.ب. الخبر عن 3.5 مليون شخص.\nسطر ثان") == [
        "نقلت وكالة أ.ف.ب. الخبر عن 3.5 مليون شخص.",
        "سطر ثان",
    ]


def test_nothing_to_say_gives_an_empty_summary() -> None:
    assert summarize("عنوان", "") == ""
    assert summarize("عنوان", "اقرأ أيضا: خبر آخر\nشاهد أيضا: فيديو") == ""


def test_shorten_and_budget_validation() -> None:
    assert shorten("كلمة واحدة فقط", 100) == "كلمة واحدة فقط"
    assert shorten("كلمة واحدة فقط", 11) == "كلمة واحدة…"
    assert shorten("كلماتطويلةجدابلامسافات", 5) == ""
    with pytest.raises(ValueError):
        summarize("عنوان", "نص", budget=0)
