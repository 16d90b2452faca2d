"""Every Arabic-understanding figure in one run: topics, story clustering, digest days, scaling, summaries.

Usage: .venv/bin/python -m benchmarks.quality [--quick]
Each section is its own script too (benchmarks/quality_topics.py, quality_clusters.py, quality_days.py,
cluster_scale.py, quality_summary.py, summary_endings.py); this runs them in turn with their defaults,
reading ../shared/data.
"""

from __future__ import annotations

import argparse
import time

from benchmarks import (
    cluster_scale,
    quality_clusters,
    quality_days,
    quality_summary,
    quality_topics,
    summary_endings,
)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the 200k-article scaling run")
    args = ap.parse_args(argv)
    sections = [
        ("topic classifier", lambda: quality_topics.main([])),
        ("story clustering", lambda: quality_clusters.main([])),
        ("a day's digest: repeats and mixed entries", lambda: quality_days.main([])),
        ("summaries", lambda: quality_summary.main([])),
        ("summary endings", lambda: summary_endings.main([])),
    ]
    if not args.quick:
        sections.append(("clustering at scale", lambda: cluster_scale.main([])))
    for title, run in sections:
        print(f"\n===== {title} " + "=" * (60 - len(title)))
        started = time.perf_counter()
        run()
        print(f"({title}: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
