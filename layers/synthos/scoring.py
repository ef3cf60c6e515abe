"""From calibrated signals to one number: evidence, collapse risk, level and interval.

Evidence per key is the calibrated effect oriented so that positive means "more collapsed than
two real samples would be". Within a family (spread, tails, categorical, ...) keys are combined
with a Šidák correction (the chance that the largest of n independent null deviations reaches
z), so that measuring more columns does not by itself raise the risk. Families are combined by
T = sum of squared positive family evidences, read against its null law, the chi-bar-squared
mixture sum_k C(F,k) 2^-F chi2_k: every family that collapses adds to the total, and a family
that keeps worsening keeps raising it even when another has saturated. The evidence E maps to

    collapse_risk = 100 * g^2 / (g^2 + E0^2),   g = softplus(E),  E0 = 5

which is 0 for no evidence, 25 at E ~ 2.8, 50 at E ~ 5, 75 at E ~ 8.7 and keeps rising (never
saturates, so more collapse always scores higher).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from synthos.calibration import Calibrated, t_to_z
from synthos.result import RiskLevel
from synthos.signals.registry import SIGNALS

E0 = 5.0
LEVELS: tuple[tuple[float, RiskLevel], ...] = (
    (75.0, "critical"), (50.0, "high"), (25.0, "medium"))
_MIN_Z = -10.0


def risk_from_evidence(e: float | np.ndarray) -> float | np.ndarray:
    g = np.logaddexp(0.0, e)
    return 100.0 * g**2 / (g**2 + E0**2)


def risk_level(risk: float) -> RiskLevel:
    for threshold, name in LEVELS:
        if risk >= threshold:
            return name
    return "low"


def sidak_z(z_max: float, n: int) -> float:
    """z of the event "the largest of n independent standard normals reaches z_max"."""
    if n <= 1 or not np.isfinite(z_max):
        return float(max(z_max, _MIN_Z))
    log_p = float(special.log_ndtr(-z_max))
    if log_p < -20:
        return float(-special.ndtri_exp(log_p + np.log(n)))
    with np.errstate(divide="ignore"):  # log_p = 0 means p = 1: the answer is the floor
        p = float(-np.expm1(n * np.log1p(-np.exp(log_p))))
    return float(max(-special.ndtri(p), _MIN_Z)) if p < 1 else _MIN_Z


def _log_chi2_sf(t: float, k: int) -> float:
    sf = float(special.chdtrc(k, t))
    if sf > 0:
        return float(np.log(sf))
    h = k / 2.0  # leading terms of the upper incomplete gamma function for large t
    return float((h - 1) * np.log(t / 2) - t / 2 - special.gammaln(h)
                 + np.log1p((h - 1) / (t / 2)))


def chibar_z(family_z: list[float]) -> float:
    """Evidence of F family z's together (see module docstring); continuous and increasing."""
    f = len(family_z)
    if f == 0:
        return _MIN_Z
    t = float(sum(max(z, 0.0) ** 2 for z in family_z))
    floor = float(-special.ndtri(1.0 - 2.0**-f))  # the evidence as t -> 0+
    if t <= 0:
        return max(floor + max(family_z), _MIN_Z)
    terms = [np.log(special.comb(f, k)) - f * np.log(2) + _log_chi2_sf(t, k)
             for k in range(1, f + 1)]
    return float(-special.ndtri_exp(special.logsumexp(terms)))


@dataclass(frozen=True)
class Evidence:
    total: float
    by_family: dict[str, float]
    by_key: dict[tuple[str, str], float]


def _family_columns(keys: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
    families: dict[str, list[int]] = defaultdict(list)
    for i, (signal, _) in enumerate(keys):
        families[SIGNALS[signal].family].append(i)
    return {f: np.array(v) for f, v in families.items()}


def _family_evidence(values: np.ndarray, family_cols: dict[str, np.ndarray]) -> dict[str, float]:
    """Šidák-corrected maximum of each family's finite evidences."""
    out = {}
    for f, cols in family_cols.items():
        v = values[cols]
        v = v[np.isfinite(v)]
        if v.size:
            out[f] = sidak_z(float(v.max()), int(v.size))
    return out


def combine(by_key: dict[tuple[str, str], float]) -> Evidence:
    keys = list(by_key)
    by_family = _family_evidence(np.array([by_key[k] for k in keys]), _family_columns(keys))
    return Evidence(chibar_z(list(by_family.values())), by_family, by_key)


@dataclass(frozen=True)
class Oriented:
    """Evidence of every key of one channel: row 0 from the mean over replicates, row 1+b from
    replicate b alone (for the interval). NaN where a replicate had no value."""

    keys: list[tuple[str, str]]
    values: np.ndarray  # (1 + B, K)

    def row(self, i: int) -> dict[tuple[str, str], float]:
        return {k: float(v) for k, v in zip(self.keys, self.values[i], strict=True)
                if np.isfinite(v)}


def orient(cals: Sequence[Calibrated], channel: str) -> Oriented:
    """Evidence per key for the "collapse" or "drift" channel, vectorised over keys."""
    use = [c for c in cals if getattr(SIGNALS[c.signal], channel) != 0]
    if not use:
        return Oriented([], np.zeros((1, 0)))
    b = min(c.per_replicate.size for c in use)
    raw = np.array([[c.observed, *c.per_replicate[:b]] for c in use]).T  # (1 + B, K)
    base = np.array([c.baseline for c in use])
    sd = np.array([c.effect_sd for c in use])
    ratio = (raw - base) / sd
    estimated = np.array([c.sd_estimated for c in use])
    dof = np.array([c.dof for c in use])
    z = np.where(estimated, t_to_z(ratio, dof), ratio)
    direction = np.array([getattr(SIGNALS[c.signal], channel) for c in use], dtype=float)
    return Oriented([(c.signal, c.scope) for c in use], z * direction)


@dataclass(frozen=True)
class Score:
    risk: float
    level: RiskLevel
    interval: tuple[float, float]
    evidence: Evidence


def score(cals: Sequence[Calibrated], channel: str = "collapse") -> Score:
    """Point risk from the mean over replicates; the interval spans the 5-95% of replicates."""
    o = orient(cals, channel)
    ev = combine(o.row(0))
    risk = float(risk_from_evidence(ev.total))
    cols = _family_columns(o.keys)
    per_rep = [
        float(risk_from_evidence(chibar_z(list(_family_evidence(o.values[i], cols).values()))))
        for i in range(1, o.values.shape[0])
    ]
    if per_rep:
        lo, hi = np.percentile(per_rep, [5, 95])
        interval = (float(min(lo, risk)), float(max(hi, risk)))
    else:
        interval = (risk, risk)
    return Score(risk, risk_level(risk), interval, ev)
