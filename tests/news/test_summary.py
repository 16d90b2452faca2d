"""Extractive summaries of real articles and feed descriptions (ANT corpus fixtures; see ATTRIBUTION.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from news.article import clean_text, to_article
from news.parse import parse_feed
from news.summary import ELLIPSIS, _candidates, shorten, split_sentences, summarize

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


# --------------------------------------------------------------------------------------------------
# Endings: a sentence end, or a whole word and «…» (descriptions.jsonl: real descriptions, see ATTRIBUTION.md)
# --------------------------------------------------------------------------------------------------

DESCRIPTIONS: list[dict[str, Any]] = [
    json.loads(line) for line in (FIXTURES / "descriptions.jsonl").read_text(encoding="utf-8").splitlines()
]
FEEDS = FIXTURES.parent / "feeds"
FEED_FILES = sorted(p.name for p in FEEDS.iterdir() if p.suffix in (".xml", ".rdf") and p.name != "empty.xml")
_FINISHED = re.compile(r"(?:(?<![.…])\.|[!?؟؛])[\"'»”’)\]]*$")


def assert_ends_cleanly(summary: str, *sources: str) -> None:
    """``summary`` ends a sentence, or ends a whole word of every source that holds it, then «…»."""
    if not summary:
        return
    if not summary.endswith(ELLIPSIS):
        assert _FINISHED.search(summary), f"ends on a fragment: …{summary[-40:]}"
        return
    kept = split_sentences(summary[: -len(ELLIPSIS)])[-1]
    assert not kept.endswith((".", "،", ":")), f"«…» after a mark: …{kept[-20:]}"
    found = False
    for source in map(_flat, sources):
        at = source.find(kept)
        if at >= 0:
            found = True
            following = source[at + len(kept) : at + len(kept) + 1]
            assert not following.isalnum(), f"cut inside a word: …{kept[-15:]}|{following}"
    assert found, "a cut summary shows text of its source"


def _feed_articles(name: str) -> list[Any]:
    feed = parse_feed((FEEDS / name).read_bytes(), {}, "https://feeds.example/rss")
    articles = (to_article(e, source="t", feed_url="https://feeds.example/rss") for e in feed.entries)
    return [a for a in articles if a is not None]


@pytest.mark.parametrize("name", FEED_FILES)
def test_no_summary_of_the_feed_fixtures_is_cut_inside_a_word(name: str) -> None:
    articles = _feed_articles(name)
    assert articles
    for article in articles:
        for budget in (120, 300):
            # description-only (what most feeds carry) and what ingestion summarizes (the body if any)
            for text in (article.summary, article.body or article.summary):
                summary = summarize(article.title, text, budget=budget)
                assert len(summary) <= budget
                assert_ends_cleanly(summary, article.body, article.summary)


@pytest.mark.parametrize("record", DESCRIPTIONS, ids=[f"{r['kind']}-{r['id']}" for r in DESCRIPTIONS])
def test_no_summary_of_a_real_description_is_cut_inside_a_word(record: dict[str, Any]) -> None:
    description = clean_text(record["description"])
    for budget in BUDGETS:
        summary = summarize(record["title"], description, budget=budget)
        assert len(summary) <= budget
        assert_ends_cleanly(summary, record["body"], description)


@pytest.mark.parametrize("record", [r for r in DESCRIPTIONS if r["kind"] == "glued"], ids=lambda r: r["id"])
def test_a_truncated_description_is_cut_back_to_its_last_full_sentence(record: dict[str, Any]) -> None:
    description = _flat(clean_text(record["description"]))
    summary = summarize(record["title"], description)
    assert summary.endswith(".") and description.startswith(summary[:-1])
    rest = description[len(summary) :]
    assert rest and rest[0] not in " ."  # the full stop had no space after it («الموت.ووقعت»)
    assert not _FINISHED.search(rest), "what was dropped is the unfinished tail"


@pytest.mark.parametrize(
    "record", [r for r in DESCRIPTIONS if r["kind"] == "half_word"], ids=lambda r: r["id"]
)
def test_a_description_cut_inside_a_word_loses_that_word(record: dict[str, Any]) -> None:
    description = _flat(clean_text(record["description"]))
    half = description.rsplit(" ", 1)[-1]
    summary = summarize(record["title"], description)
    assert summary.endswith(ELLIPSIS) and half not in summary.split()
    assert description.startswith(summary[: -len(ELLIPSIS)])


def test_when_nothing_is_finished_the_summary_ends_at_a_whole_word_with_an_ellipsis() -> None:
    # the last word may be half of «550»; the «في» left before it would dangle
    text = (
        "أعلنت الحكومة، مساء الأحد، عن حزمة إجراءات لدعم الشركات الصغيرة في مواجهة ارتفاع الأسعار بنسبة في 55"
    )
    summary = summarize("حزمة دعم", text)
    assert (
        summary
        == "أعلنت الحكومة، مساء الأحد، عن حزمة إجراءات لدعم الشركات الصغيرة في مواجهة ارتفاع الأسعار بنسبة…"
    )
    # «..»/«...» the outlet left at the end go too; too little left gives no summary, not a stub
    assert summarize("عنوان", "قال المتحدث باسم الوزارة إن الاجتماع...").endswith("باسم الوزارة…")
    assert summarize("عنوان", "تحقيق في الحادث الأخير الذي وقع في") == ""


def test_a_paragraph_leading_into_a_quote_is_shown_as_going_on() -> None:
    lead = "وقال وزير الخارجية الفرنسي في مؤتمر صحفي مشترك عقده في العاصمة الأردنية عمان مساء الأحد"
    assert summarize("مؤتمر", f"{lead}:\nإن الحوار هو الطريق الوحيد لحل الأزمة.") == f"{lead}…"


def test_sentence_splitting_edge_cases() -> None:
    # a full stop with no space after it still ends a sentence; a name, a number or initials do not
    assert split_sentences(
        "حتى الموت.ووقعت الحادثة فجرا. ونقل موقع العربية.نت الخبر عن 3.5 مليون د.أحمد"
    ) == [
        "حتى الموت.",
        "ووقعت الحادثة فجرا.",
        "ونقل موقع العربية.نت الخبر عن 3.5 مليون د.أحمد",
    ]
    assert split_sentences("أحرز الفريق اللقب بملعب ويمبلي.وأحرز إيدين هازارد الهدف؟وقال المدرب") == [
        "أحرز الفريق اللقب بملعب ويمبلي.",
        "وأحرز إيدين هازارد الهدف؟",
        "وقال المدرب",
    ]
    # a quotation that closes later on the line is not split, whatever its quotes
    assert split_sentences('قال: "لن نتراجع. سنواصل العمل." ثم غادر. وأضاف') == [
        'قال: "لن نتراجع. سنواصل العمل."',
        "ثم غادر.",
        "وأضاف",
    ]
    assert split_sentences("وكتب: «الوضع صعب. الحل قريب» وأكد ذلك. ثم “انتهى. تماما” هنا.") == [
        "وكتب: «الوضع صعب. الحل قريب» وأكد ذلك.",
        "ثم “انتهى. تماما” هنا.",
    ]
    # … but one that never closes does not swallow the line
    assert split_sentences('قال: "لن نتراجع. سنواصل') == ['قال: "لن نتراجع.', "سنواصل"]
    # the closing quote stays with its sentence, even with no space after it
    assert split_sentences('تهوى التمثيل".كان هذا إعلانا.') == ['تهوى التمثيل".', "كان هذا إعلانا."]
    # «..» and «…» are pauses, with or without a space after them
    assert split_sentences("نكسة جديدة لمورينيو.. تشيلسي بطلا… والجمهور يحتفل..بالكأس.") == [
        "نكسة جديدة لمورينيو.. تشيلسي بطلا… والجمهور يحتفل..بالكأس."
    ]


@pytest.mark.parametrize("article_id", sorted(ARTICLES))
def test_candidates_stop_early_with_the_same_first_sentences(article_id: str) -> None:
    """Reading stops once the summary has what it can show: the sentences found are the full reading's
    first ones, and the tail only counts when there was nothing else (summarize ignores it then)."""
    article = ARTICLES[article_id]
    for text in (article["text"], article["text"][:150], article.get("abstract", "")):
        every, tail = _candidates(article["title"], text)  # no ``enough``: the whole text is read
        for enough in (1, 2, 3):
            found, early_tail = _candidates(article["title"], text, enough=enough)
            assert found == every[:enough]
            if len(every) < enough:
                assert early_tail == tail


@pytest.mark.parametrize(
    "text",
    [
        "جملة أولى طويلة بما يكفي لتكون ملخصا\nجملة ثانية كاملة هنا أيضا.",  # open end followed: a sentence
        "جملة أولى كاملة بما يكفي هنا.\nجملة ثانية بلا نهاية وقد قطعها الموقع عند",  # open end last: tail
        "اقرأ أيضاً:\nعنوان مرتبط\nجملة أولى كاملة بما يكفي هنا.",
        "",
    ],
)
def test_candidates_stop_early_on_made_up_texts(text: str) -> None:
    every, tail = _candidates("عنوان", text)
    for enough in (1, 2):
        found, early_tail = _candidates("عنوان", text, enough=enough)
        assert found == every[:enough]
        assert early_tail == (tail if len(every) < enough else None)
