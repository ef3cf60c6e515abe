"""Speed and memory of ``synthos.engine.validate``, and its throughput against SDMetrics.

    python bench/bench_speed.py                  # both parts, full size (several minutes)
    python bench/bench_speed.py --quick          # small sizes, a smoke run
    python bench/bench_speed.py --only engine --rows 200000

a. engine: ``--rows`` (1M) x 32 numeric columns, dataset and reference drawn from the same
   seeded distribution and written as Parquet; one ``validate`` in a fresh process.
   Bars: < 60 s wall, < 2 GB peak RSS.
b. sdmetrics: the same ``--compare-rows`` (100k) x 20 table (15 numeric + 5 categorical, a few
   missing values) given to Synthos ``validate`` (as Parquet files) and to SDMetrics
   ``QualityReport.generate`` (as DataFrames read from those files, reading not timed); each in
   its own fresh process. Throughput = synthetic rows / wall seconds. Bar: Synthos >= 20x.
   The two tools alternate ``--repeat`` times (default 3) and the medians are compared, since
   other work on the machine skews single timings; a third fresh process splits Synthos' time
   into its stages (profiling both files, signals and calibration, recommendations).

Prints markdown tables and writes ``bench/out/speed.json``. Part a runs once.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from _measure import MIB, Measurement, measure, measure_in_subprocess

OUT_DIR = Path(__file__).resolve().parent / "out"
ENGINE_SECONDS_BAR = 60.0
ENGINE_RSS_BAR_BYTES = 2_000_000_000
THROUGHPUT_RATIO_BAR = 20.0
N_NUMERIC, N_CATEGORICAL = 15, 5
CHUNK_ROWS = 131_072


# --- data ------------------------------------------------------------------------------------


def _numeric_column(rng: np.random.Generator, j: int, n: int) -> np.ndarray:
    """Column ``j`` of a fixed mix of shapes: normal, lognormal, uniform, integer counts."""
    shape = j % 4
    if shape == 0:
        return rng.normal(j, 1 + j % 5, n)
    if shape == 1:
        return rng.lognormal(0, 0.5 + 0.1 * (j % 3), n)
    if shape == 2:
        return rng.uniform(-j, j + 1, n)
    return rng.poisson(3 + j % 7, n).astype(np.float64)


def write_numeric_parquet(path: Path, rows: int, cols: int, seed: int) -> None:
    """``rows`` x ``cols`` float64 columns ``x00..``, written in chunks to bound memory."""
    rng = np.random.default_rng(seed)
    names = [f"x{j:02d}" for j in range(cols)]
    schema = pa.schema([(name, pa.float64()) for name in names])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, CHUNK_ROWS):
            n = min(CHUNK_ROWS, rows - start)
            arrays = [pa.array(_numeric_column(rng, j, n)) for j in range(cols)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))


def mixed_table(rows: int, seed: int, shift: float) -> pa.Table:
    """``rows`` x (15 numeric + 5 categorical); ``shift`` moves the numeric locations.

    Column shapes and category probabilities are fixed; ``seed`` only draws the rows.
    """
    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    for j in range(N_NUMERIC):
        values = _numeric_column(rng, j, rows) + shift
        columns[f"num_{j:02d}"] = pa.array(values, mask=rng.random(rows) < 0.02)
    for j in range(N_CATEGORICAL):
        vocab = np.array([f"c{j}_{k}" for k in range(3 + 4 * j)], dtype=object)
        probs = np.random.default_rng(100 + j).dirichlet(np.ones(vocab.size) * 2)  # fixed
        labels = rng.choice(vocab, rows, p=probs)
        columns[f"cat_{j}"] = pa.array(labels, type=pa.string(), mask=rng.random(rows) < 0.02)
    return pa.table(columns)


def sdmetrics_metadata(table: pa.Table) -> dict[str, Any]:
    """Single-table SDMetrics metadata: numeric columns numerical, strings categorical."""
    return {
        "columns": {
            field.name: {"sdtype": "categorical" if pa.types.is_string(field.type) else "numerical"}
            for field in table.schema
        }
    }


# --- timed children (module level: they run in spawned processes) -------------------------


def engine_child(dataset: str, reference: str) -> Measurement:
    """One ``validate`` with default options; imports are not timed."""
    from synthos.engine import ValidateOptions, validate

    with measure() as m:
        result = validate(dataset, reference, options=ValidateOptions())
    m.value = {"collapse_risk": result.collapse_risk, "engine_seconds": result.engine.seconds}
    return m


def stages_child(dataset: str, reference: str) -> Measurement:
    """Synthos' time by stage, as ``validate`` runs them: profiling both files (two threads),
    ``assess`` without recommendations, and the recommendations (the difference)."""
    from concurrent.futures import ThreadPoolExecutor

    from synthos.engine import ValidateOptions, _profile, assess, compare_schemas

    opts = ValidateOptions()
    with measure() as m:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            jobs = [pool.submit(_profile, path, opts, role, None)
                    for path, role in ((dataset, "dataset"), (reference, "reference"))]
            ds, ref = (j.result() for j in jobs)
        common, _ = compare_schemas(ds.specs, ref.specs)
        t1 = time.perf_counter()
        assess(ds.sample, ref.sample, common, ValidateOptions(recommendations=False))
        t2 = time.perf_counter()
        assess(ds.sample, ref.sample, common, opts)
        t3 = time.perf_counter()
    m.value = {"profile_s": t1 - t0, "signals_s": t2 - t1,
               "recommendations_s": (t3 - t2) - (t2 - t1)}
    return m


def sdmetrics_child(real: str, synthetic: str, metadata: dict[str, Any]) -> Measurement:
    """One ``QualityReport.generate``; imports and reading the Parquet files are not timed."""
    import pandas as pd
    from sdmetrics.reports.single_table import QualityReport

    real_df, synthetic_df = pd.read_parquet(real), pd.read_parquet(synthetic)
    report = QualityReport()
    with measure() as m:
        report.generate(real_df, synthetic_df, metadata, verbose=False)
    m.value = {"quality_score": float(report.get_score())}
    return m


# --- parts -----------------------------------------------------------------------------------


def run_engine_part(tmp: Path, rows: int, cols: int, timeout_s: float) -> dict[str, Any]:
    dataset, reference = tmp / "dataset.parquet", tmp / "reference.parquet"
    write_numeric_parquet(dataset, rows, cols, seed=1)
    write_numeric_parquet(reference, rows, cols, seed=2)
    m = measure_in_subprocess(engine_child, str(dataset), str(reference), timeout_s=timeout_s)
    inner: Measurement = m.value
    return {
        "rows": rows,
        "columns": cols,
        "file_mib": round((dataset.stat().st_size + reference.stat().st_size) / MIB, 1),
        **inner.summary(),
        **inner.value,
    }


def _summary(runs: list[Measurement], rows: int) -> dict[str, Any]:
    """The median run's numbers, with every run's wall seconds."""
    median = statistics.median(m.seconds for m in runs)
    mid = min(runs, key=lambda m: abs(m.seconds - median))
    return {**mid.summary(), **mid.value, "seconds": round(median, 3),
            "runs_seconds": [round(m.seconds, 3) for m in runs],
            "rows_per_second": round(rows / median, 1)}


def run_compare_part(tmp: Path, rows: int, timeout_s: float, repeat: int) -> dict[str, Any]:
    real_table = mixed_table(rows, seed=3, shift=0.0)
    real, synthetic = tmp / "real.parquet", tmp / "synthetic.parquet"
    pq.write_table(real_table, real)
    pq.write_table(mixed_table(rows, seed=4, shift=0.05), synthetic)
    metadata = sdmetrics_metadata(real_table)
    runs: dict[str, list[Measurement]] = {"synthos": [], "sdmetrics": []}
    for i in range(repeat):  # alternate, and alternate who goes first, so load hits both alike
        order = ("synthos", "sdmetrics") if i % 2 == 0 else ("sdmetrics", "synthos")
        for name in order:
            if name == "synthos":
                m = measure_in_subprocess(engine_child, str(synthetic), str(real),
                                          timeout_s=timeout_s)
            else:
                m = measure_in_subprocess(sdmetrics_child, str(real), str(synthetic), metadata,
                                          timeout_s=timeout_s)
            runs[name].append(m.value)
    stages = measure_in_subprocess(stages_child, str(synthetic), str(real),
                                   timeout_s=timeout_s).value.value
    tools = {name: _summary(r, rows) for name, r in runs.items()}
    ratio = tools["synthos"]["rows_per_second"] / tools["sdmetrics"]["rows_per_second"]
    return {"rows": rows, "columns": N_NUMERIC + N_CATEGORICAL, "repeat": repeat, **tools,
            "synthos_stages": {k: round(v, 3) for k, v in stages.items()}, "ratio": ratio}


# --- report ----------------------------------------------------------------------------------


def _verdict(ok: bool, judged: bool) -> str:
    if not judged:
        return "not judged (quick)"
    return "PASS" if ok else "MISS"


def engine_markdown(r: dict[str, Any], judged: bool) -> str:
    ok_s = r["seconds"] < ENGINE_SECONDS_BAR
    ok_m = r["peak_rss_mib"] * MIB < ENGINE_RSS_BAR_BYTES
    return "\n".join(
        [
            f"### a. validate, {r['rows']:,} rows x {r['columns']} numeric "
            f"(Parquet, {r['file_mib']} MiB both files)",
            "",
            "| measure | value | bar | verdict |",
            "| --- | --- | --- | --- |",
            f"| wall seconds | {r['seconds']:.1f} | < {ENGINE_SECONDS_BAR:.0f} s "
            f"| {_verdict(ok_s, judged)} |",
            f"| peak RSS (MiB) | {r['peak_rss_mib']:.0f} (+{r['peak_delta_mib']:.0f} in call) "
            f"| < 2 GB ({ENGINE_RSS_BAR_BYTES / MIB:.0f} MiB) | {_verdict(ok_m, judged)} |",
            f"| engine.seconds | {r['engine_seconds']:.1f} | | |",
            f"| collapse_risk | {r['collapse_risk']:.3f} | | |",
        ]
    )


def _runs(tool: dict[str, Any]) -> str:
    return " ".join(f"{v:.2f}" for v in tool["runs_seconds"])


def compare_markdown(r: dict[str, Any], judged: bool) -> str:
    s, d, st = r["synthos"], r["sdmetrics"], r["synthos_stages"]
    ok = r["ratio"] >= THROUGHPUT_RATIO_BAR
    return "\n".join(
        [
            f"### b. throughput, same {r['rows']:,} rows x {r['columns']} columns "
            f"({N_NUMERIC} numeric + {N_CATEGORICAL} categorical)",
            "",
            f"| tool | wall seconds (median of {r['repeat']}) | runs | rows / second "
            "| peak RSS (MiB) | score |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| Synthos validate | {s['seconds']:.2f} | {_runs(s)} | {s['rows_per_second']:,.0f} "
            f"| {s['peak_rss_mib']:.0f} | collapse_risk {s['collapse_risk']:.3f} |",
            f"| SDMetrics QualityReport | {d['seconds']:.2f} | {_runs(d)} "
            f"| {d['rows_per_second']:,.0f} "
            f"| {d['peak_rss_mib']:.0f} | quality {d['quality_score']:.3f} |",
            "",
            f"Throughput ratio Synthos / SDMetrics: **{r['ratio']:.1f}x** "
            f"(bar >= {THROUGHPUT_RATIO_BAR:.0f}x: {_verdict(ok, judged)})",
            "",
            "Synthos by stage (one more run): profiling both files "
            f"{st['profile_s']:.2f} s, signals and calibration {st['signals_s']:.2f} s, "
            f"recommendations {st['recommendations_s']:.2f} s",
        ]
    )


def machine() -> dict[str, Any]:
    import psutil
    import sdmetrics

    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "logical_cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),  # other work skews timings
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pyarrow": pa.__version__,
        "sdmetrics": sdmetrics.__version__,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, help="rows per side for part a (default 1M; quick 20k)")
    p.add_argument("--compare-rows", type=int, help="rows for part b (default 100k; quick 5k)")
    p.add_argument("--columns", type=int, default=32, help="numeric columns for part a")
    p.add_argument("--quick", action="store_true", help="small sizes; bars are not judged")
    p.add_argument("--only", choices=["engine", "sdmetrics", "all"], default="all")
    p.add_argument("--repeat", type=int, default=3, help="alternating runs of each tool (b)")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per timed call")
    p.add_argument("--out", type=Path, default=OUT_DIR / "speed.json")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    compare_rows = args.compare_rows or (5_000 if args.quick else 100_000)
    judged = not args.quick
    report: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    with tempfile.TemporaryDirectory(prefix="synthos-bench-") as tmp:
        if args.only in ("engine", "all"):
            report["engine"] = run_engine_part(Path(tmp), rows, args.columns, args.timeout)
            print(engine_markdown(report["engine"], judged), end="\n\n", flush=True)
        if args.only in ("sdmetrics", "all"):
            report["compare"] = run_compare_part(Path(tmp), compare_rows, args.timeout,
                                                 max(1, args.repeat))
            print(compare_markdown(report["compare"], judged), end="\n\n", flush=True)
    m = report["machine"]
    print(
        f"machine: {m['machine']}, {m['logical_cpus']} CPUs, {m['memory_gib']} GiB RAM; "
        f"load average at start {m['load_avg_1m_at_start']}, at end {os.getloadavg()[0]:.2f}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
