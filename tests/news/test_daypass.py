"""The digest's day pass on real articles (tests/fixtures/daypass, from the ANT corpus): which entries it
merges, which members it splits off, and how the merged stories come back for the digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from news.arabic import tokenize
from news.daypass import NO_PRIOR, DayPassPolicy, Member, review, review_stories, shipped_prior, skeleton
from news.models import DigestStory, StoryArticle

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "daypass" / "articles.jsonl"


def _articles() -> dict[str, list[dict[str, Any]]]:
    by_story: dict[str, list[dict[str, Any]]] = {}
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row["at"] = parsedate_to_datetime(row["time"]).astimezone(UTC)
        by_story.setdefault(row["story"], []).append(row)
    for rows in by_story.values():
        rows.sort(key=lambda r: r["at"])
    return by_story


ARTICLES = _articles()


def _members(*entries: list[dict[str, Any]]) -> tuple[list[Member], dict[int, str]]:
    """One ingestion entry per argument; returns the members and key -> story label."""
    members: list[Member] = []
    labels: dict[int, str] = {}
    for group, rows in enumerate(entries):
        for row in rows:
            key = len(members)
            members.append(Member(key, group, row["title"], row["lead"], row["at"]))
            labels[key] = row["story"]
    return members, labels


def _stories(shown: list[tuple[int, ...]], labels: dict[int, str]) -> list[list[str]]:
    return sorted(sorted(labels[k] for k in keys) for keys in shown)


@pytest.mark.parametrize(("a", "b"), [("تشلسي", "تشيلسي"), ("غوغل", "جوجل"), ("ميغان", "ميجان")])
def test_transliterated_spellings_share_a_skeleton(a: str, b: str) -> None:
    assert skeleton(tokenize(a)[0]) == skeleton(tokenize(b)[0])


@pytest.mark.parametrize(
    ("latin", "arabic"), [("Brexit", "بريكسيت"), ("Facebook", "فيسبوك"), ("Google", "غوغل")]
)
def test_latin_spellings_meet_their_arabic_transliteration(latin: str, arabic: str) -> None:
    assert skeleton(tokenize(latin)[0]) == skeleton(tokenize(arabic)[0])


def test_short_words_keep_their_vowels() -> None:
    assert skeleton("قال") != skeleton("قيل")


def test_two_outlets_telling_one_story_become_one_entry() -> None:
    # Van Gogh's early landscape sold in Paris: France 24 at 11:00, BBC at 23:25, in other words and
    # other currencies («7 ملايين يورو» / «8.2 ملايين دولار» are not one quantity in conflict).
    members, labels = _members(ARTICLES["van_gogh"][:1], ARTICLES["van_gogh"][1:], ARTICLES["boateng"])
    assert _stories(review(members), labels) == [["boateng"], ["van_gogh", "van_gogh"]]


def test_unrelated_entries_of_one_desk_stay_apart() -> None:
    # The Egyptian parliament passed the budget and, hours later, higher service fees: one desk, one
    # chamber, two decisions.
    members, labels = _members(ARTICLES["egypt_budget"], ARTICLES["egypt_fees"], ARTICLES["morocco_slovakia"])
    assert _stories(review(members), labels) == [
        ["egypt_budget", "egypt_budget"],
        ["egypt_fees"],
        ["morocco_slovakia"],
    ]


def test_a_member_naming_another_weekday_is_split_off() -> None:
    # Ingestion put Friday's raids on Ghouta (France 24) and Saturday's strike on people waiting to
    # leave (Sky News Arabia) in one story; their leads say «الجمعة» and «السبت».
    members, labels = _members(ARTICLES["ghouta_friday"] + ARTICLES["ghouta_saturday"])
    assert _stories(review(members), labels) == [["ghouta_friday"], ["ghouta_saturday"]]
    assert len(review(members, DayPassPolicy(split=False))) == 1


def test_a_reply_is_split_off_the_news_it_answers() -> None:
    # Ingestion put Moscow's expulsion of 23 British diplomats («موسكو ترد بالمثل», Sky News Arabia) and
    # London's answer to it («بريطانيا ترد», CNN) in one story: same figures, same day, two parties.
    members, labels = _members(ARTICLES["russia_expels"] + ARTICLES["uk_reply"])
    assert _stories(review(members), labels) == [["russia_expels"], ["uk_reply"]]
    assert len(review(members, DayPassPolicy(replies=False))) == 1


def test_a_player_s_first_remarks_are_split_off_the_match() -> None:
    # CNN's report of Salah's four goals, its records piece, and «في أول تعليق» (his words after it).
    members, labels = _members(ARTICLES["salah_goals"] + ARTICLES["salah_remarks"])
    assert _stories(review(members), labels) == [["salah_goals", "salah_goals"], ["salah_remarks"]]
    assert len(review(members, DayPassPolicy(replies=False))) == 1


def test_a_government_s_words_do_not_join_the_news_they_answer() -> None:
    # Trump cancels the Singapore summit (Sky News Arabia, France 24); hours later «بيونغيانغ: الزعيم بذل
    # قصارى جهده لعقد القمة مع ترامب». A capital before a colon gives that government's words.
    summit, reply = ARTICLES["summit_cancelled"], ARTICLES["pyongyang_reply"]
    members, labels = _members(summit[:1], summit[1:], reply)
    assert _stories(review(members), labels) == [
        ["pyongyang_reply"],
        ["summit_cancelled", "summit_cancelled"],
    ]
    assert len(review(members, DayPassPolicy(replies=False))) == 1


def test_what_is_and_is_not_another_party_s_answer() -> None:
    # One party named two ways, «تعلق» meaning "suspends", the answering party's own act told plainly,
    # and a capital before a colon that is a dateline (an event noun follows) all stay together.
    lead = "أعلنت الحكومة ردها على العقوبات الجديدة التي فرضت على شركات الطاقة والمصارف"
    same_party = [
        _member(0, 1, "موسكو ترد على العقوبات الأمريكية الجديدة", lead, AT),
        _member(1, 1, "روسيا ترد على العقوبات الأمريكية", lead, AT + timedelta(hours=1)),
    ]
    two_parties = [
        _member(0, 1, "موسكو ترد على العقوبات الأمريكية الجديدة", lead, AT),
        _member(1, 1, "واشنطن ترد على موسكو بعقوبات جديدة", lead, AT + timedelta(hours=1)),
    ]
    suspends = [
        _member(0, 1, "واشنطن تعلق الرسوم الجمركية على الصين", lead, AT),
        _member(1, 1, "أمريكا تعلق الرسوم على الواردات الصينية", lead, AT + timedelta(hours=1)),
    ]
    told_plainly = [
        _member(0, 1, "روسيا ترد على أمريكا بطرد 60 دبلوماسيا", lead, AT),
        _member(1, 1, "روسيا تطرد 60 دبلوماسيا أمريكيا وتغلق قنصلية", lead, AT + timedelta(hours=1)),
    ]
    dateline = [
        _member(0, 1, "حريق يلتهم أكبر مخزن لصناديق الاقتراع في العاصمة العراقية", lead, AT),
        _member(1, 1, "بغداد: حريق كبير يلتهم أكبر مخازن صناديق الاقتراع", lead, AT + timedelta(hours=1)),
    ]
    only_split = DayPassPolicy(merge=False)
    assert review(same_party, only_split) == [(0, 1)]
    assert review(two_parties, only_split) == [(0,), (1,)]
    assert review(suspends, only_split) == [(0, 1)]
    assert review(told_plainly, only_split) == [(0, 1)]
    assert review(dateline, only_split) == [(0, 1)]


def _member(key: int, group: int, title: str, lead: str, at: datetime) -> Member:
    return Member(key, group, title, lead, at)


AT = datetime(2018, 6, 5, 12, tzinfo=UTC)


def test_other_figures_for_one_quantity_and_other_scores_split() -> None:
    lead = "قتل {} شخصا في انفجار سيارة مفخخة وسط مدينة مقديشو الصومالية"
    members = [
        _member(0, 7, "انفجار سيارة مفخخة في مقديشو", lead.format(11), AT),
        _member(1, 7, "انفجار سيارة مفخخة في مقديشو", lead.format(30), AT + timedelta(hours=1)),
        _member(
            2, 8, "ليفربول يفوز على روما في دوري الأبطال", "فاز ليفربول على روما 5-2 في ذهاب نصف النهائي", AT
        ),
        _member(3, 8, "ليفربول يفوز على روما في دوري الأبطال", "فاز ليفربول على روما 2-5 مساء الثلاثاء", AT),
        _member(4, 8, "ليفربول يفوز على روما في دوري الأبطال", "تعادل ليفربول وروما 1-1 في الإياب", AT),
    ]
    assert sorted(review(members, DayPassPolicy(merge=False))) == [(0,), (1,), (2, 3), (4,)]


def test_entries_far_apart_in_time_are_not_merged() -> None:
    members, _ = _members(ARTICLES["van_gogh"][:1], ARTICLES["van_gogh"][1:])
    assert len(review(members, DayPassPolicy(max_gap=timedelta(hours=2)))) == 2
    assert len(review(members)) == 1


def test_every_member_is_shown_once_in_a_stable_order() -> None:
    every = [row for rows in ARTICLES.values() for row in rows]
    members, _ = _members(*([row] for row in every))
    shown = review(members)
    keys = [k for entry in shown for k in entry]
    assert sorted(keys) == list(range(len(members)))
    assert review(list(reversed(members))) == shown


def test_titles_made_of_common_words_do_not_merge() -> None:
    # Cosine alone would join these: every word is shared or common. A merge needs a distinctive word.
    members = [
        _member(0, 0, "خبر سياسي من العاصمة اليوم", "", AT),
        _member(1, 1, "خبر اقتصادي من العاصمة اليوم", "", AT),
    ]
    assert len(review(members)) == 2
    assert len(review(members, prior=NO_PRIOR)) == 2
    assert shipped_prior().docs > 8000


def _story(story_id: int, rows: list[dict[str, Any]], topics: tuple[str, ...]) -> DigestStory:
    arts = tuple(
        StoryArticle(100 * story_id + i, r["outlet"], r["url"], r["title"], r["lead"], r["at"])
        for i, r in enumerate(rows)
    )
    rep = arts[0]
    return DigestStory(
        story_id, rep.title, rep.url, rep.summary, rep.source, rep.published_at, topics, articles=arts
    )


def test_review_stories_folds_a_repeat_into_one_entry_that_names_both_outlets() -> None:
    first, second = ARTICLES["van_gogh"]
    boateng = _story(3, ARTICLES["boateng"], ("sport",))
    stories = [_story(1, [first], ("culture",)), _story(2, [second], ("culture", "economy")), boateng]

    out = review_stories(stories)

    assert len(out) == 2
    assert boateng in out  # untouched stories come back as they were
    merged = next(s for s in out if s.story_id != 3)
    assert merged.story_id == 1 and merged.merged_ids == (2,)
    assert merged.title == first["title"]
    assert [s.source for s in merged.other_sources] == [second["outlet"]]
    assert merged.topics == ("culture", "economy")
    assert merged.source_count == 2


def test_review_stories_gives_a_split_off_article_its_own_entry() -> None:
    friday, saturday = ARTICLES["ghouta_friday"][0], ARTICLES["ghouta_saturday"][0]
    story = _story(5, [friday, saturday], ("politics",))

    out = review_stories([story])

    assert sorted((s.story_id, s.title, s.merged_ids) for s in out) == [
        (5, friday["title"], ()),
        (5, saturday["title"], ()),
    ]
    assert all(s.other_sources == () for s in out)


def test_review_stories_reads_stories_loaded_without_their_articles() -> None:
    a, b = ARTICLES["van_gogh"]
    bare = [
        DigestStory(1, a["title"], a["url"], a["lead"], a["outlet"], a["at"], ("culture",)),
        DigestStory(2, b["title"], b["url"], b["lead"], b["outlet"], b["at"], ("culture",)),
    ]
    out = review_stories(bare)
    assert [(s.story_id, s.merged_ids) for s in out] == [(1, (2,))]


def test_policy_checks_its_values() -> None:
    with pytest.raises(ValueError):
        DayPassPolicy(threshold=0)
    with pytest.raises(ValueError):
        DayPassPolicy(min_shared=0)
    with pytest.raises(ValueError):
        DayPassPolicy(max_gap=timedelta(hours=-1))
