"""Real-vs-real calibration: every signal as a deviation from "as different as two real samples".

For each of B replicates the reference sample R is split at random into an *anchor* A and a
held-out part; the held-out part supplies a real candidate R_b of the same size as the dataset
candidate S_b (a random subset of the dataset sample). Every signal is measured twice against the
same anchor: obs_b = f(S_b, A) and null_b = f(R_b, A). The two differ only in where the candidate
rows came from, so sizes, ties and estimator bias cancel.

    z        = (mean_b obs_b - mean_b null_b) / sd_b(null_b)                 significance
    evidence = (mean_b obs_b - mean_b null_b) / sd at the standard size N0    effect size

The standard size N0 turns a statistically certain but tiny difference (likely with a million
rows) into a small effect: evidence is the deviation a 2,000-row comparison would show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from synthos.frame import Frame
from synthos.signals import (
    categorical,
    dependence,
    duplicates,
    embedding,
    location,
    missingness,
    neighbourhood,
    spread,
    tails,
)
from synthos.signals.context import PairContext
from synthos.signals.registry import SIGNALS, Key, Measure

STANDARD_SIZE = 2000
RATE_FLOOR = float(np.sqrt(0.02 * 0.98 / STANDARD_SIZE))  # binomial sd of a 2% rate at N0
RATIO_FLOOR = 0.01  # one percent, the smallest effect a non-rate statistic is credited with

Family = Callable[[Sequence[Frame], Frame, PairContext], list[Measure]]
FAMILIES: tuple[Family, ...] = (
    spread.measure,
    tails.measure,
    location.measure,
    missingness.measure,
    dependence.measure,
    categorical.measure,
    duplicates.measure,
    neighbourhood.measure,
    embedding.measure,
)


@dataclass(frozen=True)
class Plan:
    """Row indices per replicate: anchors and held-out real candidates into R, draws into S."""

    anchors: tuple[np.ndarray, ...]
    nulls: tuple[np.ndarray, ...]
    draws: tuple[np.ndarray, ...]

    @property
    def candidate_size(self) -> int:
        return int(self.draws[0].size)


def make_plan(n_dataset: int, n_reference: int, replicates: int, seed: int) -> Plan:
    """Split the reference B times; candidate size m = min(n_dataset, n_reference // 2)."""
    rng = np.random.default_rng(seed)
    m = min(n_dataset, n_reference // 2)
    anchors, nulls, draws = [], [], []
    for _ in range(replicates):
        perm = rng.permutation(n_reference)
        nulls.append(perm[:m])
        anchors.append(perm[m:])
        draws.append(rng.permutation(n_dataset)[:m])
    return Plan(tuple(anchors), tuple(nulls), tuple(draws))


@dataclass(frozen=True)
class Calibrated:
    """One calibrated (signal, scope) statistic; ``per_replicate`` holds the dataset's values."""

    signal: str
    scope: str
    observed: float
    baseline: float
    baseline_sd: float
    z: float
    effect_sd: float
    size: int
    per_replicate: np.ndarray
    sd_estimated: bool = True

    def deviation(self, values: float | np.ndarray) -> float | np.ndarray:
        """(value - baseline) in effect-size units, as a standard-normal quantile.

        When the sd comes from the B null replicates, the ratio follows a t law with B - 1
        degrees of freedom; it is mapped to the normal quantile of the same tail probability so
        that few replicates cannot manufacture extreme evidence. When the fixed floor binds
        instead, nothing was estimated and the ratio is used as it is.
        """
        ratio = (np.asarray(values, dtype=float) - self.baseline) / self.effect_sd
        out = t_to_z(ratio, self.dof) if self.sd_estimated else ratio
        return float(out) if np.ndim(out) == 0 else out

    @property
    def dof(self) -> int:
        return max(int(np.isfinite(self.per_replicate).sum()) - 1, 1)


T_CLIP = 1e8  # beyond this the t tail underflows; no real statistic gets there


def t_to_z(t: np.ndarray | float, dof: np.ndarray | int) -> np.ndarray:
    """The standard-normal quantile with the same tail probability as t under Student(dof),
    elementwise (arrays broadcast); NaN stays NaN."""
    t = np.asarray(t, dtype=float)
    mag = np.minimum(np.abs(t), T_CLIP)
    log_tail = np.minimum(stats.t.logsf(mag, dof), np.log(0.5))
    return np.sign(t) * -special.ndtri_exp(log_tail)


def _effect_sd(signal: str, null_sd: float, size: int) -> tuple[float, bool]:
    """(sd of the effect at the standard size, whether it was estimated rather than floored)."""
    sd = null_sd * np.sqrt(max(1.0, size / STANDARD_SIZE))
    floor = RATE_FLOOR if SIGNALS[signal].rate_floor else RATIO_FLOOR
    return float(max(sd, floor)), bool(sd >= floor)


def _stack(measures: list[Measure], keys: list[Key]) -> np.ndarray:
    return np.array([[m.get(k, np.nan) for k in keys] for m in measures], dtype=float)


def calibrate(
    dataset: Frame,
    reference: Frame,
    ctx: PairContext,
    plan: Plan,
    families: Sequence[Family] = FAMILIES,
) -> list[Calibrated]:
    """Measure every family on every replicate and calibrate each key against its null."""
    obs: list[Measure] = []
    null: list[Measure] = []
    for a_idx, n_idx, s_idx in zip(plan.anchors, plan.nulls, plan.draws, strict=True):
        anchor, real, cand = reference.take(a_idx), reference.take(n_idx), dataset.take(s_idx)
        o: Measure = {}
        r: Measure = {}
        for family in families:
            got_o, got_r = family([cand, real], anchor, ctx)
            o.update(got_o)
            r.update(got_r)
        obs.append(o)
        null.append(r)
    keys = sorted({k for m in obs for k in m} & {k for m in null for k in m})
    o_arr, n_arr = _stack(obs, keys), _stack(null, keys)
    out = []
    half = max(2, len(plan.anchors) // 2)
    for i, (signal, scope) in enumerate(keys):
        ov, nv = o_arr[:, i], n_arr[:, i]
        if np.isfinite(ov).sum() < half or np.isfinite(nv).sum() < half:
            continue
        base, sd = float(np.nanmean(nv)), float(np.nanstd(nv, ddof=1))
        observed = float(np.nanmean(ov))
        sig_sd = max(sd, 1e-9 + 1e-6 * abs(base))
        size = plan.candidate_size
        if signal in neighbourhood.SIGNAL_NAMES:
            size = min(size, ctx.knn_rows)
        effect_sd, estimated = _effect_sd(signal, sd, size)
        out.append(Calibrated(signal, scope, observed, base, sd, (observed - base) / sig_sd,
                              effect_sd, size, ov, estimated))
    return out
