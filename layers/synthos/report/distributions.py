"""Reference vs dataset distributions of the most collapsed numeric columns, drawn from the
quantiles both profiles already carry (the report never reads the data files again).

One row per column, two strips per row on the column's own axis: a thin line from p01 to p99,
a box from p25 to p75, a tick at the median, and open dots at p0.1 and p99.9 when the tail
quantiles are known. A dataset strip shorter than the reference's is lost spread; a missing
stretch at either end is a lost tail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String

from synthos.report.charts import FONT, LABEL_W, SERIES_COLOURS, WIDTH, _legend, _short

STRIP_H = 8
ROW_GAP = 9


@dataclass(frozen=True)
class Strip:
    """Quantiles of one column in one file: p01, p25, p50, p75, p99 and optional tails."""

    p01: float
    p25: float
    p50: float
    p75: float
    p99: float
    p001: float | None = None
    p999: float | None = None

    @classmethod
    def from_profile(cls, quantiles: Mapping[str, float] | None,
                     tails: Mapping[str, float] | None) -> Strip | None:
        if not quantiles or any(k not in quantiles for k in ("p01", "p25", "p50", "p75", "p99")):
            return None
        tails = tails or {}
        return cls(quantiles["p01"], quantiles["p25"], quantiles["p50"], quantiles["p75"],
                   quantiles["p99"], tails.get("p001"), tails.get("p999"))

    def extent(self) -> tuple[float, float]:
        lo = min(v for v in (self.p001, self.p01) if v is not None)
        hi = max(v for v in (self.p999, self.p99) if v is not None)
        return lo, hi


def axis(strips: Sequence[Strip]) -> tuple[float, float]:
    """The common x range of a row: the union of the strips' extents, widened when degenerate."""
    lo = min(s.extent()[0] for s in strips)
    hi = max(s.extent()[1] for s in strips)
    if hi <= lo:
        pad = abs(lo) * 0.05 or 1.0
        return lo - pad, hi + pad
    return lo, hi


def distribution_chart(title: str, rows: Sequence[tuple[str, Strip, Strip]]) -> Drawing:
    """``rows``: (column name, reference strip, dataset strip), drawn top to bottom."""
    row_h = 2 * STRIP_H + ROW_GAP
    height = len(rows) * row_h + 44
    top = height - 20
    d = Drawing(WIDTH, height)
    d.add(String(0, height - 10, title, fontName="Helvetica-Bold", fontSize=9))
    plot_w = WIDTH - LABEL_W - 60
    for i, (name, ref, ds) in enumerate(rows):
        y0 = top - (i + 1) * row_h + ROW_GAP / 2
        lo, hi = axis((ref, ds))
        d.add(String(LABEL_W - 4, y0 + STRIP_H - 3, _short(name), fontName=FONT, fontSize=7,
                     textAnchor="end"))
        d.add(String(LABEL_W, y0 - 7, f"{lo:.4g}", fontName=FONT, fontSize=5.5))
        d.add(String(LABEL_W + plot_w, y0 - 7, f"{hi:.4g}", fontName=FONT, fontSize=5.5,
                     textAnchor="end"))
        for j, strip in enumerate((ref, ds)):
            _strip(d, strip, y0 + (1 - j) * STRIP_H, lo, hi, plot_w, j)
    _legend(d, ("dataset", "reference (real)"), top - len(rows) * row_h - 14)
    return d


def _strip(d: Drawing, s: Strip, y: float, lo: float, hi: float, plot_w: float, j: int) -> None:
    def x(v: float) -> float:
        return LABEL_W + plot_w * (v - lo) / (hi - lo)

    colour = SERIES_COLOURS[(j + 1) % 2]  # reference blue, dataset red (as in the bar charts)
    mid = y + STRIP_H / 2 - 0.5
    d.add(Line(x(s.p01), mid, x(s.p99), mid, strokeColor=colour, strokeWidth=0.8))
    d.add(Rect(x(s.p25), y + 0.5, max(x(s.p75) - x(s.p25), 0.8), STRIP_H - 2,
               fillColor=colour, strokeColor=None))
    d.add(Line(x(s.p50), y, x(s.p50), y + STRIP_H - 1, strokeColor=colour, strokeWidth=1.6))
    for tail in (s.p001, s.p999):
        if tail is not None:
            d.add(Circle(x(tail), mid, 1.6, fillColor=None, strokeColor=colour,
                         strokeWidth=0.6))
