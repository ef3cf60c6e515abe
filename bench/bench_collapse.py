"""Ground-truth collapse benchmark: does collapse_risk rise with the generation, and only then?

    python bench/bench_collapse.py [--seeds 5] [--quick] [--json bench/out/collapse.json]

Families (generation 0..G of known collapse, see synthos.groundtruth) on synthetic sources and on
real data shipped with scikit-learn (wine, breast_cancer, diabetes, digits), and the controls:
real-vs-real, pure mean shift, affine rescale and accumulate-instead-of-replace. Prints the
markdown tables quoted in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from scipy import stats

from synthos import groundtruth as gt
from synthos.columns import classify_schema
from synthos.engine import Assessment, ValidateOptions, assess

Case = tuple[pa.Table, list[pa.Table]]


def load_real(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets  # dev dependency: the real data ships inside the package

    loader = {"wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer,
              "diabetes": datasets.load_diabetes, "digits": datasets.load_digits}[name]
    bunch = loader()
    return np.asarray(bunch.data, dtype=float), np.asarray(bunch.target)


def source(name: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(reference half, training half) of a real or synthetic numeric source."""
    x = gt.synthetic_gaussian(4000, 8, rng) if name == "synthetic" else load_real(name)[0]
    return gt.split_real(x, rng)


def gaussian_case(src: str, rng: np.random.Generator, gens: int, accumulate: bool = False
                  ) -> Case:
    ref, train = source(src, rng)
    d, n_out = train.shape[1], max(1000, train.shape[0])
    if src == "synthetic":
        out = gt.gaussian_refit(train, gens, n_fit=5 * d, n_out=n_out, rng=rng,
                                accumulate=accumulate)
    else:  # real rows are not Gaussian: refit a Gaussian copula with empirical marginals
        out = gt.copula_refit(train, gens, n_fit=min(train.shape[0], 5 * d), n_out=n_out,
                              rng=rng, accumulate=accumulate)
    return gt.to_table(ref), [gt.to_table(g) for g in out]


def truncated_case(src: str, rng: np.random.Generator, gens: int) -> Case:
    ref, train = source(src, rng)
    out = gt.truncated_resampling(train, gens, tau=2.0, rng=rng)
    return gt.to_table(ref), [gt.to_table(g) for g in out]


def zipf_case(_: str, rng: np.random.Generator, gens: int) -> Case:
    return gt.zipf_refit(200, 1.1, gens, n_fit=300, n_out=1000, n_ref=2000, rng=rng)


def modes_case(src: str, rng: np.random.Generator, gens: int) -> Case:
    if src == "synthetic":
        x, labels = gt.synthetic_clusters(6000, 32, 20, rng)
        per = 2
    else:
        x, labels = load_real(src)
        per = 1
    perm = rng.permutation(x.shape[0])
    half = x.shape[0] // 2
    ref, pool, plab = x[perm[:half]], x[perm[half:]], labels[perm[half:]]
    out = gt.mode_dropping(pool, plab, gens, per, n_out=1500, rng=rng)
    return gt.to_embedding_table(ref), [gt.to_embedding_table(g) for g in out]


FAMILIES: dict[str, tuple[Callable[[str, np.random.Generator, int], Case], list[str]]] = {
    "gaussian_refit": (gaussian_case, ["synthetic", "wine", "breast_cancer", "diabetes"]),
    "truncated_resampling": (truncated_case, ["synthetic", "wine", "breast_cancer", "diabetes"]),
    "zipf_refit": (zipf_case, ["zipf"]),
    "mode_dropping": (modes_case, ["synthetic", "digits"]),
}


def run(ds: pa.Table, ref: pa.Table, opts: ValidateOptions) -> Assessment:
    return assess(ds, ref, classify_schema(ref.schema), opts)


@dataclass
class FamilyRow:
    family: str
    source: str
    rho: list[float]
    mean_risk: list[float]
    seconds: float


def family_rows(seeds: int, gens: int, opts: ValidateOptions) -> list[FamilyRow]:
    rows = []
    for family, (make, sources) in FAMILIES.items():
        for src in sources:
            started, rhos, risks = time.perf_counter(), [], []
            for seed in range(seeds):
                ref, datasets = make(src, np.random.default_rng(seed), gens)
                r = [run(d, ref, opts).collapse.risk for d in datasets]
                risks.append(r)
                rhos.append(float(stats.spearmanr(np.arange(len(r)), r)[0]))
            rows.append(FamilyRow(family, src, rhos, list(np.mean(risks, axis=0)),
                                  time.perf_counter() - started))
            print(f"  {family}/{src}: mean rho {np.mean(rhos):.3f}", file=sys.stderr)
    return rows


def real_pair(src: str, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """(reference, dataset): two independent real samples of one source."""
    if src == "zipf":
        ref, gens = gt.zipf_refit(200, 1.1, 0, n_fit=300, n_out=1000, n_ref=2000, rng=rng)
        return ref, gens[0]
    if src in ("clusters", "digits"):
        x = gt.synthetic_clusters(4000, 32, 20, rng)[0] if src == "clusters" else load_real(
            src)[0]
        ref, other = gt.split_real(x, rng)
        return gt.to_embedding_table(ref), gt.to_embedding_table(other)
    ref, train = source(src, rng)
    return gt.to_table(ref), gt.to_table(train)


NULL_SOURCES = ["synthetic", "wine", "breast_cancer", "diabetes", "zipf", "clusters", "digits"]


def real_vs_real(seeds: int, opts: ValidateOptions) -> dict[str, dict[str, float]]:
    """Share of seeds at "low" when the dataset is an independent real sample."""
    out = {}
    for src in NULL_SOURCES:
        risks = [run(ds, ref, opts).collapse.risk
                 for ref, ds in (real_pair(src, np.random.default_rng(5000 + s))
                                 for s in range(seeds))]
        out[src] = {"low_share": float(np.mean(np.array(risks) < 25)),
                    "max_risk": float(max(risks)), "median_risk": float(np.median(risks))}
        print(f"  real-vs-real/{src}: {out[src]}", file=sys.stderr)
    return out


def affine(t: pa.Table, rng: np.random.Generator) -> Callable[[pa.Table], pa.Table]:
    a = rng.uniform(0.01, 100, t.num_columns)
    b = rng.uniform(-1e3, 1e3, t.num_columns)
    return lambda x: pa.table({n: np.asarray(x.column(n)) * a[j] + b[j]
                               for j, n in enumerate(x.column_names)})


def controls(seeds: int, opts: ValidateOptions) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for src in ["synthetic", "wine", "breast_cancer", "diabetes"]:
        shift, rescale, acc_rho, acc_max = [], [], [], []
        for seed in range(seeds):
            rng = np.random.default_rng(1000 + seed)
            ref, train = source(src, rng)
            r_ref = gt.to_table(ref)
            sd = ref.std(0)
            shifted = run(gt.to_table(train + sd), r_ref, opts)
            shift.append((shifted.collapse.risk, shifted.drift.risk))
            f = affine(r_ref, rng)
            ref_case, gens = gaussian_case(src, np.random.default_rng(seed), 3)
            for g in gens:
                plain = run(g, ref_case, opts).collapse.risk
                scaled = run(f(g), f(ref_case), opts).collapse.risk
                rescale.append(abs(plain - scaled))
            ref_acc, acc = gaussian_case(src, np.random.default_rng(seed), 8, accumulate=True)
            r = [run(d, ref_acc, opts).collapse.risk for d in acc]
            acc_rho.append(float(stats.spearmanr(np.arange(len(r)), r)[0]))
            acc_max.append(max(r))
        out[src] = {
            "mean_shift_collapse_max": float(max(s[0] for s in shift)),
            "mean_shift_drift_min": float(min(s[1] for s in shift)),
            "rescale_max_abs_change": float(max(rescale)),
            "accumulate_rho": float(np.mean(acc_rho)),
            "accumulate_max_risk": float(max(acc_max)),
        }
        print(f"  controls/{src}: {out[src]}", file=sys.stderr)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--generations", type=int, default=8)
    p.add_argument("--null-seeds", type=int, default=20, help="seeds of the real-vs-real control")
    p.add_argument("--quick", action="store_true", help="2 seeds, 4 generations, 12 replicates")
    p.add_argument("--json", default="bench/out/collapse.json")
    args = p.parse_args()
    seeds, gens, reps = (2, 4, 12) if args.quick else (args.seeds, args.generations, 24)
    null_seeds = 3 if args.quick else args.null_seeds
    opts = ValidateOptions(replicates=reps, recommendations=False)
    started = time.perf_counter()
    rows = family_rows(seeds, gens, opts)
    nulls = real_vs_real(null_seeds, opts)
    ctrl = controls(seeds, opts)
    print(f"\n### Collapse families ({seeds} seeds, generations 0..{gens})\n")
    print("| family | source | Spearman rho (mean over seeds) | min rho | risk by generation |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r.family} | {r.source} | {np.mean(r.rho):.3f} | {min(r.rho):.3f} | "
              + " ".join(f"{v:.0f}" for v in r.mean_risk) + " |")
    print(f"\n### Real vs real ({null_seeds} seeds per source)\n")
    print("| source | share at low | median risk | max risk |")
    print("|---|---|---|---|")
    for src, c in nulls.items():
        print(f"| {src} | {c['low_share']:.0%} | {c['median_risk']:.1f} | {c['max_risk']:.1f} |")
    print(f"\n### Controls ({seeds} seeds)\n")
    print("| source | mean shift: max collapse risk | mean shift: min drift "
          "| rescale: max change | accumulate: rho | accumulate: max risk |")
    print("|---|---|---|---|---|---|")
    for src, c in ctrl.items():
        print(f"| {src} | {c['mean_shift_collapse_max']:.1f} "
              f"| {c['mean_shift_drift_min']:.1f} | {c['rescale_max_abs_change']:.2e} "
              f"| {c['accumulate_rho']:.2f} | {c['accumulate_max_risk']:.1f} |")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({
        "families": [r.__dict__ for r in rows], "real_vs_real": nulls, "controls": ctrl,
        "seeds": seeds, "null_seeds": null_seeds,
        "generations": gens, "replicates": reps}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
