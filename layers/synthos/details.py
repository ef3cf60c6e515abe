"""The collapse details: per column, what was lost and by how much, in plain numbers.

Descriptive statistics come straight from the two samples (in reference units); the findings
come from the calibrated evidence, so a column is only called collapsed when its deviation is
beyond what two real samples show.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from synthos.frame import Frame, complete_rows
from synthos.metrics.ks_complement import ks_complement
from synthos.metrics.tv_complement import tv_complement_from_counts
from synthos.result import ColumnDetail, DirectionDetail
from synthos.scoring import Evidence, sidak_z
from synthos.signals import categorical, embedding, spread, tails
from synthos.signals.context import PairContext
from synthos.signals.registry import SIGNALS

FINDING_EVIDENCE = 2.83  # the evidence at which collapse_risk reaches "medium" (after Šidák)
FINDINGS = {
    "variance_ratio": "lost_variance",
    "iqr_ratio": "lost_variance",
    "missing_rate": "lost_values_to_missing",
    "distinct_values": "lost_values",
    "lower_tail": "lost_lower_tail",
    "upper_tail": "lost_upper_tail",
    "distinct_ratio": "lost_categories",
    "category_coverage": "lost_categories",
    "entropy_ratio": "lost_diversity",
    "singleton_fraction": "lost_rare_values",
    "direction_variance": "shrunk_directions",
    "empty_modes": "dropped_modes",
    "knn_recall": "lost_coverage",
    "knn_coverage": "lost_coverage",
    "knn_density": "over_concentrated",
    "nn_distance_ratio": "over_concentrated",
}
MAX_LISTED = 20


def _adjusted(evidence: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    """Each key's evidence corrected (Šidák) for the number of keys in its family, as in the
    risk itself: with 200 columns one of them reaching 2.8 by chance is not a finding."""
    sizes = Counter(SIGNALS[signal].family for signal, _ in evidence)
    return {k: sidak_z(e, sizes[SIGNALS[k[0]].family]) for k, e in evidence.items()}


def _per_column_evidence(collapse: Evidence, drift: Evidence) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for (signal, scope), e in _adjusted(collapse.by_key).items():
        column = scope.split("#", 1)[0]
        out[column][signal] = max(e, out[column].get(signal, -np.inf))
    for (signal, scope), e in _adjusted(drift.by_key).items():
        if signal in ("location_shift", "centroid_shift"):
            out[scope.split("#", 1)[0]]["__shift"] = e
    return out


def _findings(ev: dict[str, float]) -> list[str]:
    found = {FINDINGS[s] for s, e in ev.items() if s in FINDINGS and e >= FINDING_EVIDENCE}
    if ev.get("__shift", 0.0) >= FINDING_EVIDENCE:
        found.add("shifted")
    return sorted(found)


def _finite(v: np.ndarray) -> np.ndarray:
    return v[np.isfinite(v)]


def _numeric(name: str, x: np.ndarray, a: np.ndarray, ev: dict[str, float]) -> ColumnDetail:
    x, a = np.sort(_finite(x)), np.sort(_finite(a))
    d = ColumnDetail(name=name, kind="numeric", findings=_findings(ev),
                     evidence=max((v for k, v in ev.items() if k != "__shift"), default=0.0))
    if x.size < 2 or a.size < 2:
        return d
    va = float(np.var(a))
    # quantiles of the sorted values (numpy's linear interpolation): q25, median, q75
    (x25, a25), (x50, a50), (x75, a75) = spread.sorted_quantile(
        _two_columns(x, a), [0.25, 0.5, 0.75])
    iqr_x, iqr_a = float(x75 - x25), float(a75 - a25)
    alpha = tails.tail_level(a.size)
    q_lo, q_hi = spread.sorted_quantile((a - a50)[:, None], [alpha, 1 - alpha])[:, 0]
    xc = x - x50  # still sorted: tail counts by bisection
    below = np.searchsorted(xc, q_lo, side="left")
    above = xc.size - np.searchsorted(xc, q_hi, side="right")
    return d.model_copy(update={
        "variance_ratio": float(np.var(x) / va) if va > 0 else None,
        "iqr_ratio": iqr_x / iqr_a if iqr_a > 0 else None,
        "tail_level": alpha,
        "lower_tail_occupancy": float(below / xc.size),
        "upper_tail_occupancy": float(above / xc.size),
        "median_shift": float(x50 - a50),
        "ks_complement": ks_complement(a, x),
    })


def _two_columns(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Sorted x and a side by side, the shorter one padded with trailing NaN."""
    out = np.full((max(x.size, a.size), 2), np.nan)
    out[: x.size, 0], out[: a.size, 1] = x, a
    return out


def _categorical(name: str, j: int, s: Frame, r: Frame, ev: dict[str, float]) -> ColumnDetail:
    vocab = np.asarray(s.vocabularies[j], dtype=object)
    cs = np.bincount(s.categorical[:, j][s.categorical[:, j] >= 0], minlength=vocab.size)
    cr = np.bincount(r.categorical[:, j][r.categorical[:, j] >= 0], minlength=vocab.size)
    lost = np.flatnonzero((cr > 0) & (cs == 0))
    lost = lost[np.argsort(-cr[lost], kind="stable")][:MAX_LISTED]
    h_r = categorical.entropy(cr)
    return ColumnDetail(
        name=name, kind="categorical", findings=_findings(ev),
        evidence=max((v for k, v in ev.items() if k != "__shift"), default=0.0),
        distinct_dataset=int(np.count_nonzero(cs)), distinct_reference=int(np.count_nonzero(cr)),
        category_coverage=float(np.mean(cs[cr > 0] > 0)) if np.any(cr) else None,
        entropy_ratio=categorical.entropy(cs) / h_r if h_r > 0 else None,
        categories_lost=[str(vocab[i]) for i in lost],
        tv_complement=tv_complement_from_counts(cr, cs),  # codes index one shared vocabulary
    )


def _embedding(name: str, s: Frame, r: Frame, ctx: PairContext, ev: dict[str, float]
               ) -> ColumnDetail:
    d = ColumnDetail(name=name, kind="embedding", findings=_findings(ev),
                     evidence=max((v for k, v in ev.items() if k != "__shift"), default=0.0))
    basis = ctx.bases.get(name)
    x, a = s.embeddings[name], r.embeddings[name]
    x, a = complete_rows(x), complete_rows(a)
    if basis is None or x.shape[0] < 2 or a.shape[0] < 2:
        return d
    x, a = x - x.mean(0), a - a.mean(0)
    vx, va = np.var(x @ basis.directions.T, 0), np.var(a @ basis.directions.T, 0)
    share_a = embedding.mode_shares(a, basis.centroids)
    share_x = embedding.mode_shares(x, basis.centroids)
    return d.model_copy(update={
        "directions": [
            DirectionDetail(direction=i + 1, explained_variance=float(basis.explained[i]),
                            variance_ratio=float(vx[i] / va[i]) if va[i] > 0 else 0.0)
            for i in range(vx.size)
        ],
        "modes_total": int(share_a.size),
        "modes_left_empty": int(np.sum(share_x < embedding.EMPTY_SHARE * share_a)),
    })


def column_details(s: Frame, r: Frame, ctx: PairContext, collapse: Evidence, drift: Evidence
                   ) -> list[ColumnDetail]:
    """Details for every compared column, most collapsed first."""
    ev = _per_column_evidence(collapse, drift)
    out = [_numeric(n, s.numeric[:, j], r.numeric[:, j], ev.get(n, {}))
           for j, n in enumerate(s.numeric_names)]
    out += [_categorical(n, j, s, r, ev.get(n, {})) for j, n in enumerate(s.categorical_names)]
    out += [_embedding(n, s, r, ctx, ev.get(n, {})) for n in s.embeddings]
    return sorted(out, key=lambda d: (-d.evidence, d.name))
