"""Regenerate the bundled sample data in layers/synthos/data/ (needs the dev extras).

    python bench/make_samples.py

From scikit-learn's breast-cancer data (569 real rows, 30 columns): a real reference half, a
healthy synthetic set (Gaussian copula of the other half, marginals interpolated between order
statistics) and a collapsed one (a copula with empirical marginals refit on its own output for 6
generations). Seeds fixed; files are small.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from sklearn.datasets import load_breast_cancer

from synthos import groundtruth as gt

OUT = Path(__file__).resolve().parents[1] / "layers" / "synthos" / "data"


def main() -> None:
    bunch = load_breast_cancer()
    names = [n.replace(" ", "_") for n in bunch.feature_names]
    rng = np.random.default_rng(2024)
    ref, train = gt.split_real(bunch.data, rng)
    healthy = gt.copula_sample(train, 1000, rng)
    collapsed = gt.copula_refit(train, 6, n_fit=150, n_out=1000, rng=rng)[6]

    def table(x):
        t = gt.to_table(x)
        return t.rename_columns(names)

    OUT.mkdir(parents=True, exist_ok=True)
    pq.write_table(table(ref), OUT / "breast_cancer_reference.parquet")
    pq.write_table(table(healthy), OUT / "breast_cancer_synthetic_healthy.parquet")
    pq.write_table(table(collapsed), OUT / "breast_cancer_synthetic_collapsed.parquet")


if __name__ == "__main__":
    main()
