"""The CLI contract: exit codes, one-line errors, the JSON file."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from synthos import groundtruth as gt
from synthos.cli import main


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(3)
    x = gt.synthetic_gaussian(1200, 4, rng)
    ref, ds = tmp_path / "ref.parquet", tmp_path / "ds.parquet"
    pq.write_table(gt.to_table(x[:600]), ref)
    pq.write_table(gt.to_table(x[600:]), ds)
    tiled = tmp_path / "tiled.parquet"
    pq.write_table(gt.to_table(np.tile(x[:10], (100, 1))), tiled)
    return ref, ds, tiled


def test_validate_writes_json_and_exits_0(files, tmp_path, capsys):
    ref, ds, _ = files
    out = tmp_path / "result.json"
    code = main(["validate", str(ds), "--reference", str(ref), "--json", str(out),
                 "--replicates", "8", "--no-recommendations"])
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["risk_level"] == "low"
    assert doc["engine"]["seed"] == 0
    assert "collapse risk" in capsys.readouterr().out


def test_fail_on_exits_3(files):
    ref, _, tiled = files
    code = main(["validate", str(tiled), "-r", str(ref), "--fail-on", "high", "-q",
                 "--replicates", "8", "--no-recommendations"])
    assert code == 3


@pytest.mark.parametrize("argv", [
    ["validate", "/no/such/file.parquet"],
    ["validate", "{ds}", "--reference", "/no/such/ref.csv"],
    ["validate", "{ds}", "--sample-rows", "0"],
    ["validate", "{ds}", "--fail-on", "purple"],
    ["frobnicate"],
])
def test_bad_input_exits_2_with_one_line(files, capsys, argv):
    _, ds, _ = files
    code = main([a.replace("{ds}", str(ds)) for a in argv])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("synthos: error:")
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_seed_makes_results_reproducible(files, tmp_path):
    ref, ds, _ = files
    docs = []
    for name in ("a.json", "b.json"):
        main(["validate", str(ds), "-r", str(ref), "--json", str(tmp_path / name), "-q",
              "--replicates", "8", "--seed", "5", "--no-recommendations"])
        docs.append(json.loads((tmp_path / name).read_text()))
    assert docs[0]["collapse_risk"] == docs[1]["collapse_risk"]
    assert docs[0]["signals"] == docs[1]["signals"]
