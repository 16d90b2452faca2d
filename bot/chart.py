"""The /stats chart: a PNG drawn on the server with matplotlib's Agg backend.

matplotlib costs about half a second to import, so it is imported here, inside ``render_stats_chart``,
and this module is imported only by the /stats handler: CLI start-up and the bot's start stay fast.

Arabic labels: from 3.11 matplotlib lays text out with libraqm (bidi order and Arabic shaping), so labels
go in as plain logical-order strings; running them through arabic-reshaper and python-bidi as well
would reverse them a second time (checked by rendering both and looking at the PNGs). Glyphs come from
Noto Sans Arabic (SIL OFL), installed from PyPI (``fontpkg-noto-sans-arabic``) so a fresh machine needs
no system fonts; it also covers Latin letters and digits.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from storage.stats import WeekFigures

TOPICS_SHOWN = 7
"""Topics drawn by name; the rest are summed as «أخرى» so the legend stays readable."""

_FEED_STATES = (("ok", "تعمل", "#2e7d32"), ("failing", "تتعثر", "#f9a825"), ("disabled", "معطّلة", "#c62828"))
_KINDS = (("digest", "نشرات", "#1565c0"), ("alert", "تنبيهات عاجلة", "#d84315"))
_PALETTE = ("#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#ad1457", "#5d4037", "#9e9e9e")


@lru_cache(maxsize=1)
def font_path() -> Path:
    """The bundled Arabic font file (the variable Noto Sans Arabic; matplotlib uses its default instance)."""
    import fontpkg_noto_sans_arabic

    root: Path = fontpkg_noto_sans_arabic.ROOT
    files = sorted((root / "files").glob("*.ttf"))
    if not files:  # pragma: no cover - the package ships its font
        raise RuntimeError("fontpkg-noto-sans-arabic has no .ttf file")
    return files[0]


def render_stats_chart(
    figures: WeekFigures, topic_names: Mapping[str, str], *, title: str = "إحصاءات نشرة: آخر ٧ أيام"
) -> bytes:
    """Three panels as one PNG: articles per topic per day, feed health, messages sent per day."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font = FontProperties(fname=str(font_path()), size=11)
    small = FontProperties(fname=str(font_path()), size=9)
    big = FontProperties(fname=str(font_path()), size=15, weight="bold")
    labels = [f"{d.day}/{d.month}" for d in figures.days]
    x = list(range(len(labels)))

    fig = Figure(figsize=(10, 9), dpi=100)
    grid = fig.add_gridspec(2, 2, height_ratios=(1.25, 1), hspace=0.45, wspace=0.3)
    fig.suptitle(title, fontproperties=big)

    ax = fig.add_subplot(grid[0, :])
    series = _top_topics(figures.articles_by_topic, topic_names)
    bottom = [0] * len(x)
    for (name, counts), color in zip(series, _PALETTE, strict=False):
        ax.bar(x, counts, bottom=bottom, color=color, label=name, width=0.7)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    _axes(ax, "الأخبار حسب الموضوع في اليوم", labels, font, small)
    if series:
        # Under the axis, one row: a legend inside would sit on the tallest bars.
        ax.legend(
            prop=small, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncols=len(series),
            frameon=False, markerfirst=False,
        )  # fmt: skip

    ax = fig.add_subplot(grid[1, 0])
    names = [label for _, label, _ in _FEED_STATES]
    values = [figures.feeds.get(key, 0) for key, _, _ in _FEED_STATES]
    bars = ax.barh(names, values, color=[c for _, _, c in _FEED_STATES])
    ax.bar_label(bars, padding=3, fontproperties=small)
    ax.set_title("حالة المصادر", fontproperties=font)
    for tick in ax.get_yticklabels():
        tick.set_fontproperties(font)
    ax.set_xlim(0, max([*values, 1]) * 1.25)
    ax.spines[["top", "right"]].set_visible(False)

    ax = fig.add_subplot(grid[1, 1])
    bottom = [0] * len(x)
    for key, label, color in _KINDS:
        counts = figures.sent_by_kind.get(key, [0] * len(x))
        ax.bar(x, counts, bottom=bottom, color=color, label=label, width=0.7)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    _axes(ax, "الرسائل المرسلة في اليوم", labels, font, small)
    ax.legend(
        prop=small, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncols=len(_KINDS),
        frameon=False, markerfirst=False,
    )  # fmt: skip

    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _top_topics(
    by_topic: Mapping[str, Sequence[int]], names: Mapping[str, str]
) -> list[tuple[str, list[int]]]:
    ranked = sorted(by_topic.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    shown = [(names.get(k, k), list(v)) for k, v in ranked[:TOPICS_SHOWN]]
    rest = ranked[TOPICS_SHOWN:]
    if rest:
        shown.append(("أخرى", [sum(col) for col in zip(*(v for _, v in rest), strict=True)]))
    return shown


def _axes(ax: Any, title: str, labels: list[str], font: Any, small: Any) -> None:
    ax.set_title(title, fontproperties=font)
    ax.set_xticks(range(len(labels)), labels)
    for label in ax.get_xticklabels() + ax.get_yticklabels():
        label.set_fontproperties(small)
    ax.spines[["top", "right"]].set_visible(False)
    ax.yaxis.get_major_locator().set_params(integer=True)
