"""Story clustering on real articles (tests/fixtures/cluster, from the ANT corpus; see ATTRIBUTION.md)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from news import cluster
from news.cluster import StoryIndex, StoryMember, StorySignature, choose_representative, signature

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "cluster"
WINDOW = timedelta(hours=48)


def _load() -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    articles = {}
    for line in (FIXTURES / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row["at"] = datetime.fromisoformat(row["published"]).astimezone(UTC)
        row["sig"] = signature(row["title"], row["text"])
        articles[row["id"]] = row
    pairs = [json.loads(line) for line in (FIXTURES / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    return articles, pairs


ARTICLES, PAIRS = _load()
SAME = [p for p in PAIRS if p["same_story"]]
DIFFERENT = [p for p in PAIRS if not p["same_story"]]


def _pair_id(p: dict[str, Any]) -> str:
    return f"{p['a']}~{p['b']}"


def _indexed(*ids: str, **kwargs: Any) -> StoryIndex:
    index = StoryIndex(WINDOW, **kwargs)
    for number, article_id in enumerate(ids):
        a = ARTICLES[article_id]
        index.add(number, 100 + number, a["sig"], a["at"], source=a["outlet"])
    return index


def test_fixture_pairs_cover_both_labels() -> None:
    assert len(SAME) >= 5 and len(DIFFERENT) >= 4


@pytest.mark.parametrize("pair", SAME, ids=_pair_id)
def test_same_event_from_another_outlet_joins_the_story(pair: dict[str, Any]) -> None:
    a, b = ARTICLES[pair["a"]], ARTICLES[pair["b"]]
    index = _indexed(pair["a"])
    found = index.match(b["sig"], b["at"], source=b["outlet"])
    assert found is not None
    assert found.story_id == 100 and found.article_id == 0
    assert cluster.DEFAULT_THRESHOLD <= found.similarity <= 1.0
    assert a["at"] <= b["at"]


@pytest.mark.parametrize("pair", DIFFERENT, ids=_pair_id)
def test_different_events_of_one_topic_stay_apart(pair: dict[str, Any]) -> None:
    b = ARTICLES[pair["b"]]
    index = _indexed(pair["a"])
    assert index.match(b["sig"], b["at"], source=b["outlet"]) is None


def test_signature_round_trips_through_bytes() -> None:
    for article in ARTICLES.values():
        sig: StorySignature = article["sig"]
        blob = sig.to_bytes()
        assert len(blob) < 1200
        again = StorySignature.from_bytes(blob)
        assert again == sig
        assert again.to_bytes() == blob


def test_signature_bytes_keep_their_stored_layout() -> None:
    """Blobs already in ``articles.minhash`` must read back the same: after the header, every field's
    hashes as little-endian 32-bit words, minhash first, whatever the machine's byte order."""
    import struct

    sig: StorySignature = next(iter(ARTICLES.values()))["sig"]
    blob = sig.to_bytes()
    parts = (sig.minhash, sig.title, sig.first, sig.words, sig.bigrams, sig.numbers, sig.title_numbers)
    head = StorySignature._HEADER.size
    words = struct.unpack_from(f"<{sum(map(len, parts))}I", blob, head)
    assert list(words) == [h for part in parts for h in part]
    assert len(sig.minhash) == cluster.NUM_BANDS and list(sig.words) == sorted(set(sig.words))


def test_signature_of_one_text_is_stable() -> None:
    article = next(iter(ARTICLES.values()))
    assert signature(article["title"], article["text"]) == article["sig"]


def test_from_bytes_refuses_other_versions_and_garbage() -> None:
    blob = bytearray(next(iter(ARTICLES.values()))["sig"].to_bytes())
    with pytest.raises(ValueError, match="version"):
        StorySignature.from_bytes(bytes([cluster.SIGNATURE_VERSION + 1]) + bytes(blob[1:]))
    other_stemmer = (int.from_bytes(blob[1:3], "little") + 1) & 0xFFFF
    with pytest.raises(ValueError, match="stemmer"):
        StorySignature.from_bytes(bytes(blob[:1]) + other_stemmer.to_bytes(2, "little") + bytes(blob[3:]))
    with pytest.raises(ValueError):
        StorySignature.from_bytes(bytes(blob[:-4]))
    with pytest.raises(ValueError):
        StorySignature.from_bytes(b"\x01")


def test_dateline_does_not_make_two_stories_look_alike() -> None:
    one = signature(
        "فوز كبير لفريق الهلال", "دبي، الإمارات العربية المتحدة (CNN) -- فاز الهلال على النصر بثلاثة أهداف."
    )
    two = signature(
        "انخفاض أسعار النفط", "دبي، الإمارات العربية المتحدة (CNN) -- تراجعت أسعار خام برنت اليوم."
    )
    assert not set(one.words) & set(two.words)


def test_text_without_content_words_never_matches() -> None:
    empty = signature("", "في من على")
    assert empty.empty
    some = next(iter(ARTICLES.values()))
    index = _indexed(some["id"])
    assert index.match(empty, some["at"]) is None
    assert cluster.similarity(empty, some["sig"], gap=timedelta(0), same_source=False) == 0.0


def test_article_outside_the_window_is_not_matched() -> None:
    pair = SAME[0]
    b = ARTICLES[pair["b"]]
    index = _indexed(pair["a"])
    assert index.match(b["sig"], b["at"] + WINDOW + timedelta(days=1), source=b["outlet"]) is None


def test_evict_forgets_articles_older_than_the_window() -> None:
    ids = list(ARTICLES)
    index = _indexed(*ids)
    assert len(index) == len(ids)
    newest = max(a["at"] for a in ARTICLES.values())
    assert index.evict(newest - WINDOW) == sum(1 for a in ARTICLES.values() if a["at"] < newest - WINDOW)
    dropped = index.evict(newest + WINDOW + timedelta(seconds=1))
    assert len(index) == 0 and dropped > 0
    pair = SAME[0]
    b = ARTICLES[pair["b"]]
    assert index.match(b["sig"], b["at"]) is None


def test_re_adding_an_article_moves_it_to_the_new_story() -> None:
    pair = SAME[0]
    a, b = ARTICLES[pair["a"]], ARTICLES[pair["b"]]
    index = StoryIndex(WINDOW)
    index.add(1, 10, a["sig"], a["at"])
    index.add(1, 20, a["sig"], a["at"])
    assert len(index) == 1 and index.story_of(1) == 20
    found = index.match(b["sig"], b["at"])
    assert found is not None and found.story_id == 20


def test_a_story_is_not_joined_through_a_member_unlike_its_founder() -> None:
    """Chaining guard: matching a later member is not enough when the story began elsewhere."""
    pair = SAME[0]
    a, b = ARTICLES[pair["a"]], ARTICLES[pair["b"]]
    unrelated = ARTICLES[DIFFERENT[-1]["a"]]
    index = StoryIndex(WINDOW)
    index.add(1, 7, unrelated["sig"], a["at"] - timedelta(hours=1))
    index.add(2, 7, a["sig"], a["at"])  # forced into the unrelated story
    assert index.match(b["sig"], b["at"]) is None
    index.add(2, 8, a["sig"], a["at"])  # now founding its own story
    found = index.match(b["sig"], b["at"])
    assert found is not None and found.story_id == 8


def test_bucket_cap_keeps_the_most_recent_copies() -> None:
    article = ARTICLES[SAME[0]["a"]]
    index = StoryIndex(WINDOW, bucket_cap=1)
    index.add(1, 1, article["sig"], article["at"])
    index.add(2, 2, article["sig"], article["at"] + timedelta(minutes=5))
    found = index.match(article["sig"], article["at"] + timedelta(minutes=10))
    assert found is not None and found.article_id == 2


def test_naive_datetimes_are_refused() -> None:
    article = next(iter(ARTICLES.values()))
    index = StoryIndex(WINDOW)
    with pytest.raises(ValueError, match="naive"):
        index.add(1, 1, article["sig"], datetime(2018, 5, 1))
    with pytest.raises(ValueError, match="naive"):
        index.match(article["sig"], datetime(2018, 5, 1))


@pytest.mark.parametrize(
    "kwargs", [{"threshold": 0.0}, {"threshold": 1.5}, {"bucket_cap": 0}, {"max_verify": 0}]
)
def test_bad_index_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        StoryIndex(WINDOW, **kwargs)
    with pytest.raises(ValueError):
        StoryIndex(timedelta(0))


def test_representative_is_the_earliest_substantive_telling() -> None:
    t0 = datetime(2018, 5, 14, 8, tzinfo=UTC)
    stub = StoryMember(1, "CNN", t0, text_length=120)
    full = StoryMember(2, "BBC", t0 + timedelta(minutes=30), text_length=2400)
    later = StoryMember(3, "France24", t0 + timedelta(hours=2), text_length=2000)
    assert choose_representative([later, stub, full]) == full
    assert choose_representative([later, replace(stub, text_length=1900), full]).article_id == 1
    with pytest.raises(ValueError):
        choose_representative([])


def test_idf_weighs_words_by_their_frequency_in_the_window() -> None:
    empty = StoryIndex(WINDOW)
    assert empty.idf(12345) == 1.0  # a fresh install weighs every word alike
    index = _indexed(*ARTICLES)
    counts: dict[int, int] = {}
    for article in ARTICLES.values():
        for h in article["sig"].words:
            counts[h] = counts.get(h, 0) + 1
    common = max(counts, key=lambda h: counts[h])
    rare = min(counts, key=lambda h: counts[h])
    assert counts[common] > counts[rare]
    assert 1.0 <= index.idf(common) < index.idf(rare) < index.idf(0xDEADBEEF)
    assert index.idf(rare) == pytest.approx(cluster.smooth_idf(counts[rare], len(ARTICLES)))
    primed = StoryIndex(WINDOW, prior_df={rare: 1000}, prior_docs=1000)
    assert primed.idf(rare) < index.idf(rare)
    index.evict(max(a["at"] for a in ARTICLES.values()) + WINDOW + timedelta(seconds=1))
    assert index.idf(common) == 1.0  # evicted articles no longer count


def test_renaming_a_provisional_story_keeps_its_members_and_founder() -> None:
    """Ingestion indexes a batch's new stories under negative ids and renames them once stored."""
    pair = SAME[0]
    a, b = ARTICLES[pair["a"]], ARTICLES[pair["b"]]
    unrelated = ARTICLES[DIFFERENT[-1]["a"]]
    index = StoryIndex(WINDOW)
    index.add(1, -1, a["sig"], a["at"])
    index.add(2, -2, unrelated["sig"], a["at"])
    index.rename_story(-1, 41)
    assert index.story_of(1) == 41 and index.story_of(2) == -2
    found = index.match(b["sig"], b["at"])
    assert found is not None and (found.story_id, found.article_id) == (41, 1)
    with pytest.raises(ValueError, match="already indexed"):
        index.rename_story(-2, 41)
    index.evict(a["at"] + WINDOW + timedelta(seconds=1))  # the renamed story's bookkeeping empties too
    assert len(index) == 0 and index.match(b["sig"], b["at"]) is None


def test_match_scores_exactly_as_similarity_with_the_windows_idf() -> None:
    """The per-lookup IDF memo changes no score: each candidate's similarity is the plain function's."""
    index = _indexed(*ARTICLES)
    for article in ARTICLES.values():
        found = index.match(article["sig"], article["at"], source="elsewhere")
        if found is None:
            continue
        entry_id = list(ARTICLES)[found.article_id]
        other = ARTICLES[entry_id]
        expected = cluster.similarity(
            article["sig"], other["sig"], gap=article["at"] - other["at"], same_source=False, idf=index.idf
        )
        assert found.similarity == expected


def test_the_index_scores_a_pair_exactly_as_similarity_does() -> None:
    """``StoryIndex`` scores from word sets built once per article; the floats must be ``similarity``'s,
    bit for bit, or a pair at the threshold could flip."""
    rows = list(ARTICLES.values())
    index = StoryIndex(WINDOW)
    for n, row in enumerate(rows):
        index.add(n, n, row["sig"], row["at"], source=row["outlet"])
    idf = index.idf
    scores = []
    for a in rows:  # every ordered pair of the fixture articles
        own = cluster._WordSets.of(a["sig"])
        for j, b in enumerate(rows):
            if abs(a["at"] - b["at"]) > WINDOW:  # never compared by the index
                continue
            expected = cluster.similarity(
                a["sig"], b["sig"], gap=a["at"] - b["at"], same_source=a["outlet"] == b["outlet"], idf=idf
            )
            assert index._score(a["sig"], own, a["at"], a["outlet"], index._entries[j], idf) == expected
            scores.append(expected)
    assert len(scores) > 40 and any(0.1 < s < 0.9 for s in scores)


def test_the_lookup_memo_weighs_each_word_as_the_index_does() -> None:
    """``match`` reads word weights through a per-lookup memo that computes them itself; they must be
    ``StoryIndex.idf``'s exactly, prior counts included."""
    rows = list(ARTICLES.values())
    words = {h for row in rows for h in row["sig"].words}
    index = StoryIndex(WINDOW, prior_df={h: 3 for h in list(words)[::2]}, prior_docs=40)
    for n, row in enumerate(rows[: len(rows) // 2]):
        index.add(n, n, row["sig"], row["at"], source=row["outlet"])
    memo = cluster._IdfMemo(index)
    assert len(words) > 100
    assert all(memo[h] == index.idf(h) for h in words)
    assert len({memo[h] for h in words}) > 3  # the weights do differ from word to word
