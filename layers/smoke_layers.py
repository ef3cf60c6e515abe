"""The ``--smoke`` step of ``layers/build_layers.py``: the built layers on a Python of the Lambda
runtime's version with only them (and boto3, which the runtime provides) on ``sys.path``."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _handler_modules() -> dict[str, list[str]]:
    """The handler modules each dependency layer must import: ``base`` for
    ``packaging.BASE_FUNCTIONS``, ``numeric`` for every other function and the API (``app``)."""
    sys.path.insert(0, str(ROOT))
    try:
        from infra_cdk.definition import FUNCTIONS
        from infra_cdk.packaging import BASE_FUNCTIONS
    finally:
        sys.path.remove(str(ROOT))
    module = {name: handler.rsplit(".", 1)[0] for name, handler in FUNCTIONS.items()}
    return {"base": sorted(m for n, m in module.items() if n in BASE_FUNCTIONS),
            "numeric": [*sorted(m for n, m in module.items() if n not in BASE_FUNCTIONS),
                        "app"]}


def _interpreter(python: str) -> str:
    """The real executable behind ``python`` (a pyenv shim needs the caller's environment)."""
    out = subprocess.run([python, "-c", "import sys; print(sys.executable)"], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def smoke(out: Path, python: str) -> None:
    """On the runtime's Python, with boto3/botocore/s3transfer standing in for the Lambda
    runtime and only the built parts on ``sys.path``: ``layers/numeric/smoke.py`` with the
    numeric layer (validate, report, sign, Parquet, then every numeric handler and the API
    imported), and an import of every base function's handler with the base layer. No bytecode
    is written into the layers (CDK would ship it)."""
    import boto3
    import botocore
    import s3transfer

    executable = _interpreter(python)
    modules = _handler_modules()
    with tempfile.TemporaryDirectory(prefix="synthos-lambda-runtime-") as runtime:
        for module in (boto3, botocore, s3transfer):
            source = Path(module.__file__).parent
            (Path(runtime) / source.name).symlink_to(source)
        env = {"PATH": os.environ.get("PATH", ""), "HOME": runtime, "PYTHONDONTWRITEBYTECODE": "1",
               "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
        layers = [out / "synthos" / "python", out / "functions", Path(runtime)]
        if (out / "numeric").is_dir():
            path = [*layers, out / "numeric" / "python"]
            subprocess.run([executable, "-S", str(ROOT / "layers" / "numeric" / "smoke.py"),
                            *modules["numeric"]],
                           env={**env, "PYTHONPATH": os.pathsep.join(map(str, path))},
                           check=True)
        if (out / "base").is_dir():
            path = [*layers, out / "base" / "python"]
            code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
            subprocess.run([executable, "-S", "-c", code, *modules["base"]],
                           env={**env, "PYTHONPATH": os.pathsep.join(map(str, path))},
                           check=True)
            print(f"base handlers import with synthos + base only: {', '.join(modules['base'])}")
