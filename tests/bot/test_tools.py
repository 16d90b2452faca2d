"""``nashra classify | cluster | summarize``: JSON Lines through ``main()`` with real stdin/stdout."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def records(name: str) -> list[dict[str, object]]:
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def run_tool(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    stdin: str,
    *args: str,
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--env-file", str(tmp_path / "absent.env"), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def as_jsonl(items: list[dict[str, object]]) -> str:
    return "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)


def test_classify_adds_topics_and_passes_other_keys_through(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    items = records("topics/articles.jsonl")[:12]
    inputs = [{"title": a["title"], "description": a["description"], "id": a["id"], "x": [1]} for a in items]
    code, out, _ = run_tool(
        monkeypatch, capsys, tmp_path, as_jsonl(inputs), "classify", "--keyword-topic", "عسكرية=عسكري،جيش"
    )
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [a["id"] for a in items]
    assert all(r["x"] == [1] for r in rows)
    builtin = {"politics", "economy", "sport", "technology", "culture"}
    assert all(r["topic"] in builtin and r["topic"] in r["topics"] for r in rows)
    correct = sum(r["topic"] == a["topic"] for r, a in zip(rows, items, strict=True))
    assert correct >= 9


def test_classify_scores_a_known_outlet_by_its_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """With ``url`` an article of an outlet the model was trained on gets that outlet's weights."""
    from news.classifier import TopicClassifier

    items = records("topics/articles.jsonl")
    inputs = [{"title": a["title"], "description": a["description"], "url": a["url"]} for a in items]
    code, out, _ = run_tool(monkeypatch, capsys, tmp_path, as_jsonl(inputs), "classify")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    model = TopicClassifier.load()
    by_outlet = [model.predict(a["title"], a["description"], url=a["url"]).topics for a in items]
    general = [model.predict(a["title"], a["description"]).topics for a in items]
    assert [tuple(r["topics"]) for r in rows] == by_outlet
    assert by_outlet != general  # the URL changed something, so the check above means something


def test_classify_keyword_topic_matches_arabic_forms(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = as_jsonl(
        [
            {"title": "مناورات للقوات العسكرية في الخليج"},
            {"title": "افتتاح معرض الكتاب في القاهرة"},
        ]
    )
    code, out, _ = run_tool(monkeypatch, capsys, tmp_path, lines, "classify", "--keyword-topic", "دفاع=عسكري")
    assert code == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert "دفاع" in first["topics"] and "دفاع" not in second["topics"]


def test_cluster_gives_one_story_to_the_same_event(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A day's articles in one run, as an operator would pipe them: the labeled pairs come out right.

    Every same-story pair shares a story id. The different-story pairs are all hard ones (two results
    of one match day, a decision and the other side's reply); the verifier favours precision but is
    not perfect on such pairs (benchmarks/quality_clusters.py), so one of them may merge, not more.
    """
    articles = sorted(
        records("cluster/articles.jsonl"), key=lambda a: datetime.fromisoformat(str(a["published"]))
    )
    pairs = records("cluster/pairs.jsonl")
    inputs = [
        {
            "id": a["id"],
            "title": a["title"],
            "text": a["text"],
            "published": a["published"],
            "source": a["outlet"],
        }
        for a in articles
    ]
    code, out, _ = run_tool(monkeypatch, capsys, tmp_path, as_jsonl(inputs), "cluster")
    assert code == 0
    story = {row["id"]: row["story"] for row in map(json.loads, out.splitlines())}
    assert len(story) == len(articles)
    for p in pairs:
        if p["same_story"]:
            assert story[p["a"]] == story[p["b"]], p
    different = [p for p in pairs if not p["same_story"]]
    merged = [p for p in different if story[p["a"]] == story[p["b"]]]
    assert len(different) >= 4 and len(merged) <= 1, merged
    # no merges beyond the labeled pairs (each article sits in at most one of them)
    assert len(set(story.values())) == len(articles) - sum(1 for p in pairs if p["same_story"]) - len(merged)


def test_cluster_reads_rss_dates_and_keeps_to_the_window(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An RSS pubDate (RFC 822) in ``published`` is a time: ten days apart, one event is two stories."""
    by_id = {a["id"]: a for a in records("cluster/articles.jsonl")}
    same = next(p for p in records("cluster/pairs.jsonl") if p["same_story"] and not p["note"])
    a, b = by_id[same["a"]], by_id[same["b"]]
    first = datetime.fromisoformat(a["published"])
    lines = []
    for later in (timedelta(hours=2), timedelta(days=10)):
        pair = [(a, first), (b, first + later)]
        lines += [{"title": x["title"], "text": x["text"], "published": format_datetime(t)} for x, t in pair]
    code, out, _ = run_tool(monkeypatch, capsys, tmp_path, as_jsonl(lines), "cluster")
    assert code == 0
    stories = [json.loads(line)["story"] for line in out.splitlines()]
    assert stories[0] == stories[1]  # two hours apart: one story
    assert stories[3] != stories[2]  # ten days apart: outside the window


def test_summarize_stays_within_budget(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    items = records("summary/articles.jsonl")
    inputs = [{"title": a["title"], "text": a["text"]} for a in items]
    code, out, _ = run_tool(monkeypatch, capsys, tmp_path, as_jsonl(inputs), "summarize", "--budget", "200")
    assert code == 0
    summaries = [json.loads(line)["summary"] for line in out.splitlines()]
    assert len(summaries) == len(items)
    assert all(0 < len(s) <= 200 for s in summaries)


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ('{"title": "خبر"}\n{"title": \n', "line 2"),
        ('{"title": "خبر"}\n[1, 2]\n', "line 2: expected a JSON object"),
        ('{"title": 5}\n', "line 1: field 'title'"),
        ('{"title": "خبر", "published": "yesterday"}\n', "line 1: 'published'"),
    ],
)
@pytest.mark.parametrize("tool", ["classify", "cluster", "summarize"])
def test_malformed_line_names_its_number_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tool: str,
    bad: str,
    words: str,
) -> None:
    code, out, err = run_tool(monkeypatch, capsys, tmp_path, bad, tool)
    assert code == 1
    assert out == ""
    assert words in err


def _many_articles(n: int) -> tuple[list[tuple[str, str, str]], list[str | None]]:
    """``n`` distinct articles from the topic fixtures, with known outlets' URLs and none."""
    base = records("topics/articles.jsonl")
    urls = ["https://www.bbc.com/arabic/x", "https://arabic.cnn.com/y", None, "https://example.org/z"]
    texts, links = [], []
    for i in range(n):
        a = base[i % len(base)]
        texts.append((f"{a['title']} {i}", str(a["description"]), str(a["text"])[: 200 + i % 300]))
        links.append(urls[i % len(urls)])
    return texts, links


@pytest.mark.parametrize("cores", [1, 2])
def test_classify_on_two_cores_answers_as_one_batch(monkeypatch: pytest.MonkeyPatch, cores: int) -> None:
    from bot import tools
    from news.classifier import TopicClassifier

    model = TopicClassifier.load()
    texts, urls = _many_articles(tools.PARALLEL_MIN_ARTICLES + 25)
    expected = TopicClassifier.from_bytes(model.to_bytes()).predict_many(texts, urls)  # a fresh memo
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(cores)), raising=False)
    assert tools.predict_on_all_cores(model, texts, urls) == expected
    few = tools.PARALLEL_MIN_ARTICLES - 1
    assert tools.predict_on_all_cores(model, texts[:few], urls[:few]) == expected[:few]


def test_the_two_processes_get_halves_of_the_text_not_of_the_count() -> None:
    from bot.tools import _half_the_work

    short, long = ("t", "d", "x" * 400), ("t", "d", "x" * 2_900)
    # The long articles come last: a cut by count would leave the second process three times the text.
    texts = [short] * 30 + [long] * 10
    cut = _half_the_work(texts, cap=3_000)
    weigh = lambda part: sum(min(len(f), 3_000) for a in part for f in a)  # noqa: E731
    assert cut > len(texts) // 2
    assert abs(weigh(texts[:cut]) - weigh(texts[cut:])) <= 3_000  # within one article
    # Each side keeps at least one article; a field past the cap weighs no more than the cap.
    assert _half_the_work([short, long], cap=3_000) == 1
    assert _half_the_work([("t", "d", "x" * 50_000), short, short, short], cap=500) == 2  # 1 uncapped


def test_classify_whole_command_on_two_cores(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bot import tools

    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    texts, urls = _many_articles(tools.PARALLEL_MIN_ARTICLES + 1)
    items = [
        {"title": t, "description": d, "text": x, "url": u, "n": i}
        for i, ((t, d, x), u) in enumerate(zip(texts, urls, strict=True))
    ]
    code, out, _ = run_tool(monkeypatch, capsys, tmp_path, as_jsonl(items), "classify")
    assert code == 0
    got = [json.loads(line) for line in out.splitlines()]
    assert [g["n"] for g in got] == list(range(len(items)))
    monkeypatch.setattr(tools, "PARALLEL_MIN_ARTICLES", 10**9)
    code, alone, _ = run_tool(monkeypatch, capsys, tmp_path, as_jsonl(items), "classify")
    assert code == 0 and alone == out
