"""The report's plots, as PNG bytes (matplotlib, no display needed).

With many targets (9 = three firmware versions on three transports) the group labels
would run into each other: the figure widens with the groups, the labels slant, and
the legend sits beside the plot, not over its bars.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INCH_PER_GROUP = 1.1  # room for one group's label at a slant


def _pyplot() -> Any:
    """matplotlib on its file-only backend, imported on first use: importing it costs
    every ``brewbench`` command half a second, and only the nightly report draws."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bar_groups(title: str, ylabel: str, series: Mapping[str, Mapping[str, float]],
               log: bool = False) -> bytes:
    """Grouped bars as PNG: one group per outer key (e.g. target), one bar per inner key;
    ``log`` puts the values on a log axis, so 10 stays visible beside 500."""
    fig = bar_figure(title, ylabel, series, log)
    out = io.BytesIO()
    fig.savefig(out, format="png", bbox_inches="tight")
    _pyplot().close(fig)
    return out.getvalue()


def bar_figure(title: str, ylabel: str, series: Mapping[str, Mapping[str, float]],
               log: bool = False) -> Figure:
    """The figure ``bar_groups`` draws (the caller closes it)."""
    groups = list(series)
    kinds = sorted({kind for values in series.values() for kind in values})
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(8.0, INCH_PER_GROUP * len(groups) + 2), 3.8), dpi=100)
    width = 0.8 / max(len(kinds), 1)
    for offset, kind in enumerate(kinds):
        xs = [i + offset * width for i in range(len(groups))]
        ax.bar(xs, [series[g].get(kind, 0) for g in groups], width, label=kind)
    ax.set_xticks([i + width * (len(kinds) - 1) / 2 for i in range(len(groups))], groups)
    if len(groups) > 4:
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
    if log and any(v > 0 for values in series.values() for v in values.values()):
        ax.set_yscale("log")  # bars start at 1: a count of 0 draws nothing, as it should
        ax.set_ylim(bottom=0.8)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if kinds:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    drawn: Figure = fig
    return drawn


def trend_lines(title: str, ylabel: str, nights: Mapping[str, Mapping[str, float]]) -> bytes:
    """One line per inner key (e.g. category) across the outer keys in order (nights), on
    a log axis, as PNG."""
    plt = _pyplot()
    names = list(nights)
    kinds = sorted({kind for values in nights.values() for kind in values})
    fig, ax = plt.subplots(figsize=(max(8.0, 0.6 * len(names) + 3), 3.4), dpi=100)
    for kind in kinds:
        ax.plot(names, [nights[n].get(kind) or float("nan") for n in names], marker="o",
                label=kind)
    ax.set_yscale("log")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if len(names) > 6:
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
    if kinds:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


__all__ = ["bar_figure", "bar_groups", "trend_lines"]
