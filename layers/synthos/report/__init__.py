"""PDF reports of a validation result (reportlab): ``render_report(result, out)``."""

from synthos.report.pdf import format_risk, render_report, report_story

__all__ = ["format_risk", "render_report", "report_story"]
