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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from scipy import special
from threadpoolctl import threadpool_limits

from synthos.cpus import available_cpus
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
MAX_WORKERS = 8
R = TypeVar("R")

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
    n_dataset: int
    n_reference: int

    @property
    def candidate_size(self) -> int:
        return int(self.draws[0].size)

    @property
    def inflation(self) -> float:
        """Factor on the split-null sd for the noise it cannot see.

        The split-null varies only which reference rows are held out; the dataset's own
        sampling (fully present when the dataset is used whole, m / n_dataset) and the
        realisation of the reference itself (m / n_reference) add to the difference being
        judged. Statistics of collisions (duplicates, distinct values, coverage) showed z about
        twice too wide on real-vs-real pairs without it.
        """
        m = self.candidate_size
        return float(np.sqrt(1.0 + m / max(self.n_dataset, 1) + m / max(self.n_reference, 1)))


CANDIDATE_ROWS = 5000  # rows per candidate per replicate (the anchor gets up to twice as many)


def make_plan(n_dataset: int, n_reference: int, replicates: int, seed: int,
              max_rows: int = CANDIDATE_ROWS) -> Plan:
    """Split the reference B times: candidates of m = min(n_dataset, n_reference // 2, max_rows)
    rows, anchors of min(n_reference - m, 2 * max_rows) rows.

    Evidence is an effect size at 2,000 rows, so more than a few thousand rows per replicate
    only narrows its noise (sd sqrt(2000/m) in evidence units: 0.63 at 5,000 rows) at a linear
    cost. The reference splits come from their own random stream, so they depend only on
    (n_reference, m, seed): datasets of the same candidate size share them (and their nulls).
    """
    ref_rng = np.random.default_rng([seed, 1])
    ds_rng = np.random.default_rng([seed, 2])
    m = min(n_dataset, n_reference // 2, max_rows)
    anchor_rows = min(n_reference - m, 2 * max_rows)
    anchors, nulls, draws = [], [], []
    for _ in range(replicates):
        perm = ref_rng.permutation(n_reference)
        nulls.append(perm[:m])
        anchors.append(perm[m : m + anchor_rows])
        draws.append(ds_rng.permutation(n_dataset)[:m])
    return Plan(tuple(anchors), tuple(nulls), tuple(draws), n_dataset, n_reference)


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

    @property
    def dof(self) -> int:
        return max(int(np.isfinite(self.per_replicate).sum()) - 1, 1)


T_CLIP = 1e8  # beyond this the t tail underflows; no real statistic gets there


def t_to_z(t: np.ndarray | float, dof: np.ndarray | int) -> np.ndarray:
    """The standard-normal quantile with the same tail probability as t under Student(dof),
    elementwise (arrays broadcast); NaN stays NaN."""
    t = np.asarray(t, dtype=float)
    nu = np.asarray(dof, dtype=float)
    mag = np.minimum(np.abs(t), T_CLIP)
    with np.errstate(divide="ignore"):
        log_tail = np.log(special.stdtr(nu, -mag))
    # far tail, where stdtr underflows: sf ~ K nu^((nu-1)/2) t^-nu,
    # K = Gamma((nu+1)/2) / (sqrt(nu pi) Gamma(nu/2))
    far = (special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2) - 0.5 * np.log(nu * np.pi)
           + (nu - 1) / 2 * np.log(nu) - nu * np.log(np.maximum(mag, 1.0)))
    log_tail = np.where(np.isfinite(log_tail), log_tail, far)
    return np.sign(t) * -special.ndtri_exp(np.minimum(log_tail, np.log(0.5)))


def _effect_sd(signal: str, null_sd: float, size: int) -> tuple[float, bool]:
    """(sd of the effect at the standard size, whether it was estimated rather than floored)."""
    sd = null_sd * np.sqrt(max(1.0, size / STANDARD_SIZE))
    info = SIGNALS[signal]
    floor = info.floor or (RATE_FLOOR if info.rate_floor else RATIO_FLOOR)
    return float(max(sd, floor)), bool(sd >= floor)


def _stack(measures: list[Measure], keys: list[Key]) -> np.ndarray:
    return np.array([[m.get(k, np.nan) for k in keys] for m in measures], dtype=float)


def _workers(replicates: int) -> int:
    return max(1, min(MAX_WORKERS, replicates, available_cpus()))


def map_replicates(job: Callable[[int], R], replicates: int) -> list[R]:
    """``[job(b) for b in range(replicates)]``, run on one thread per CPU.

    Replicates are independent and each one's result depends only on its own rows, so the
    answer is the same as a serial loop; numpy releases the GIL in the sorts, reductions and
    matrix products that dominate a replicate. BLAS is held to one thread meanwhile (the
    replicates are the parallelism), which also keeps small products from stalling.
    """
    workers = _workers(replicates)
    with threadpool_limits(1, user_api="blas"):
        if workers <= 1:
            return [job(b) for b in range(replicates)]
        with ThreadPoolExecutor(workers, thread_name_prefix="synthos-replicate") as pool:
            return list(pool.map(job, range(replicates)))


@dataclass
class AnchorCache:
    """The anchor frames of a plan, built once and kept with what the families memoised on
    them (sorted columns, category counts, the anchor's own k-NN radii...): re-scoring
    several datasets against one reference and plan (the recommendations) measures only the
    candidate side again."""

    frames: dict[int, Frame] = field(default_factory=dict)

    def anchor(self, reference: Frame, plan: Plan, b: int) -> Frame:
        hit = self.frames.get(b)
        if hit is None:
            hit = self.frames[b] = reference.take(plan.anchors[b])
        return hit


def calibrate(
    dataset: Frame,
    reference: Frame,
    ctx: PairContext,
    plan: Plan,
    families: Sequence[Family] = FAMILIES,
    null: list[Measure] | None = None,
    anchors: AnchorCache | None = None,
) -> list[Calibrated]:
    """Measure every family on every replicate and calibrate each key against its null.

    ``null`` may carry the real-vs-real measures of an earlier call with the same reference,
    context and plan (they do not depend on the dataset): see :func:`measure_null`; ``anchors``
    the anchor frames of that plan (see :class:`AnchorCache`).
    """
    def replicate(b: int) -> tuple[Measure, Measure]:
        anchor = (anchors.anchor(reference, plan, b) if anchors is not None
                  else reference.take(plan.anchors[b]))
        cand = dataset.take(plan.draws[b])
        candidates = [cand] if null is not None else [cand, reference.take(plan.nulls[b])]
        o: Measure = {}
        r: Measure = {}
        for family in families:
            got = family(candidates, anchor, ctx)
            o.update(got[0])
            if null is None:
                r.update(got[1])
        return o, (null[b] if null is not None else r)

    pairs = map_replicates(replicate, len(plan.anchors))
    return _calibrated([p[0] for p in pairs], [p[1] for p in pairs], plan, ctx)


def measure_null(reference: Frame, ctx: PairContext, plan: Plan,
                 families: Sequence[Family] = FAMILIES,
                 anchors: AnchorCache | None = None) -> list[Measure]:
    """The real-vs-real measures of every replicate (reusable across datasets of one size)."""
    def replicate(b: int) -> Measure:
        anchor = (anchors.anchor(reference, plan, b) if anchors is not None
                  else reference.take(plan.anchors[b]))
        real = reference.take(plan.nulls[b])
        r: Measure = {}
        for family in families:
            r.update(family([real], anchor, ctx)[0])
        return r

    return map_replicates(replicate, len(plan.anchors))


def _calibrated(obs: list[Measure], null: list[Measure], plan: Plan, ctx: PairContext
                ) -> list[Calibrated]:
    keys = sorted({k for m in obs for k in m} & {k for m in null for k in m})
    o_arr, n_arr = _stack(obs, keys), _stack(null, keys)
    enough = np.minimum(np.isfinite(o_arr).sum(0), np.isfinite(n_arr).sum(0))
    keep = enough >= max(2, len(plan.anchors) // 2)
    o_arr, n_arr = o_arr[:, keep], n_arr[:, keep]
    keys = [k for k, ok in zip(keys, keep, strict=True) if ok]
    with np.errstate(all="ignore"):
        base, sd = np.nanmean(n_arr, axis=0), np.nanstd(n_arr, axis=0, ddof=1)
        observed = np.nanmean(o_arr, axis=0)
    sd = np.nan_to_num(sd)
    judged_sd = sd * plan.inflation
    sig_sd = np.maximum(judged_sd, 1e-9 + 1e-6 * np.abs(base))
    out = []
    for i, (signal, scope) in enumerate(keys):
        size = plan.candidate_size
        if signal in neighbourhood.SIGNAL_NAMES:
            size = min(size, ctx.knn_rows)
        effect_sd, estimated = _effect_sd(signal, float(judged_sd[i]), size)
        out.append(Calibrated(signal, scope, float(observed[i]), float(base[i]), float(sd[i]),
                              float((observed[i] - base[i]) / sig_sd[i]), effect_sd, size,
                              o_arr[:, i], estimated))
    return out
