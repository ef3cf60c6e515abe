"""Small horizontal bar charts drawn with ``reportlab.graphics``, readable at a glance.

Each chart is a pure function: labels and values in, a ``Drawing`` out. A dashed line marks the
value that real data would show (for ratios, 1.0), so a bar falling short of it is what was lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors

WIDTH = 460
LABEL_W = 170
BAR_H = 9
GAP = 5
SERIES_COLOURS = (colors.HexColor("#c0392b"), colors.HexColor("#2980b9"))  # dataset, reference
FONT = "Helvetica"


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Sequence[float]],
              series_names: Sequence[str], *, reference: float = 1.0,
              reference_label: str = "real data = 1.0") -> Drawing:
    """Grouped horizontal bars: one group per label, one bar per series.

    ``series[j][i]`` is the value of series ``j`` for ``labels[i]``; values are clipped at the
    right edge (the printed number stays exact). The x axis runs from 0 to
    max(1.25 * reference, largest value), capped at 3 * reference.
    """
    n, k = len(labels), len(series)
    group_h = k * BAR_H + GAP
    plot_h = n * group_h
    height = plot_h + 48
    top = height - 20
    d = Drawing(WIDTH, height)
    d.add(String(0, height - 10, title, fontName="Helvetica-Bold", fontSize=9))
    values = [v for s in series for v in s]
    x_max = min(max([1.25 * reference, *values]), 3 * reference)
    plot_w = WIDTH - LABEL_W - 50

    def x_of(v: float) -> float:
        return LABEL_W + plot_w * min(max(v, 0.0), x_max) / x_max

    for i, label in enumerate(labels):
        y0 = top - (i + 1) * group_h + GAP / 2
        d.add(String(LABEL_W - 4, y0 + (k * BAR_H) / 2 - 3, _short(label), fontName=FONT,
                     fontSize=7, textAnchor="end"))
        for j in range(k):
            v = series[j][i]
            y = y0 + (k - 1 - j) * BAR_H
            d.add(Rect(LABEL_W, y, x_of(v) - LABEL_W, BAR_H - 1,
                       fillColor=SERIES_COLOURS[j % 2], strokeColor=None))
            d.add(String(x_of(v) + 3, y + 1, f"{v:.2f}", fontName=FONT, fontSize=6.5))
    xr = x_of(reference)
    d.add(Line(xr, top - plot_h, xr, top + 2, strokeColor=colors.black,
               strokeDashArray=[2, 2], strokeWidth=0.7))
    d.add(String(xr, top - plot_h - 10, reference_label, fontName=FONT, fontSize=6.5,
                 textAnchor="middle"))
    _legend(d, series_names, top - plot_h - 22)
    return d


def _legend(d: Drawing, names: Sequence[str], y: float) -> None:
    x = float(LABEL_W)
    for j, name in enumerate(names):
        d.add(Rect(x, y, 8, 7, fillColor=SERIES_COLOURS[j % 2], strokeColor=None))
        d.add(String(x + 11, y + 1, name, fontName=FONT, fontSize=7))
        x += 14 + 4.2 * len(name)


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
