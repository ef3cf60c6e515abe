"""Which validation results a warranty may be issued for.

The rule (``docs/warranty.md``), every clause must hold:

1. a real reference was supplied (no reference-free result);
2. ``risk_level`` is ``low`` (``collapse_risk`` < 25);
3. the upper end of the 90% confidence interval is below ``max_interval_upper`` (default 50):
   the replicates do not make a high risk plausible;
4. ``confidence.level`` is ``high`` or ``medium`` (at least 100 rows per file);
5. at least ``min_rows`` (default 100) dataset and reference rows were compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthos.result import ValidationResult

ELIGIBLE_CONFIDENCE = ("high", "medium")


@dataclass(frozen=True)
class EligibilityRule:
    max_collapse_risk: float = 25.0
    max_interval_upper: float = 50.0
    min_rows: int = 100


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: tuple[str, ...]  # why not, one per failed clause; empty when eligible


def check_eligibility(result: ValidationResult,
                      rule: EligibilityRule | None = None) -> Eligibility:
    """Apply the eligibility rule to ``result``; the reasons name every failed clause."""
    rule = rule or EligibilityRule()
    reasons: list[str] = []
    if result.reference is None:
        reasons.append("no real reference was supplied (reference-free results are not covered)")
    if result.risk_level != "low" or result.collapse_risk >= rule.max_collapse_risk:
        reasons.append(f"collapse risk {result.collapse_risk:.1f} ({result.risk_level}) is not "
                       f"low (< {rule.max_collapse_risk:g})")
    upper = result.confidence.interval[1]
    if upper >= rule.max_interval_upper:
        reasons.append(f"the 90% range reaches {upper:.1f} (must stay below "
                       f"{rule.max_interval_upper:g})")
    if result.confidence.level not in ELIGIBLE_CONFIDENCE:
        reasons.append(f"confidence is {result.confidence.level} (needs high or medium)")
    rows = min(result.confidence.dataset_rows_used, result.confidence.reference_rows_used)
    if rows < rule.min_rows:
        reasons.append(f"only {rows} rows per side were compared (needs {rule.min_rows})")
    return Eligibility(eligible=not reasons, reasons=tuple(reasons))
