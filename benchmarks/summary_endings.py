"""How summaries of description-only items end: at a sentence end, at a whole word with «…», or on a fragment.

Most feeds carry only a description, and outlets cut descriptions mid-sentence (Al Arabiya's stop at
200 characters). This summarizes every ANT ``train.jsonl`` description the way ingestion does for an
item without a body (``clean_text`` of the description, then ``summarize``), and classifies each
summary's ending:

- sentence: ends with . ! ? ؟ ؛ (closing quotes allowed), not with a «..» pause;
- word + «…»: ends with «…» after a word that is whole in the article's body;
- fragment: anything else (no final mark, a trailing «..», or «…» after a word cut in half).

It also counts summaries whose last word is half a word of the body (the description was cut
inside it), summaries that end on a word no sentence ends on («من», «التي») and summaries that
show a full stop glued to the next word («الموت.ووقعت»). With ``--against REF`` the same figures for
``news/summary.py`` as of that git revision are printed beside the working tree's, in one run.

    .venv/bin/python -m benchmarks.summary_endings [--against eeea79d] [--data PATH] [--budget 300]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from news import summary  # noqa: E402
from news.article import clean_text  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ant" / "train.jsonl"
Summarizer = Callable[..., str]

_SPACES = re.compile(r"\s+")
_FINISHED = re.compile(r"(?:(?<![.…])\.|[!?؟؛])[\"'»”’)\]]*$")
_GLUED = re.compile(r"[\u0621-\u064a]\.[\u0621-\u064a]")
_DOMAIN = re.compile(r"\.(?:نت|كوم)(?![^\W_])")
ROWS = ("sentence", "word + «…»", "fragment")


def _flat(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _half_word(kept: str, body: str) -> bool:
    """True when ``kept`` ends inside a word of ``body`` (it is found there followed by a letter)."""
    at = body.find(kept)
    while at >= 0:
        following = body[at + len(kept) : at + len(kept) + 1]
        if not following.isalnum():
            return False
        at = body.find(kept, at + 1)
    return body.find(kept) >= 0


def classify(text: str, body: str) -> tuple[str, bool]:
    """(ending row, last word is half a word of ``body``) for one non-empty summary."""
    kept = text.rstrip("…").rstrip(" .")
    half = _half_word(kept, body)
    if _FINISHED.search(text):
        return "sentence", half
    if text.endswith("…") and not text.endswith("..…") and not half:
        return "word + «…»", half
    return "fragment", half


def load_before(ref: str) -> Summarizer:
    """``summarize`` from ``news/summary.py`` as of git revision ``ref`` (run beside the working tree's)."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{ref}:news/summary.py"], check=True, capture_output=True
    ).stdout
    with tempfile.NamedTemporaryFile("wb", suffix=".py", delete=False) as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("summary_before", f.name)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    Path(f.name).unlink()
    fn: Summarizer = module.summarize
    return fn


def measure(rows: list[dict[str, Any]], summarize: Summarizer, budget: int) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    by_outlet: Counter[tuple[str, str]] = Counter()
    for r in rows:
        text = summarize(r["title"], r["description"], budget=budget)
        by_outlet[(r["outlet"], "all")] += 1
        if not text:
            counts["empty"] += 1
            continue
        row, half = classify(text, r["body"])
        counts[row] += 1
        by_outlet[(r["outlet"], row)] += 1
        counts["half word"] += half
        counts["dangling"] += text.rstrip("…").rpartition(" ")[2] in summary._DANGLING
        counts["glued stop"] += bool(_GLUED.search(_DOMAIN.sub("", text)))
        counts["over budget"] += len(text) > budget
        counts["chars"] += len(text)
    return {"counts": counts, "by_outlet": by_outlet}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--budget", type=int, default=300)
    ap.add_argument("--against", metavar="REF", help="git revision whose news/summary.py to print beside")
    args = ap.parse_args(argv)
    rows = []
    for line in args.data.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            rows.append(
                {
                    "title": r["title"],
                    "outlet": r["outlet"],
                    "description": clean_text(r["abstract"]),  # what ingestion stores as the summary
                    "body": _flat(clean_text(r["text"])),
                }
            )
    systems: dict[str, Summarizer] = {}
    if args.against:
        systems[f"before ({args.against})"] = load_before(args.against)
    systems["news.summary"] = summary.summarize
    results = {name: measure(rows, fn, args.budget) for name, fn in systems.items()}
    n = len(rows)
    print(f"{n} description-only items (ANT train), budget {args.budget} characters\n")
    print(f"{'ending':22}" + "".join(f"{name:>22}" for name in systems))
    for row in (*ROWS, "empty", "half word", "dangling", "glued stop", "over budget"):
        cells = "".join(f"{r['counts'][row] / n:>21.1%} " for r in results.values())
        print(f"{row:22}{cells}")
    print(f"{'mean chars':22}" + "".join(f"{r['counts']['chars'] / n:>21.1f} " for r in results.values()))
    print("\nfragment share by outlet")
    outlets = sorted({o for o, _ in next(iter(results.values()))["by_outlet"]})
    for outlet in outlets:
        cells = "".join(
            f"{r['by_outlet'][(outlet, 'fragment')] / r['by_outlet'][(outlet, 'all')]:>21.1%} "
            for r in results.values()
        )
        print(f"{outlet:22}{cells}")


if __name__ == "__main__":
    main()
