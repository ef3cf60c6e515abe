"""The validation report as a PDF: ``render_report(result, out)``.

Sections, in order: verdict (collapse risk, level, confidence and its 90% range, drift), the
dataset fingerprint (sha256, rows, columns, engine version, seed), what collapsed (columns with
findings), charts (variance ratio and tail occupancy of the most collapsed columns, embedding
directions), categories lost, the signals against their real-vs-real baselines, and the
recommendations with the risk each would leave. Numbers are printed as in the CLI summary
(risk with one decimal). The output is byte-for-byte deterministic for a given result
(reportlab ``invariant=1``: no timestamp, no random document id).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from synthos.report.charts import bar_chart
from synthos.report.distributions import Strip, distribution_chart
from synthos.result import ColumnDetail, DatasetProfile, ValidationResult

MAX_CHART_COLUMNS = 10
MAX_SIGNALS = 20
MAX_COLUMNS = 15
LEVEL_COLOURS = {"low": "#1e8449", "medium": "#b7950b", "high": "#ca6f1e", "critical": "#c0392b"}

_STYLES = getSampleStyleSheet()
BODY = _STYLES["BodyText"]
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10)
MONO = ParagraphStyle("mono", parent=SMALL, fontName="Courier", fontSize=7.5)
H1, H2 = _STYLES["Title"], _STYLES["Heading2"]
VERDICT = ParagraphStyle("verdict", parent=BODY, fontSize=14, leading=18)


def render_report(result: ValidationResult, out: Path | BinaryIO) -> None:
    """Write the PDF report of ``result`` to a path or a binary file object."""
    target = str(out) if isinstance(out, Path) else out
    doc = SimpleDocTemplate(target, pagesize=A4, invariant=1, title="Synthos validation report",
                            author=f"synthos {result.engine.version}",
                            leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=16 * mm)
    doc.build(report_story(result))


def report_story(result: ValidationResult) -> list[Flowable]:
    """The report's flowables, section by section (for embedding in other documents)."""
    story: list[Flowable] = [Paragraph("Synthos validation report", H1)]
    story += _verdict(result)
    story += _fingerprint(result)
    story += _collapsed_columns(result.columns)
    story += _charts(result.columns)
    story += _distributions(result)
    story += _categories_lost(result.columns)
    story += _signals(result)
    story += _recommendations(result)
    if result.warnings:
        story.append(Paragraph("Warnings", H2))
        story += [Paragraph(_esc(w), SMALL) for w in result.warnings]
    return story


def format_risk(value: float) -> str:
    """A risk as the report prints it (one decimal), shared with the tests."""
    return f"{value:.1f}"


def _verdict(r: ValidationResult) -> list[Flowable]:
    colour = LEVEL_COLOURS[r.risk_level]
    lo, hi = r.confidence.interval
    text = (f"Collapse risk <b>{format_risk(r.collapse_risk)}</b> / 100, level "
            f"<font color='{colour}'><b>{r.risk_level}</b></font>")
    lines: list[Flowable] = [Paragraph(text, VERDICT), Paragraph(
        f"Confidence {r.confidence.level}; 90% range {format_risk(lo)} - {format_risk(hi)} "
        f"over {r.confidence.replicates} real-vs-real replicates "
        f"({r.confidence.dataset_rows_used:,} dataset rows vs "
        f"{r.confidence.reference_rows_used:,} reference rows compared).", BODY), Paragraph(
        f"Drift {format_risk(r.drift_score)} / 100 ({r.drift_level}): location shift and "
        "variance inflation, reported apart because drift is not collapse.", BODY)]
    lines += [Paragraph(f"- {_esc(reason)}", SMALL) for reason in r.confidence.reasons]
    if r.reference is None:
        lines.append(Paragraph("No reference data: only duplication and clumping were judged.",
                               SMALL))
    return lines


def _fingerprint(r: ValidationResult) -> list[Flowable]:
    rows = _profile_rows("dataset", r.dataset)
    if r.reference is not None:
        rows += _profile_rows("reference", r.reference)
    e = r.engine
    rows.append(["engine", Paragraph(
        f"{e.name} {e.version}, backend {e.backend}, seed {e.seed}, sample rows "
        f"{e.sample_rows:,}, replicates {e.replicates}", SMALL)])
    return [Paragraph("Fingerprint", H2), _table(rows, [28 * mm, 146 * mm], header=False)]


def _profile_rows(role: str, p: DatasetProfile) -> list[list[object]]:
    return [
        [f"{role} sha256", Paragraph(p.sha256, MONO)],
        [f"{role} file", Paragraph(f"{_esc(p.path)} ({p.format}, {p.size_bytes:,} bytes)",
                                   SMALL)],
        [f"{role} shape", f"rows {p.rows:,}, columns {p.columns}, "
                          f"exact duplicate rows {p.exact_duplicate_rows:,}"],
    ]


def _collapsed_columns(columns: list[ColumnDetail]) -> list[Flowable]:
    flagged = [c for c in columns if c.findings][:MAX_COLUMNS]
    story: list[Flowable] = [Paragraph("What collapsed", H2)]
    if not flagged:
        return [*story, Paragraph("No column reached the medium evidence threshold (2.83).",
                                  BODY)]
    story.append(Paragraph(f"Most collapsed column: <b>{_esc(flagged[0].name)}</b>.", BODY))
    rows: list[list[object]] = [["column", "kind", "findings", "evidence"]]
    rows += [[Paragraph(_esc(c.name), SMALL), c.kind, Paragraph(", ".join(c.findings), SMALL),
              f"{c.evidence:.1f}"] for c in flagged]
    return [*story, _table(rows, [55 * mm, 22 * mm, 75 * mm, 20 * mm])]


def _charts(columns: list[ColumnDetail]) -> list[Flowable]:
    story: list[Flowable] = []
    spread = [c for c in columns if c.variance_ratio is not None][:MAX_CHART_COLUMNS]
    if spread:
        story += [Paragraph("Spread and tails of the most collapsed columns", H2), bar_chart(
            "Dataset spread relative to the reference (1.0 = as much spread as real data)",
            [c.name for c in spread],
            [[c.variance_ratio or 0.0 for c in spread], [c.iqr_ratio or 0.0 for c in spread]],
            ["variance ratio", "IQR ratio"])]
    tails = [c for c in columns if c.tail_level and c.lower_tail_occupancy is not None
             and c.upper_tail_occupancy is not None][:MAX_CHART_COLUMNS]
    if tails:
        story += [Spacer(1, 4 * mm), bar_chart(
            "Tail occupancy relative to the reference (1.0 = tails as full as in real data)",
            [c.name for c in tails],
            [[(c.lower_tail_occupancy or 0.0) / (c.tail_level or 1.0) for c in tails],
             [(c.upper_tail_occupancy or 0.0) / (c.tail_level or 1.0) for c in tails]],
            ["lower tail", "upper tail"])]
    for c in columns:
        if c.directions:
            story += [Spacer(1, 4 * mm), bar_chart(
                f"Embedding {c.name}: variance kept along the reference's principal directions",
                [f"direction {d.direction} ({100 * d.explained_variance:.0f}% of variance)"
                 for d in c.directions],
                [[d.variance_ratio for d in c.directions]], ["variance ratio"])]
            if c.modes_total:
                story.append(Paragraph(
                    f"{c.modes_left_empty or 0} of {c.modes_total} reference modes left empty.",
                    SMALL))
    return story


def _distributions(r: ValidationResult) -> list[Flowable]:
    """Reference vs dataset quantile strips of the most collapsed numeric columns."""
    if r.reference is None:
        return []
    ref = {p.name: p for p in r.reference.column_profiles}
    ds = {p.name: p for p in r.dataset.column_profiles}
    rows = []
    for c in r.columns:
        if c.name not in ref or c.name not in ds:
            continue
        a = Strip.from_profile(ref[c.name].quantiles, ref[c.name].tail_quantiles)
        b = Strip.from_profile(ds[c.name].quantiles, ds[c.name].tail_quantiles)
        if a is not None and b is not None:
            rows.append((c.name, a, b))
        if len(rows) == MAX_CHART_COLUMNS:
            break
    if not rows:
        return []
    return [Spacer(1, 4 * mm), distribution_chart(
        "Distributions: p1-p99 line, p25-p75 box, median tick, p0.1 and p99.9 dots", rows)]


def _categories_lost(columns: list[ColumnDetail]) -> list[Flowable]:
    lost = [c for c in columns if c.categories_lost]
    if not lost:
        return []
    rows: list[list[object]] = [["column", "coverage", "distinct (dataset / reference)",
                                 "categories lost (most frequent first)"]]
    for c in lost:
        names = c.categories_lost or []
        shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12
                                         else "")
        coverage = "" if c.category_coverage is None else f"{100 * c.category_coverage:.0f}%"
        rows.append([Paragraph(_esc(c.name), SMALL), coverage,
                     f"{c.distinct_dataset} / {c.distinct_reference}",
                     Paragraph(_esc(shown), SMALL)])
    return [Paragraph("Categories lost", H2),
            _table(rows, [40 * mm, 18 * mm, 32 * mm, 84 * mm])]


def _signals(r: ValidationResult) -> list[Flowable]:
    collapse = sorted((s for s in r.signals if s.channel == "collapse"),
                      key=lambda s: -s.evidence)[:MAX_SIGNALS]
    if not collapse:
        return []
    rows: list[list[object]] = [["signal", "scope", "observed", "real vs real", "z", "evidence"]]
    rows += [[s.signal, Paragraph(_esc(s.scope), SMALL), f"{s.observed:.4g}",
              f"{s.baseline:.4g} ± {s.baseline_sd:.2g}", f"{s.z:.1f}", f"{s.evidence:.1f}"]
             for s in collapse]
    return [Paragraph("Signals against their real-vs-real baselines", H2), Paragraph(
        "Evidence is the effect in standard deviations at 2,000 rows; above 2.83 a signal "
        "counts as a finding. Strongest first.", SMALL),
        _table(rows, [34 * mm, 46 * mm, 20 * mm, 32 * mm, 18 * mm, 22 * mm])]


def _recommendations(r: ValidationResult) -> list[Flowable]:
    if not r.recommendations:
        return []
    rows: list[list[object]] = [["fix", "predicted risk", "reduction"]]
    rows += [[Paragraph(_esc(x.description), SMALL),
              f"{format_risk(x.predicted_collapse_risk)} ({x.predicted_risk_level})",
              f"{x.risk_reduction:+.1f}"] for x in r.recommendations]
    return [Paragraph("Recommendations (risk measured after applying each fix)", H2),
            _table(rows, [112 * mm, 36 * mm, 24 * mm])]


def _table(rows: list[list[object]], widths: list[float], *, header: bool = True) -> Table:
    t = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [("FONTSIZE", (0, 0), (-1, -1), 8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("GRID", (0, 0), (-1, -1), 0.25, colors.grey)]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eaeded")),
                  ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold")]
    t.setStyle(TableStyle(style))
    return t


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
