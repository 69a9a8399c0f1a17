"""The report's plots, as PNG bytes (matplotlib, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def bar_groups(title: str, ylabel: str, series: Mapping[str, Mapping[str, float]]) -> bytes:
    """Grouped bars: one group per outer key (e.g. firmware), one bar per inner key."""
    groups = list(series)
    kinds = sorted({kind for values in series.values() for kind in values})
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
    width = 0.8 / max(len(kinds), 1)
    for offset, kind in enumerate(kinds):
        xs = [i + offset * width for i in range(len(groups))]
        ax.bar(xs, [series[g].get(kind, 0) for g in groups], width, label=kind)
    ax.set_xticks([i + width * (len(kinds) - 1) / 2 for i in range(len(groups))], groups)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if kinds:
        ax.legend(fontsize=7, ncols=min(len(kinds), 4))
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()
