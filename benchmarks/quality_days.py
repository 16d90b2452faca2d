"""How a day's digest reads: the share of entries that repeat a story, and of merged entries that mix two.

Data: every article of twenty days of the ANT corpus (``../shared/data/ant/train.jsonl``), each labeled by
a reader with the story it tells (``benchmarks/data/story_days_*.jsonl``, see the README there): five dev
days on which the day pass was built and tuned (``dev``), five test days labeled in a separate pass
afterwards and only ever reported (``test``), and five more of each side labeled later, each batch in its
own pass before any figure was run on it (``dev2``, ``test2``). Each batch is printed, then each side's
sum (``dev*``, ``test*``). ``story_days_*_reader2.jsonl`` are a second reader's labels of the first
batches, for ``--agreement``.

For each day, its articles are fed in publication order through ``news.cluster.StoryIndex`` as
ingestion does (corpus document frequencies as the index's prior, as in ``quality_clusters``); each
resulting story is a digest entry. Rows "+ day pass" then run ``news.daypass.review`` over the day's
entries, as the digest builder does. Figures per split:

* repeats — entries whose story (the label most of its articles carry; ties: its earliest article's)
  was already shown by another entry of the day, over all entries: the reader meets the story twice;
* mixed — entries of two or more articles holding articles of more than one story, over all entries of
  two or more articles: the entry names a source that tells something else.

``--pairs`` checks the answer levers and the merge on the labeled **dev** pairs of ``story_pairs.jsonl``
instead (how often each tells a different-story pair apart, and a same-story one); ``--speed`` times the
pass.

    .venv/bin/python -m benchmarks.quality_days [--data ../shared/data/ant/train.jsonl] [--quick] [--errors]
    .venv/bin/python -m benchmarks.quality_days --agreement test test_reader2
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from news import cluster, daypass  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ant" / "train.jsonl"
LABELS = REPO / "benchmarks" / "data"
WINDOW = timedelta(hours=48)
TARGET_REPEATS = 0.03
TARGET_MIXED = 0.05


@dataclass(frozen=True)
class Doc:
    id: str
    day: str
    outlet: str
    at: datetime
    title: str
    lead: str
    story: str  # the reader's label
    sig: cluster.StorySignature


Entries = list[list[Doc]]


def load(data: Path, splits: Sequence[str]) -> tuple[dict[str, list[Doc]], dict[int, int], int]:
    """(split -> labeled docs, corpus document frequencies of word hashes, corpus size)."""
    labels: dict[str, tuple[str, str, str]] = {}
    for split in splits:
        with (LABELS / f"story_days_{split}.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                labels[row["id"]] = (split, row["day"], row["story"])
    docs: dict[str, list[Doc]] = {s: [] for s in splits}
    df: collections.Counter[int] = collections.Counter()
    seen: set[str] = set()
    with data.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["id"] in seen:
                continue
            seen.add(row["id"])
            sig = cluster.signature(row["title"], row["text"])
            df.update(sig.words)
            if row["id"] in labels:
                split, day, story = labels[row["id"]]
                at = parsedate_to_datetime(row["time"])
                docs[split].append(
                    Doc(row["id"], day, row["outlet"], at, row["title"], _lead(row), story, sig)
                )
    missing = set(labels) - {d.id for ds in docs.values() for d in ds}
    if missing:
        raise SystemExit(f"{len(missing)} labeled articles are not in {data}")
    return docs, dict(df), len(seen)


def _lead(row: dict[str, str]) -> str:
    """What the digest builder has of an article besides its title: the feed description's start."""
    return " ".join((row["abstract"] or row["text"]).split())[:300]


def streaming(day: list[Doc], df: dict[int, int], n: int) -> Entries:
    """The day's entries as ingestion would leave them (one StoryIndex per day)."""
    index = cluster.StoryIndex(WINDOW, prior_df=df, prior_docs=n)
    stories: dict[int, list[Doc]] = {}
    for number, doc in enumerate(sorted(day, key=lambda d: (d.at, d.id))):
        found = index.match(doc.sig, doc.at, source=doc.outlet)
        story = found.story_id if found else number
        stories.setdefault(story, []).append(doc)
        index.add(number, story, doc.sig, doc.at, source=doc.outlet)
    return list(stories.values())


def day_pass(policy: daypass.DayPassPolicy) -> Callable[[Entries], Entries]:
    """``news.daypass.review`` over a day's entries, as the digest builder runs it."""

    def run(entries: Entries) -> Entries:
        by_key: dict[int, Doc] = {}
        members: list[daypass.Member] = []
        for group, entry in enumerate(entries):
            for doc in entry:
                key = len(by_key)
                by_key[key] = doc
                members.append(daypass.Member(key, group, doc.title, doc.lead, doc.at))
        shown = daypass.review(members, policy)
        return [[by_key[k] for k in keys] for keys in shown]

    return run


# The merge threshold the rows before the reply conflicts were tuned at: below it, replies got folded in.
BEFORE = {"threshold": 0.4}
# The levers of the third round, off in the rows before it.
ROUND2 = {"statements": False, "speakers": False, "fuzzy": False}

# Each lever added in turn, so every step's two shares are printed side by side.
STEPS: list[tuple[str, Callable[[Entries], Entries] | None]] = [
    ("ingestion only", None),
    ("+ split on conflicts", day_pass(daypass.DayPassPolicy(**ROUND2, merge=False, replies=False))),
    (
        "+ merge, plain stems",
        day_pass(daypass.DayPassPolicy(**BEFORE, **ROUND2, skeletons=False, replies=False)),
    ),
    ("+ merge, skeletons", day_pass(daypass.DayPassPolicy(**BEFORE, **ROUND2, latin=False, replies=False))),
    ("+ Latin as skeletons", day_pass(daypass.DayPassPolicy(**BEFORE, **ROUND2, replies=False))),
    ("+ reply conflicts", day_pass(daypass.DayPassPolicy(**BEFORE, **ROUND2))),
    ("+ threshold 0.34", day_pass(daypass.DayPassPolicy(**ROUND2))),
    (
        "+ one-edit name variants",
        day_pass(daypass.DayPassPolicy(statements=False, speakers=False)),
    ),
    ("+ statement verbs", day_pass(daypass.DayPassPolicy(speakers=False))),
    ("+ speaker colons", day_pass(daypass.DayPassPolicy())),
]


def entry_story(entry: list[Doc]) -> str:
    counts = collections.Counter(d.story for d in entry)
    top = max(counts.values())
    return min((d for d in entry if counts[d.story] == top), key=lambda d: (d.at, d.id)).story


@dataclass
class Shares:
    entries: int = 0
    repeats: int = 0
    merged: int = 0
    mixed: int = 0

    def add(self, entries: Entries) -> None:
        shown = collections.Counter(entry_story(e) for e in entries)
        self.entries += len(entries)
        self.repeats += sum(c - 1 for c in shown.values())
        merged = [e for e in entries if len(e) > 1]
        self.merged += len(merged)
        self.mixed += sum(1 for e in merged if len({d.story for d in e}) > 1)

    def row(self) -> str:
        rep = self.repeats / self.entries if self.entries else 0.0
        mix = self.mixed / self.merged if self.merged else 0.0
        return f"{self.entries:7} {self.repeats:7} {rep:7.1%}   {self.merged:6} {self.mixed:5} {mix:7.1%}"


def evaluate(
    docs: list[Doc], df: dict[int, int], n: int, regroup: Callable[[Entries], Entries] | None
) -> tuple[Shares, list[Entries]]:
    shares = Shares()
    days: dict[str, list[Doc]] = collections.defaultdict(list)
    for d in docs:
        days[d.day].append(d)
    out: list[Entries] = []
    for day in sorted(days):
        entries = streaming(days[day], df, n)
        if regroup is not None:
            entries = regroup(entries)
        shares.add(entries)
        out.append(entries)
    return shares, out


def show_errors(all_entries: list[Entries]) -> None:
    for entries in all_entries:
        shown: dict[str, list[list[Doc]]] = collections.defaultdict(list)
        for e in entries:
            shown[entry_story(e)].append(e)
        for story, es in shown.items():
            if len(es) > 1:
                print(f"  REPEAT {story}")
                for e in es:
                    print("     | " + " / ".join(f"{d.outlet[:3]} {d.title}" for d in e))
        for e in entries:
            if len(e) > 1 and len({d.story for d in e}) > 1:
                print(
                    "  MIXED " + " / ".join(f"{d.outlet[:3]} {d.title} [{d.story.split('/')[1]}]" for d in e)
                )


def speed(data: Path, sizes: Sequence[int]) -> None:
    """Time of ``review_stories`` over a digest pool of n stories (corpus articles, one story each, all
    within one day: the worst case for candidate pairs), beside ranking and indexing the same pool."""
    from news.digest import StoryIndex
    from news.models import DigestStory, StoryArticle

    rows: list[dict[str, str]] = []
    with data.open(encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if len(rows) >= max(sizes):
                break
    day = datetime(2018, 5, 9, tzinfo=UTC)
    for n in sizes:
        stories = []
        for i, row in enumerate(rows[:n]):
            at = day + timedelta(seconds=17 * i)
            art = StoryArticle(i, row["outlet"], row["url"], row["title"], _lead(row), at)
            stories.append(
                DigestStory(
                    i,
                    row["title"],
                    row["url"],
                    _lead(row),
                    row["outlet"],
                    at,
                    (row["category"],),
                    articles=(art,),
                )
            )
        started = time.perf_counter()
        out = daypass.review_stories(stories)
        took = time.perf_counter() - started
        started = time.perf_counter()
        StoryIndex(stories)
        index = time.perf_counter() - started
        per_story = 1e3 * took / n
        print(f"day pass over {n:5} stories: {took:6.2f} s ({per_story:.2f} ms a story, {len(out)} entries)")
        print(f"  ranking and indexing the same pool (for scale): {index:.3f} s")


def _pair_review(
    a: tuple[str, str, datetime], b: tuple[str, str, datetime], policy: daypass.DayPassPolicy
) -> list[tuple[int, ...]]:
    """The day pass over two one-article entries: one entry back means it merged them."""
    members = [daypass.Member(0, 0, a[0], a[1], a[2]), daypass.Member(1, 1, b[0], b[1], b[2])]
    return daypass.review(members, policy)


def pairs(data: Path, show: bool) -> None:
    """How often each answer lever tells apart the labeled **dev** pairs of ``story_pairs.jsonl``: it
    should fire on different-story pairs (a reply, another party's remarks) and hardly on same-story
    ones. Test pairs are not read."""
    from benchmarks.quality_clusters import split_of

    labeled = [json.loads(line) for line in (LABELS / "story_pairs.jsonl").read_text("utf-8").splitlines()]
    wanted = {p[k] for p in labeled for k in ("a", "b")}
    rows: dict[str, tuple[str, str, datetime]] = {}
    with data.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["id"] in wanted and row["id"] not in rows:
                rows[row["id"]] = (row["title"], _lead(row), parsedate_to_datetime(row["time"]))
    dev = [
        p for p in labeled if split_of(min(rows[p["a"]][2], rows[p["b"]][2]).strftime("%Y-%m-%d")) == "dev"
    ]
    off = {"statements": False, "speakers": False}
    levers = [
        ("replies (round 2)", daypass.DayPassPolicy(**off)),
        ("+ statement verbs", daypass.DayPassPolicy(speakers=False)),
        ("+ speaker colons", daypass.DayPassPolicy()),
    ]
    same = sum(p["same_story"] for p in dev)
    print(f"dev pairs: {same} same story, {len(dev) - same} different")
    for name, policy in [
        ("merge, round 2", daypass.DayPassPolicy(**ROUND2)),
        ("+ one-edit variants", daypass.DayPassPolicy(statements=False, speakers=False)),
        ("+ answer levers", daypass.DayPassPolicy()),
    ]:
        joined = [p for p in dev if len(_pair_review(rows[p["a"]], rows[p["b"]], policy)) == 1]
        hit_same = sum(p["same_story"] for p in joined)
        print(f"  {name:20} merges {hit_same:3} same-story, {len(joined) - hit_same:3} different pairs")
    for name, policy in levers:
        fired = [p for p in dev if daypass.answers_apart(rows[p["a"]][:2], rows[p["b"]][:2], policy)]
        hit_same = [p for p in fired if p["same_story"]]
        print(f"  {name:20} fires on {len(fired) - len(hit_same):3} different, {len(hit_same):3} same-story")
        if show:
            for p in hit_same:
                print(f"     same: {rows[p['a']][0]}  |  {rows[p['b']][0]}")


# --- a learned pair model (tried, not kept: fourth round in benchmarks/data/README.md) ----------------


def _pair_features(day: list[Doc]) -> tuple[dict[tuple[int, int], list[float]], list[daypass._Evidence]]:
    """17 features of every article pair of a day: the pass's IDF cosine, shared and shared-distinctive
    words, title cosine, the top shared IDF, the pass's conflict, and the ingestion verifier's eleven."""
    policy, prior = daypass.DayPassPolicy(), daypass.shipped_prior()
    ev = [daypass._evidence(d.title, d.lead, d.at, policy) for d in day]
    idf = daypass._Idf(ev, prior.df, prior.docs)
    vec = [daypass._vector(e, idf) for e in ev]
    titles = []
    for e in ev:
        weights = {k: idf(k) for k in e.title}
        titles.append((weights, math.sqrt(sum(w * w for w in weights.values())) or 1.0))
    sigs = [cluster.signature(d.title, d.lead) for d in day]
    out: dict[tuple[int, int], list[float]] = {}
    for i, j in itertools.combinations(range(len(day)), 2):
        (va, na, ra), (vb, nb, rb) = vec[i], vec[j]
        shared = [k for k in va if k in vb]
        cos = sum(va[k] * vb[k] for k in shared) / (na * nb) if na and nb else 0.0
        (ta, tna), (tb, tnb) = titles[i], titles[j]
        title_cos = sum(w * tb[k] for k, w in ta.items() if k in tb) / (tna * tnb)
        verifier = cluster.features(
            sigs[i], sigs[j], gap=abs(day[i].at - day[j].at), same_source=day[i].outlet == day[j].outlet
        )
        out[i, j] = [
            cos,
            min(len(shared), 8) / 8,
            min(len(ra & rb), 4) / 4,
            title_cos,
            max((idf(k) for k in shared), default=0.0) / 10,
            1.0 if daypass.conflict(ev[i], ev[j]) else 0.0,
            *verifier,
        ]
    return out, ev


def _link(day: list[Doc], p: dict[tuple[int, int], float], ev: list[daypass._Evidence], at: float) -> Entries:
    """Average-link clustering of single articles at ``at``; a union that holds a conflict is refused."""
    groups = {i: [i] for i in range(len(day))}
    pooled = {i: ev[i] for i in groups}
    while True:
        best: tuple[float, int, int] | None = None
        for a, b in itertools.combinations(sorted(groups), 2):
            score = statistics.fmean(p[min(x, y), max(x, y)] for x in groups[a] for y in groups[b])
            if (
                score >= at
                and (best is None or score > best[0])
                and not daypass.conflict(pooled[a], pooled[b])
            ):
                best = (score, a, b)
        if best is None:
            return [[day[i] for i in g] for g in groups.values()]
        _, a, b = best
        merged = daypass._Evidence()
        merged.add(pooled[a])
        merged.add(pooled.pop(b))
        pooled[a] = merged
        groups[a].extend(groups.pop(b))


def learned(docs: dict[str, list[Doc]], thresholds: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7)) -> None:
    """Logistic regression over ``_pair_features``, scored leave-one-day-out over the dev days only (the
    day scored was never trained on), beside the shipped pass on the same days."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    by_day: dict[str, list[Doc]] = collections.defaultdict(list)
    for split, split_docs in docs.items():
        if split.rstrip("0123456789") == "dev":
            for d in split_docs:
                by_day[d.day].append(d)
    days = {day: sorted(ds, key=lambda d: (d.at, d.id)) for day, ds in sorted(by_day.items())}
    features = {day: _pair_features(ds) for day, ds in days.items()}
    shares = {t: Shares() for t in thresholds}
    for held in days:
        rows = [
            (f, days[day][i].story == days[day][j].story)
            for day in days
            if day != held
            for (i, j), f in features[day][0].items()
        ]
        model = LogisticRegression(C=1.0, max_iter=2000).fit(
            np.array([f for f, _ in rows]), np.array([y for _, y in rows])
        )
        pairs, ev = features[held]
        keys = list(pairs)
        probs = dict(zip(keys, model.predict_proba(np.array([pairs[k] for k in keys]))[:, 1], strict=True))
        for t in thresholds:
            shares[t].add(_link(days[held], probs, ev, t))
    pairs_total = sum(len(f[0]) for f in features.values())
    print(f"learned pair model, leave one dev day out ({len(days)} days, {pairs_total} pairs), average link:")
    for t, sh in shares.items():
        print(f"  at {t:.1f}  {sh.row()}")


def agreement(first: str, second: str) -> None:
    """Two readers' labels of the same days, the second read as a clustering scored by the first.

    What a reader would count as repeats and mixed entries in a digest grouped by another careful
    reader: how far apart two people's calls are under the same rules, i.e. how precisely the labels
    can measure a clustering at all. Both ways round, since neither reader is the truth.
    """

    def read(split: str) -> dict[str, tuple[str, str, str]]:
        rows = (LABELS / f"story_days_{split}.jsonl").read_text(encoding="utf-8").splitlines()
        return {r["id"]: (r["day"], r["story"], r["url"]) for r in map(json.loads, rows)}

    a, b = read(first), read(second)
    if set(a) != set(b):
        raise SystemExit(f"{first} and {second} label different articles")
    ways = ((a, b, f"{second} scored by {first}"), (b, a, f"{first} scored by {second}"))
    for truth, grouping, name in ways:
        shares = Shares()
        days: dict[str, dict[str, list[Doc]]] = collections.defaultdict(dict)
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        for n, (id_, (day, story, url)) in enumerate(sorted(truth.items())):
            doc = Doc(id_, day, "", epoch + timedelta(seconds=n), url, "", story, cluster.signature("", ""))
            days[day].setdefault(grouping[id_][1], []).append(doc)
        for day in sorted(days):
            shares.add(list(days[day].values()))
        print(f"{'':6} {name:24} {shares.row()}")


def default_splits() -> list[str]:
    """Every labeled batch on disk: ``dev``/``test`` (the first five days each), ``dev2``/``test2``…,
    not second readers' labels of them."""
    found = [p.stem.removeprefix("story_days_") for p in LABELS.glob("story_days_*.jsonl")]
    found = [s for s in found if "_" not in s]  # dev_reader2: a second reader's labels (--agreement)
    return sorted(found, key=lambda s: (s.rstrip("0123456789") != "dev", s))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--splits", nargs="+", default=None, help="label batches (default: every one on disk)")
    ap.add_argument("--quick", action="store_true", help="only ingestion and the shipped pass")
    ap.add_argument("--errors", action="store_true", help="print every repeat and mixed entry (dev only)")
    ap.add_argument("--pairs", action="store_true", help="the answer levers on the labeled dev pairs")
    ap.add_argument("--speed", type=int, nargs="*", help="time the pass over pools of these sizes instead")
    ap.add_argument(
        "--agreement", nargs=2, metavar=("FIRST", "SECOND"), help="two readers' labels of the same days"
    )
    ap.add_argument(
        "--learned", action="store_true", help="the learned pair model (tried, not kept), dev only"
    )
    args = ap.parse_args(argv)
    if args.agreement:
        print(f"{'':6} {'readers':24} entries repeats   share   merged mixed   share")
        agreement(*args.agreement)
        return
    if args.pairs:
        pairs(args.data, args.errors)
        return
    if args.speed is not None:
        speed(args.data, args.speed or [1000, 5000])
        return
    splits: list[str] = args.splits or default_splits()
    if args.learned:
        dev = [s for s in splits if s.rstrip("0123456789") == "dev"]
        learned(load(args.data, dev)[0])
        return
    docs, df, n = load(args.data, splits)
    steps = [STEPS[0], STEPS[-1]] if args.quick else STEPS
    print(f"{'split':6} {'step':24} entries repeats   share   merged mixed   share")
    totals: dict[tuple[str, str], Shares] = {}
    for split in splits:
        stories = len({d.story for d in docs[split]})
        side = split.rstrip("0123456789")
        for name, regroup in steps:
            started = time.perf_counter()
            shares, entries = evaluate(docs[split], df, n, regroup)
            took = time.perf_counter() - started
            print(f"{split:6} {name:24} {shares.row()}   ({took:.2f} s)")
            if args.errors and side == "dev":
                show_errors(entries)
            total = totals.setdefault((side, name), Shares())
            for field in ("entries", "repeats", "merged", "mixed"):
                setattr(total, field, getattr(total, field) + getattr(shares, field))
        days = len({d.day for d in docs[split]})
        print(f"{split:6} {'(labels)':24} {len(docs[split]):7} articles, {stories} stories, {days} days")
    sides = {s.rstrip("0123456789") for s in splits}
    if len(splits) > len(sides):
        for (side, name), total in totals.items():
            print(f"{side + '*':6} {name:24} {total.row()}   (every {side} batch)")
    print(f"targets: repeats <= {TARGET_REPEATS:.0%} of entries, mixed <= {TARGET_MIXED:.0%} of merged ones")


if __name__ == "__main__":
    main()
