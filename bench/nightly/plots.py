"""The report's plots, as PNG bytes (matplotlib, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["bar_figure", "bar_groups"]

SLANT_FROM = 4  # more groups than this: labels slanted, or long target names overlap


def bar_groups(title: str, ylabel: str, series: Mapping[str, Mapping[str, float]]) -> bytes:
    """Grouped bars: one group per outer key (e.g. firmware), one bar per inner key."""
    fig = bar_figure(title, ylabel, series)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def bar_figure(title: str, ylabel: str, series: Mapping[str, Mapping[str, float]]) -> Figure:
    """The figure of ``bar_groups``: it widens with the groups and slants their labels,
    so nine targets' names stay apart; the legend sits beside the bars, not on them."""
    groups = list(series)
    kinds = sorted({kind for values in series.values() for kind in values})
    fig, ax = plt.subplots(figsize=(max(8.0, 2.5 + 1.0 * len(groups)), 4.2), dpi=100)
    width = 0.8 / max(len(kinds), 1)
    for offset, kind in enumerate(kinds):
        xs = [i + offset * width for i in range(len(groups))]
        ax.bar(xs, [series[g].get(kind, 0) for g in groups], width, label=kind)
    slanted = len(groups) > SLANT_FROM
    ax.set_xticks([i + width * (len(kinds) - 1) / 2 for i in range(len(groups))], groups,
                  rotation=30 if slanted else 0, ha="right" if slanted else "center",
                  fontsize=8)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if kinds:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
