"""The nightly report's plots stay readable with many targets: no label runs into another,
and the legend does not cover the bars."""

import itertools

import matplotlib.pyplot as plt
import pytest

from brewbench.bench.nightly.plots import bar_figure, bar_groups

CATEGORIES = ("product", "payment", "time", "location", "identity", "device", "voice", "unknown")


def targets(count: int) -> dict[str, dict[str, float]]:
    names = [f"{fw} emu-{transport}" for fw, transport in
             itertools.product(("1.0", "2.0", "2.1"), ("serial", "usb", "ble"))][:count]
    return {name: {c: float(i + n) for n, c in enumerate(CATEGORIES)} for i, name in enumerate(names)}


@pytest.mark.parametrize("count", [1, 3, 9])
def test_group_labels_and_legend_do_not_overlap(count: int) -> None:
    fig = bar_figure("Emissions per category", "emissions", targets(count))
    try:
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg has one
        [ax] = fig.axes
        labels = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
        assert len(labels) == count
        for a, b in itertools.combinations(labels, 2):
            assert not a.overlaps(b), (a, b)
        legend = ax.get_legend()
        assert legend is not None
        assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    finally:
        plt.close(fig)


def test_png_holds_every_label() -> None:
    png = bar_groups("Mean action latency", "ms", targets(9))
    width = int.from_bytes(png[16:20], "big")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and width > 9 * 90  # room for nine slanted labels
