"""Write tests/fixtures/summary/descriptions.jsonl: real descriptions that end badly, from the ANT corpus.

Usage: ``.venv/bin/python scripts/make_description_fixtures.py [--data ../shared/data] [--out DIR]``
(``DIR`` defaults to tests/fixtures/summary).

Most feeds carry only a description, and outlets cut it mid-sentence or glue sentences without a space.
The summary tests need such descriptions with the article's body beside them (the body shows whether the
description's last word was cut in half), and the test suite never reads the corpus, so this script
copies a few: for each kind below, the first articles of ``train.jsonl`` (file order) that show it. The
output is deterministic. Fields: ``id``, ``kind``, ``title``, ``description`` (the RSS description as
published), ``body`` (the start of the article body, enough to run past the description's end).

Kinds: ``glued`` (a full stop with no space after it, then a cut tail), ``half_word`` (cut inside a
word of the body), ``cut`` (one unfinished sentence, cut at a word), ``dots`` (ends on «...» or «…»),
``quote`` (a quotation holding a full stop), ``unpunctuated`` (a whole sentence without its full stop).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from news.article import clean_text  # noqa: E402  (the script runs from a checkout, not an install)

PER_KIND = {"glued": 4, "half_word": 3, "cut": 3, "dots": 2, "quote": 2, "unpunctuated": 2}
_SPACES = re.compile(r"\s+")
_GLUED = re.compile(r"[\u0621-\u064a]\.[\u0621-\u064a](?<!\.ن)")
_FINISHED = re.compile(r"[.!?؟][\"'»”’)\]]*$")
_QUOTED_STOP = re.compile(r'"[^"]{10,}\.\s[^"]{10,}"')


def _flat(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _next_char(description: str, body: str) -> str | None:
    """The body's character right after the description, or None when the body does not hold it."""
    at = body.find(description)
    return None if at < 0 else body[at + len(description) : at + len(description) + 1]


def _kinds() -> dict[str, Callable[[str, str], bool]]:
    def unfinished(d: str) -> bool:
        return not _FINISHED.search(d) and not d.endswith(("…", ".."))

    return {
        "glued": lambda d, b: bool(_GLUED.search(d)) and unfinished(d),
        "half_word": lambda d, b: d[-1].isalnum() and (_next_char(d, b) or " ").isalnum(),
        "cut": lambda d, b: unfinished(d) and "." not in d and _next_char(d, b) == " ",
        "dots": lambda d, b: d.endswith(("...", "…")),
        "quote": lambda d, b: bool(_QUOTED_STOP.search(d)),
        "unpunctuated": lambda d, b: unfinished(d) and "." not in d and _next_char(d, b) == ".",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "summary")
    args = ap.parse_args()
    kinds = _kinds()
    picked: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for line in (args.data / "ant" / "train.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        description = _flat(clean_text(r["abstract"]))
        body = _flat(clean_text(r["text"]))
        for kind, test in kinds.items():
            if len(picked[kind]) < PER_KIND[kind] and test(description, body):
                at = max(body.find(description), 0)
                record = {
                    "id": r["id"],
                    "kind": kind,
                    "title": r["title"],
                    "description": r["abstract"],
                    "body": body[: at + len(description) + 200],
                }
                picked[kind].append(record)
                break
    out = args.out / "descriptions.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for kind in kinds:
            for record in picked[kind]:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {sum(map(len, picked.values()))} descriptions to {out}")


if __name__ == "__main__":
    main()
