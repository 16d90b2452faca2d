"""Keyword topics: matching rules, the admin spec parser, and the built-in taxonomy."""

from __future__ import annotations

import pytest

from news.models import Article, Topic
from news.topics import (
    BUILTIN_KEYS,
    BUILTIN_TOPICS,
    MAX_KEYWORDS,
    ArticleTerms,
    KeywordMatcher,
    TopicSpecError,
    builtin_topic,
    desk_topic,
    format_keyword_topic,
    keyword_phrase,
    matching_topics,
    parse_keyword_topic,
    topic_key,
    url_sections,
    with_desk,
)


def _matches(keyword: str, text: str, excluded: tuple[str, ...] = ()) -> bool:
    return KeywordMatcher(Topic("k", "موضوع", keywords=(keyword,), excluded=excluded)).matches(text)


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("عسكري", "أعلنت القيادة العسكرية حالة التأهب"),
        ("عسكري", "والعسكري الذي أصيب نقل إلى المستشفى"),
        ("عسكري", "منح وسام للعسكريين المتقاعدين"),
        ("عسكري", "تدخل عسكريا في الأزمة"),
        ("عسكرية", "قال مصدر عسكري"),
        ("انتخابات", "استعدادا للانتخابات البرلمانية"),
        ("انتخابات", "والانتخابات المقبلة حاسمة"),
        ("انتخابات", "نتائج الانتخابات الرئاسية"),
        ("إسرائيل", "قالت اسرائيل إن"),
        ("اسرائيل", "الحكومة الإسرائيلية"),
        ("اسرائيل", "أعلنت إسرائيل"),
        ("نفط", "ارتفعت أسعار النفط"),
        ("نفط", "الصادرات النفطية تتراجع"),
        ("نفط", "شركة نفطية كبرى"),
        ("سد", "مفاوضات سد النهضة"),
        ("سد", "بدأ ملء السد"),
        ("سد", "الخلاف بالسد مستمر"),
        ("لبنان", "زار ولبنان"),  # a lone waw on a proper noun
        ("ترامب", "قال لترامب مستشاروه"),
        ("رياضة", "الأخبار الرياضية اليوم"),
        ("رياضة", "مسؤول رياضي"),
        ("وزير", "أكد الوزير"),
        ("فيسبوك", "شركة فيسبوك"),
        ("Apple", "أعلنت APPLE عن هاتف"),
        ("كأس العالم", "مباريات كأس العالم لكرة القدم"),
        ("طائرات بدون طيار", "أسقطت الدفاعات الطائرات بدون طيار"),
        ("طائرات بدون طيار", "هاجمت طائرة بدون طيار القاعدة"),
        ("٢٠١٨", "موازنة عام 2018"),
        ("مَصْرِف", "أعلن المصرف المركزي"),
    ],
)
def test_keyword_matches_forms_of_the_word(keyword: str, text: str) -> None:
    assert _matches(keyword, text)


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("سد", "تأخر السداد للدائنين"),  # a short keyword inside an unrelated word
        ("سد", "عثر على مسدس في السيارة"),
        ("سد", "سدود جديدة"),  # a broken plural is a different word to a light stemmer
        ("نفط", "نفطويه عالم لغة"),
        ("رياضة", "زار الرياض أمس"),  # «ة» keywords need an ending: the city is not sport
        ("مدرسة", "قال مدرس التاريخ"),
        ("جامعة", "صلى في الجامع الكبير"),
        ("عسكري", "معسكر تدريب"),
        ("وزير", "زير الماء"),
        ("طائرات بدون طيار", "طيار بدون طائرات"),  # order counts
        ("طائرات بدون طيار", "طائرات كثيرة بدون طيار"),  # adjacency counts
        ("كأس العالم", "فاز بكأس الملك والعالم كله يتابع"),  # «الملك» sits between the two words
        ("انتخابات", ""),
    ],
)
def test_keyword_does_not_match_unrelated_words(keyword: str, text: str) -> None:
    assert not _matches(keyword, text)


def test_phrase_does_not_run_across_fields() -> None:
    matcher = KeywordMatcher(Topic("k", "موضوع", keywords=("كأس العالم",)))
    assert not matcher.matches(ArticleTerms.of("نهائي الكأس", "العالم يترقب"))
    assert matcher.matches(ArticleTerms.of("نهائي كأس", "العالم يترقب", "بطولة كأس العالم"))


def test_excluded_phrase_vetoes_a_match() -> None:
    topic = Topic("k", "طاقة", keywords=("نفط", "غاز"), excluded=("غاز الضحك",))
    matcher = KeywordMatcher(topic)
    assert matcher.matches("أسعار الغاز ترتفع")
    assert not matcher.matches("أسعار الغاز ترتفع واستخدام غاز الضحك في العيادات")
    assert not matcher.matches("استخدام غاز الضحك")
    assert matcher.matches("النفط والغازات")


def test_text_without_any_keyword_does_not_match_even_without_excluded_words() -> None:
    assert not KeywordMatcher(Topic("k", "طاقة", keywords=("نفط",), excluded=("فحم",))).matches("الفحم")


def test_article_terms_are_built_once_and_shared() -> None:
    article = Article(
        url="https://example.com/a",
        canonical_url="https://example.com/a",
        title="ارتفاع أسعار النفط",
        summary="قالت أوبك إن الإنتاج سيرتفع",
        body="وأكد وزير الطاقة السعودي أن السوق متوازنة",
    )
    terms = ArticleTerms.of_article(article)
    matchers = [
        KeywordMatcher(Topic("energy", "طاقة", keywords=("نفط",))),
        KeywordMatcher(Topic("saudi", "السعودية", keywords=("السعودية",))),
        KeywordMatcher(Topic("sport", "رياضة", keywords=("كرة القدم",))),
        KeywordMatcher(Topic("opec", "أوبك", keywords=("أوبك",), excluded=("وزير الطاقة",))),
    ]
    assert matching_topics(terms, matchers) == ("energy", "saudi")


def test_keyword_phrase_stems_each_word() -> None:
    assert keyword_phrase("الطائرات بدون طيار") == keyword_phrase("طائرات بدون طيار")
    assert keyword_phrase("طائرة") == ("طاير+",)  # a «ة» keyword asks for a token with an ending
    assert keyword_phrase("!!!") == ()


# --- parse_keyword_topic ---------------------------------------------------------------------------------


def test_parse_splits_on_arabic_and_ascii_commas_and_newlines() -> None:
    topic = parse_keyword_topic("طاقة: نفط، غاز طبيعي, كهرباء\nطاقة شمسية، -غاز الضحك")
    assert topic.name_ar == "طاقة"
    assert topic.keywords == ("نفط", "غاز طبيعي", "كهرباء", "طاقة شمسية")
    assert topic.excluded == ("غاز الضحك",)
    assert topic.key == topic_key("طاقة")
    assert not topic.builtin


def test_parse_drops_empty_items_duplicates_and_extra_spaces() -> None:
    topic = parse_keyword_topic("  الطاقة   المتجددة :  ، طاقة  شمسية ،، الطاقة الشمسية، - رياح ،-رياح\n")
    assert topic.name_ar == "الطاقة المتجددة"
    assert topic.keywords == ("طاقة شمسية",)
    assert topic.excluded == ("رياح",)


def test_parse_then_format_round_trips() -> None:
    topic = parse_keyword_topic("أمن: هجوم، تفجير، -ألعاب نارية")
    assert parse_keyword_topic(format_keyword_topic(topic)) == topic


def test_topic_key_is_stable_ascii_and_folds_spelling() -> None:
    key = topic_key("الطاقة")
    assert key == topic_key("  الطاقه ")
    assert key != topic_key("الطاقة المتجددة")
    assert key.isascii() and " " not in key and len(key) <= 80
    assert key not in BUILTIN_KEYS


@pytest.mark.parametrize(
    ("spec", "hint"),
    [
        ("نفط، غاز", "نقطتين"),
        (": نفط", "اسم"),
        ("   : نفط", "اسم"),
        ("<b>طاقة</b>: نفط", "<"),
        ("طاقة & نفط: نفط", "&"),
        ("ط" * 41 + ": نفط", "40"),
        ("طاقة: -نفط، -غاز", "كلمة واحدة على الأقل"),
        ("طاقة: ", "كلمة واحدة على الأقل"),
        ("طاقة: نفط، !!!", "ليست كلمة"),
        ("طاقة: " + "ن" * 61, "60"),
        ("طاقة: " + "، ".join(f"كلمة{i}" for i in range(MAX_KEYWORDS + 1)), str(MAX_KEYWORDS)),
    ],
)
def test_parse_rejects_with_an_arabic_sentence(spec: str, hint: str) -> None:
    with pytest.raises(TopicSpecError) as info:
        parse_keyword_topic(spec)
    message = str(info.value)
    assert hint in message
    assert any("\u0600" <= ch <= "\u06ff" for ch in message)
    assert isinstance(info.value, ValueError)


def test_parse_accepts_the_limits() -> None:
    topic = parse_keyword_topic(
        "ط" * 40 + ": " + "، ".join(f"كلمة{i}" for i in range(MAX_KEYWORDS - 1)) + ", -x"
    )
    assert len(topic.keywords) == MAX_KEYWORDS - 1 and topic.excluded == ("x",)
    assert parse_keyword_topic("س: " + "ن" * 60).keywords == ("ن" * 60,)


def test_parsed_topic_matches_articles() -> None:
    matcher = KeywordMatcher(parse_keyword_topic("طاقة: نفط، غاز طبيعي، -غاز الضحك"))
    assert matcher.matches("اكتشاف حقل للغاز الطبيعي")
    assert not matcher.matches("الغاز المسيل للدموع")


# --- built-in taxonomy ------------------------------------------------------------------------------------


def test_builtin_topics_have_stable_keys_and_names() -> None:
    assert BUILTIN_KEYS == ("politics", "economy", "sport", "technology", "culture")
    for topic in BUILTIN_TOPICS:
        assert topic.builtin
        assert topic.name_ar and topic.name_en
        assert builtin_topic(topic.key) is topic
    assert builtin_topic("weather") is None


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["الرياضة"], "sport"),
        (["رياضة"], "sport"),
        (["كرة القدم"], "sport"),
        (["Sports"], "sport"),
        (["اقتصاد"], "economy"),
        (["مال وأعمال"], "economy"),
        (["علوم وتكنولوجيا"], "technology"),
        (["ثقافة وفن"], "culture"),
        (["أخبار العالم"], "politics"),
        (["الشرق الأوسط"], "politics"),
        (["سياسة", "رياضة"], "sport"),  # a news desk re-filing a sport story: the specialist desk wins
        (["اقتصاد", "رياضة"], None),  # two specialist desks cancel out
        (["الرياض"], None),  # the city, not «الرياضة»
        (["رياضة محلية"], None),  # a word outside every desk list: not trusted
        (["إيران"], None),
        (["أخبار"], None),
        ([], None),
    ],
)
def test_desk_topic_reads_only_tags_that_name_one_desk(tags: list[str], expected: str | None) -> None:
    assert desk_topic(tags) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.alarabiya.net/ar/sport/international-sport/2018/03/15/x.html", "sport"),
        ("https://www.alarabiya.net/ar/aswaq/economy/2018/03/15/x.html", "economy"),
        ("https://www.alarabiya.net/ar/arab-and-world/gulf/2018/x", "politics"),
        ("http://www.bbc.co.uk/arabic/art-and-culture-43105759", "culture"),
        ("https://www.bbc.com/arabic/science-and-tech-43776483", "technology"),
        ("https://www.bbc.com/arabic/middleeast-43475215", "politics"),
        ("https://arabic.cnn.com/sport/article/2018/06/04/x", "sport"),
        ("https://arabic.cnn.com/business/video/2018/x", "economy"),
        ("https://www.skynewsarabia.com/technology/1234-x", "technology"),
        ("https://example.org/%D8%A7%D9%84%D8%B1%D9%8A%D8%A7%D8%B6%D8%A9/2018/x", "sport"),  # /الرياضة/
        ("https://example.org/world/sport-results-2018", "politics"),  # «results» names no desk
        ("https://www.skynewsarabia.com/web/article/1-x", None),
        ("https://www.france24.com/ar/20180402-بكين-رد-واشنطن-رسوم", None),  # a title slug
        ("https://www.france24.com/ar/20180402-رياضة-كرة-قدم", "sport"),  # a slug of desk words only
        ("https://example.org/20180402-x/sport/", None),  # nothing after the first dated segment
        ("https://example.org/news/12345", None),
        ("https://example.org/sport/tech/2018/x", None),  # two specialist desks cancel out
        ("https://example.org/?section=sport", None),
        ("http://[::1", None),
        ("", None),
    ],
)
def test_url_sections_name_the_desk_an_outlet_filed_under(url: str, expected: str | None) -> None:
    assert desk_topic(url_sections(url)) == expected


def test_with_desk_puts_the_desk_first_and_keeps_two() -> None:
    assert with_desk(("politics", "economy"), "sport") == ("sport", "politics")
    assert with_desk(("economy", "politics"), "economy") == ("economy", "politics")
    assert with_desk(("economy",), None) == ("economy",)
