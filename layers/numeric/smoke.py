"""Smoke test of the built layers on the Lambda runtime's Python (run by
``python layers/build_layers.py --smoke``): only the layers, the functions' code and boto3 are
on ``sys.path``, as on Lambda. It validates the bundled collapsed sample, renders the PDF
report, signs a payload, round-trips Parquet, then imports every handler module given as an
argument (the numeric functions' and ``app``, the REST API). Prints one line per check, and the
scipy subpackages and pyarrow extensions loaded; exits non-zero on failure."""

import importlib
import io
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from synthos.engine import validate
from synthos.report.pdf import render_report

DATA = Path(__import__("synthos").__file__).parent / "data"
result = validate(DATA / "breast_cancer_synthetic_collapsed.parquet",
                  DATA / "breast_cancer_reference.parquet")
print(f"validate: risk {result.collapse_risk:.1f} {result.risk_level}")
assert (round(result.collapse_risk, 1), result.risk_level) == (85.0, "critical"), result
pdf = io.BytesIO()
render_report(result, pdf)
assert pdf.getvalue().startswith(b"%PDF"), "not a PDF"
print(f"report: {len(pdf.getvalue())} bytes of PDF")
signature = Ed25519PrivateKey.generate().sign(b"synthos")
print(f"ed25519: {len(signature)}-byte signature")
for name in ("pyarrow.parquet", "pyarrow.csv", "pyarrow.json", "pyarrow.compute",
             "pyarrow.dataset", "datasketches", "scipy.special", "pydantic", "pynamodb.models",
             "jwt", "argon2", "aws_lambda_powertools", "aws_xray_sdk", "threadpoolctl"):
    importlib.import_module(name)
print("imports: ok")
with tempfile.TemporaryDirectory() as tmp:
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"x": [1.0, 2.0]}), f"{tmp}/t.parquet")
    print(f"parquet round trip: {pq.read_table(f'{tmp}/t.parquet').num_rows} rows")
for name in sys.argv[1:]:
    importlib.import_module(name)
print(f"handlers: {len(sys.argv) - 1} imported ({', '.join(sys.argv[1:])})")
loaded = sorted({m.split(".")[1] for m in sys.modules if m.startswith("scipy.")})
print(f"scipy subpackages loaded: {', '.join(loaded)}")
print(sys.version.split()[0], "ok")
