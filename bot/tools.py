"""Quality and debugging commands that read JSON Lines: classify, cluster, summarize."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Filled in with the Arabic understanding tools."""
