"""Recommendations with a measured effect: apply each candidate fix to the sample, re-score it.

Every fix is simulated on the dataset sample (at most ``REC_ROWS`` rows per side, so the search
stays cheap) and scored by the same calibrated engine; the number reported is that re-score, not
a rule of thumb. Because evidence is an effect size at a standard size (see calibration), scores
on these smaller samples are on the same scale as the main result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from synthos.calibration import AnchorCache, make_plan, measure_null
from synthos.calibration import calibrate as run_calibration
from synthos.frame import Frame, complete_rows
from synthos.io.hashing import mix64
from synthos.knn import knn
from synthos.result import Action, ColumnDetail, Recommendation
from synthos.scoring import risk_level, score
from synthos.signals.context import PairContext
from synthos.signals.neighbourhood import NEAR_RADIUS, feature_spaces
from synthos.signals.registry import Measure

REC_ROWS = 5000
REC_REPLICATES = 8
MIX_GRID = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75)
LOW = 25.0


@dataclass
class Scorer:
    """Re-scores candidate datasets against one reference; the real-vs-real side of the
    calibration depends only on the candidate size, so it is measured once per size, and so
    are the anchors with what the signal families derive from them."""

    reference: Frame
    ctx: PairContext
    replicates: int
    seed: int
    _nulls: dict[int, list[Measure]] = field(default_factory=dict)
    _anchors: dict[int, AnchorCache] = field(default_factory=dict)

    def risk(self, dataset: Frame) -> float:
        if dataset.n < 2:
            return 100.0
        plan = make_plan(dataset.n, self.reference.n, self.replicates, self.seed)
        size = plan.candidate_size
        anchors = self._anchors.setdefault(size, AnchorCache())
        if size not in self._nulls:
            self._nulls[size] = measure_null(self.reference, self.ctx, plan, anchors=anchors)
        cals = run_calibration(dataset, self.reference, self.ctx, plan, null=self._nulls[size],
                               anchors=anchors)
        return score(cals).risk


def _subsample(frame: Frame, rows: int, rng: np.random.Generator) -> Frame:
    if frame.n <= rows:
        return frame
    return frame.take(np.sort(rng.choice(frame.n, rows, replace=False)))


def _concat(a: Frame, b: Frame) -> Frame:
    return Frame(
        np.vstack([a.numeric, b.numeric]), a.numeric_names,
        np.vstack([a.categorical, b.categorical]), a.categorical_names, a.vocabularies,
        {k: np.vstack([v, b.embeddings[k]]) for k, v in a.embeddings.items()},
        np.concatenate([a.row_hash, b.row_hash]),
    )


def _rec(action: Action, text: str, risk: float, current: float,
         parameters: dict[str, float | int | str | list[str]]) -> Recommendation:
    return Recommendation(action=action, description=text, parameters=parameters,
                          predicted_collapse_risk=risk, predicted_risk_level=risk_level(risk),
                          risk_reduction=current - risk)


def _drop_duplicates(s: Frame, scorer: Scorer, current: float) -> Recommendation | None:
    _, first = np.unique(s.row_hash, return_index=True)
    if first.size == s.n:
        return None
    risk = scorer.risk(s.take(np.sort(first)))
    share = 1 - first.size / s.n
    return _rec("drop_duplicates", f"Drop exact duplicate rows ({share:.1%} of the sample).",
                risk, current, parameters={"duplicate_share": share})


def _copied_rows(s: Frame, r: Frame, ctx: PairContext) -> np.ndarray:
    """Rows of s equal to a reference row, or within the near-copy radius of one (judged in
    reference units without centring: a copy is a copy)."""
    copied = np.isin(s.row_hash, r.row_hash)
    ref_spaces = dict(feature_spaces(r, ctx))
    for scope, x in feature_spaces(s, ctx):
        a = ref_spaces[scope]
        a = complete_rows(a)[:REC_ROWS]
        ok = np.all(np.isfinite(x), axis=1)
        if a.shape[0] < 2 or not ok.any():
            continue
        radius = NEAR_RADIUS * float(np.median(
            knn(a, a, 1, exclude_self=True, backend=ctx.backend).distances))
        dist = np.full(s.n, np.inf)
        dist[ok] = knn(x[ok], a, 1, backend=ctx.backend).distances[:, 0]
        copied |= dist <= radius
    return copied


def _remove_copies(s: Frame, r: Frame, scorer: Scorer, current: float) -> Recommendation | None:
    copied = _copied_rows(s, r, scorer.ctx)
    if not copied.any():
        return None
    risk = scorer.risk(s.take(np.flatnonzero(~copied)))
    return _rec("remove_reference_copies",
                f"Remove rows that copy or nearly copy reference rows ({copied.mean():.1%}).",
                risk, current, parameters={"copy_share": float(copied.mean())})


def _rehash(row_hash: np.ndarray, changed: np.ndarray, salt: int) -> np.ndarray:
    """New content hashes for the rows a simulated fix changed (the others keep theirs)."""
    out = row_hash.copy()
    out[changed] = mix64(row_hash[changed] ^ mix64(np.array([salt], dtype=np.uint64))[0])
    return out


def _restore_categories(s: Frame, r: Frame, details: list[ColumnDetail], scorer: Scorer,
                        current: float, rng: np.random.Generator) -> Recommendation | None:
    cols = [d.name for d in details if {"lost_categories", "lost_diversity"} & set(d.findings)]
    if not cols:
        return None
    cat = s.categorical.copy()
    for name in cols:
        j = s.categorical_names.index(name)
        ref_codes, codes = r.categorical[:, j], s.categorical[:, j]
        cr = np.bincount(ref_codes[ref_codes >= 0], minlength=len(s.vocabularies[j]))
        cs = np.bincount(codes[codes >= 0], minlength=cr.size)
        lost = np.flatnonzero((cr > 0) & (cs == 0))
        if lost.size == 0:
            lost = np.flatnonzero(cr > 0)  # diversity lost: resample from the whole reference
        share = cr[lost].sum() / max(cr.sum(), 1)
        rows = rng.random(s.n) < share
        cat[rows, j] = rng.choice(lost, size=int(rows.sum()), p=cr[lost] / cr[lost].sum())
    changed = (cat != s.categorical).any(axis=1)
    fixed = replace(s, categorical=cat, row_hash=_rehash(s.row_hash, changed, 1))
    risk = scorer.risk(fixed)
    return _rec("restore_categories",
                "Re-introduce the reference categories that vanished, at their reference "
                "frequency (e.g. conditional generation or rebalancing).",
                risk, current, parameters={"columns": cols})


def _restore_spread(s: Frame, r: Frame, details: list[ColumnDetail], scorer: Scorer,
                    current: float) -> Recommendation | None:
    lost = {"lost_variance", "lost_lower_tail", "lost_upper_tail"}
    cols = [d.name for d in details if d.kind == "numeric" and lost & set(d.findings)]
    if not cols:
        return None
    num = s.numeric.copy()
    for name in cols:
        j = s.numeric_names.index(name)
        x, a = num[:, j], r.numeric[:, j]
        sx, sa = np.nanstd(x), np.nanstd(a)
        if sx > 0:
            med = np.nanmedian(x)
            num[:, j] = med + (x - med) * (sa / sx)
    changed = ~np.all((num == s.numeric) | (np.isnan(num) & np.isnan(s.numeric)), axis=1)
    fixed = replace(s, numeric=num, row_hash=_rehash(s.row_hash, changed, 2))
    risk = scorer.risk(fixed)
    return _rec("restore_spread",
                "Widen the generator's output (temperature / variance) so these columns regain "
                "the reference spread; simulated by rescaling around the median.",
                risk, current, parameters={"columns": cols})


def _mix_real(s: Frame, r: Frame, scorer: Scorer, current: float,
              rng: np.random.Generator) -> Recommendation | None:
    if r.n < 200:
        return None
    perm = rng.permutation(r.n)
    pool, held = r.take(perm[: r.n // 2]), r.take(perm[r.n // 2 :])
    held_scorer = Scorer(held, scorer.ctx, scorer.replicates, scorer.seed)
    n = min(s.n, held.n)

    def mixed(alpha: float) -> float:
        k = round(alpha * n)
        part_s = s.take(rng.permutation(s.n)[: n - k])
        part_r = pool.take(rng.permutation(pool.n)[:k])
        return held_scorer.risk(_concat(part_s, part_r))

    tried: dict[float, float] = {}
    for alpha in MIX_GRID:
        tried[alpha] = mixed(alpha)
        if tried[alpha] < LOW:
            break
    passing = [a for a, v in tried.items() if v < LOW]
    if passing:
        hi = min(passing)
        lower = [a for a in tried if a < hi]
        lo = max(lower) if lower else 0.0
        for _ in range(2):  # refine by bisection between the last failing and first passing share
            mid = round((lo + hi) / 2, 3)
            tried[mid] = mixed(mid)
            lo, hi = (mid, hi) if tried[mid] >= LOW else (lo, mid)
        best = hi
    else:
        best = min(tried, key=tried.__getitem__)
    return _rec("mix_real_data",
                f"Replace {best:.0%} of the rows with real data (smallest share found that "
                f"{'brings the risk to low' if passing else 'lowers the risk most'}).",
                tried[best], current,
                parameters={"real_share": best, "shares_tried": len(tried)})


def recommend(s: Frame, r: Frame | None, ctx: PairContext, details: list[ColumnDetail],
              current: float, seed: int) -> list[Recommendation]:
    """Candidate fixes, each with the collapse risk measured after applying it, best first."""
    if r is None:
        return []
    rng = np.random.default_rng(seed + 7)
    s_small, r_small = _subsample(s, REC_ROWS, rng), _subsample(r, REC_ROWS, rng)
    scorer = Scorer(r_small, ctx, REC_REPLICATES, seed)
    steps: list[Callable[[], Recommendation | None]] = [
        lambda: _drop_duplicates(s_small, scorer, current),
        lambda: _remove_copies(s_small, r_small, scorer, current),
        lambda: _restore_categories(s_small, r_small, details, scorer, current, rng),
        lambda: _restore_spread(s_small, r_small, details, scorer, current),
        lambda: _mix_real(s_small, r_small, scorer, current, rng),
    ]
    found = [rec for step in steps if (rec := step()) is not None]
    return sorted(found, key=lambda rec: rec.predicted_collapse_risk)
