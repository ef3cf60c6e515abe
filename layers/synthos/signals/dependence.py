"""Dependence structure: log-determinant of the correlation and covariance matrices per dimension.

A collapsing generator loses independent directions before it loses marginal variance: the
correlation log-det falls as columns become redundant, the covariance log-det (on standardised
columns) falls as the joint volume shrinks. Both are shift- and scale-invariant here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthos.frame import Frame, complete_rows
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure

_RIDGE = 1e-6


def logdets(x: np.ndarray) -> tuple[float, float] | None:
    """(corr log-det / p, cov log-det / p) of complete rows of x (n, p), or None if too few rows."""
    x = complete_rows(x)
    n, p = x.shape
    if p < 2 or n < p + 2:
        return None
    cov = np.cov(x, rowvar=False)
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    safe = np.where(sd > 0, sd, 1.0)
    corr = cov / np.outer(safe, safe)
    np.fill_diagonal(corr, 1.0)
    eye = _RIDGE * np.eye(p)
    _, ld_corr = np.linalg.slogdet(corr + eye)
    _, ld_cov = np.linalg.slogdet(cov + eye)
    return float(ld_corr / p), float(ld_cov / p)


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    cols = list(ctx.numeric_cols)
    if len(cols) < 2:
        return out
    ref = anchor.memo(("logdets", tuple(cols)), lambda: logdets(anchor.numeric[:, cols]))
    if ref is None:
        return out
    for m, cand in zip(out, candidates, strict=True):
        got = logdets(cand.numeric[:, cols])
        if got is not None:
            m[("corr_logdet", "*")] = got[0] - ref[0]
            m[("cov_logdet", "*")] = got[1] - ref[1]
    return out
