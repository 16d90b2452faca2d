"""``nashra classify | cluster | summarize``: JSON Lines in, JSON Lines out, one object per input line.

Operators debug with these, and quality is measured with them. Input objects may carry ``title``,
``description``, ``text``, ``url``, ``published`` and ``source``; every other key passes through untouched.
``published`` is ISO 8601 or the RFC 822 date of an RSS ``pubDate`` (a time without a zone is UTC).
The whole input is read and validated before anything is written, so a malformed line stops the command
with its line number and no partial output.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import IO, TYPE_CHECKING, Any

from bot.cli import SETTINGS_NONE  # these commands read no setting: no pydantic to import

if TYPE_CHECKING:
    from news.classifier import TopicClassifier, TopicPrediction

Record = dict[str, Any]
_TEXT_FIELDS = ("title", "description", "text", "url", "source", "published")


class InputError(Exception):
    """A malformed input line; the message names the line."""


def read_records(stream: IO[str]) -> list[Record]:
    records: list[Record] = []
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise InputError(f"line {number}: expected a JSON object, got {type(obj).__name__}")
        for key in _TEXT_FIELDS:
            if key in obj and obj[key] is not None and not isinstance(obj[key], str):
                raise InputError(f"line {number}: field {key!r} must be a string")
        if key_time := obj.get("published"):
            try:
                _parse_time(key_time)
            except ValueError:
                raise InputError(
                    f"line {number}: 'published' is not an ISO 8601 or RFC 822 time: {key_time!r}"
                ) from None
        obj["__line"] = number
        records.append(obj)
    return records


def _parse_time(value: str) -> datetime:
    """ISO 8601 first; then RFC 822 as RSS writes it («Thu, 15 Mar 2018 11:37:48 +0400»)."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            raise ValueError(value) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _field(r: Record, key: str) -> str:
    value = r.get(key)
    return value if isinstance(value, str) else ""


def _write(records: Iterator[Record], out: IO[str]) -> None:
    for r in records:
        r.pop("__line", None)
        out.write(json.dumps(r, ensure_ascii=False) + "\n")
    out.flush()


# --- classify ---------------------------------------------------------------------------------------


def classify(records: list[Record], keyword_specs: list[str]) -> Iterator[Record]:
    from news.classifier import TopicClassifier

    matchers = []
    for spec in keyword_specs:
        from news.topics import KeywordMatcher, parse_keyword_topic  # only for keyword topics: ~30 ms

        name, sep, words = spec.partition("=")
        if not sep or not name.strip() or not words.strip():
            raise InputError(f"--keyword-topic {spec!r}: expected NAME=كلمة،كلمة")
        topic = parse_keyword_topic(f"{name.strip()}: {words}")
        matchers.append((name.strip(), KeywordMatcher(topic)))
    classifier = TopicClassifier.load()
    # One batch: the classifier does its matrix work once per outlet instead of once per article.
    texts = [(_field(r, "title"), _field(r, "description"), _field(r, "text")) for r in records]
    predictions = predict_on_all_cores(classifier, texts, [_field(r, "url") or None for r in records])
    for r, (title, desc, text), prediction in zip(records, texts, predictions, strict=True):
        r["topic"] = prediction.best
        r["topics"] = list(prediction.topics)
        if matchers:  # reading an article's terms for keyword topics costs as much as classifying it
            from news.topics import ArticleTerms

            terms = ArticleTerms.of(title, desc, text)
            r["topics"].extend(name for name, m in matchers if m.matches(terms))
        yield r


# Below this many articles a second process costs more (fork, pickling the answers) than it saves.
PARALLEL_MIN_ARTICLES = 400


def _half_the_work(texts: list[tuple[str, str, str]], cap: int) -> int:
    """Where to cut ``texts`` so that each side holds about half of the text the classifier reads (each
    field up to ``cap`` characters, plus a little per article): halves by count were a third apart
    on a file whose longer articles came last, and the process with the longer half set the time."""
    weights = [sum(min(len(field), cap) for field in fields) + 100 for fields in texts]
    goal, running = sum(weights) / 2, 0
    for i, weight in enumerate(weights):
        running += weight
        if running >= goal:
            return max(1, min(i + 1, len(texts) - 1))
    return len(texts) // 2


def predict_on_all_cores(
    classifier: TopicClassifier, texts: list[tuple[str, str, str]], urls: list[str | None]
) -> list[TopicPrediction]:
    """``classifier.predict_many(texts, urls)``, the second half (by the text to read,
    ``_half_the_work``) in a forked process when two cores are free to this process: reading new text
    is Python work the GIL keeps on one core.

    Each article's prediction depends on that article alone, so the halves give the same answers as
    one batch (a test holds them equal). The child shares the loaded model copy-on-write and sends
    back its predictions; without ``fork`` (or one core, or a small input) everything runs here.
    """
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if cores < 2 or len(texts) < PARALLEL_MIN_ARTICLES or not hasattr(os, "fork"):
        return classifier.predict_many(texts, urls)
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    half = _half_the_work(texts, classifier.config.body_chars)
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        send.send(classifier.predict_many(texts[half:], urls[half:]))
        send.close()

    process = ctx.Process(target=child, daemon=True)
    process.start()
    send.close()
    try:
        first = classifier.predict_many(texts[:half], urls[:half])
        second: list[TopicPrediction] = receive.recv()
    finally:
        receive.close()
        process.join()
    if process.exitcode != 0 or len(second) != len(texts) - half:
        raise RuntimeError(f"the second classifying process failed (exit code {process.exitcode})")
    return first + second


# --- cluster ----------------------------------------------------------------------------------------


def cluster(records: list[Record], window_hours: float) -> Iterator[Record]:
    """Assign story ids in input order, as ingestion would see the articles arrive."""
    from news.cluster import StoryIndex, signature

    index = StoryIndex(window=timedelta(hours=window_hours))
    base = datetime(2000, 1, 1, tzinfo=UTC)
    next_story = 1
    for position, r in enumerate(records):
        at = _parse_time(r["published"]) if r.get("published") else base + timedelta(seconds=position)
        sig = signature(_field(r, "title"), _field(r, "text") or _field(r, "description"))
        match = index.match(sig, at, source=_field(r, "source"))
        if match is None:
            story = next_story
            next_story += 1
        else:
            story = match.story_id
        index.add(position + 1, story, sig, at)
        r["story"] = story
        yield r


# --- summarize --------------------------------------------------------------------------------------


def summarize_records(records: list[Record], budget: int) -> Iterator[Record]:
    from news.summary import summarize

    for r in records:
        r["summary"] = summarize(
            _field(r, "title"), _field(r, "text") or _field(r, "description"), budget=budget
        )
        yield r


# --- wiring -----------------------------------------------------------------------------------------


def _run(make: Callable[[list[Record], argparse.Namespace], Iterator[Record]]) -> Callable[..., int]:
    def handler(_settings: object, args: argparse.Namespace) -> int:
        try:
            records = read_records(sys.stdin)
            results = list(make(records, args))  # everything computed before the first byte is written
        except InputError as exc:
            print(f"nashra {args.command}: {exc}", file=sys.stderr)
            return 1
        _write(iter(results), sys.stdout)
        return 0

    return handler


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "classify",
        help="JSONL on stdin → adds 'topic' and 'topics' (a known outlet's 'url' picks its weights)",
    )
    p.add_argument(
        "--keyword-topic",
        action="append",
        default=[],
        metavar="NAME=كلمة،كلمة",
        help="an extra keyword topic (repeatable); '-كلمة' excludes",
    )
    p.set_defaults(func=_run(lambda recs, a: classify(recs, a.keyword_topic)), settings=SETTINGS_NONE)

    p = sub.add_parser("cluster", help="JSONL on stdin → adds 'story' (same story, same id)")
    p.add_argument(
        "--window-hours", type=float, default=48.0, help="how far apart one story's articles may be"
    )
    p.set_defaults(func=_run(lambda recs, a: cluster(recs, a.window_hours)), settings=SETTINGS_NONE)

    p = sub.add_parser("summarize", help="JSONL on stdin → adds 'summary'")
    p.add_argument("--budget", type=int, default=300, help="maximum characters of a summary")
    p.set_defaults(func=_run(lambda recs, a: summarize_records(recs, a.budget)), settings=SETTINGS_NONE)
