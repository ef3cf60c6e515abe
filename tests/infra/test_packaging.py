"""Code packaging, stage configuration and the layer builder (no synth needed)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "layers"))
import build_layers  # noqa: E402

sys.path.remove(str(ROOT / "layers"))

BLOCKER = """
import importlib, importlib.abc, sys
HEAVY = {"numpy", "scipy", "pyarrow", "reportlab", "PIL", "datasketches", "rich", "chalice"}
class Heavy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in HEAVY:
            raise ImportError("not in the zip functions' layers: " + name)
sys.meta_path.insert(0, Heavy())
for module in sys.argv[1:]:
    importlib.import_module(module)
"""


class FakeNode:
    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context

    def try_get_context(self, key: str) -> Any:
        return self.context.get(key)


def test_base_layer_function_handlers_import_nothing_from_the_numeric_stack() -> None:
    from infra_cdk.definition import FUNCTIONS
    from infra_cdk.packaging import BASE_FUNCTIONS

    # Setup: the handler modules of the functions on the base layer
    modules = [FUNCTIONS[n].rsplit(".", 1)[0] for n in sorted(BASE_FUNCTIONS & FUNCTIONS.keys())]
    env = {**os.environ, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    # Run: import them with numpy, scipy, pyarrow, reportlab, ... made unimportable
    out = subprocess.run([sys.executable, "-c", BLOCKER, *modules], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    # Assert
    assert out.returncode == 0, out.stderr[-2000:]
    assert len(modules) >= 5


def test_stage_config_dev_prod_and_unknown() -> None:
    from aws_cdk import RemovalPolicy
    from infra_cdk.config import ConfigError, stage_config

    # Run/Assert: dev is the default; prod retains data; origins are split
    dev = stage_config(FakeNode({}))  # type: ignore[arg-type]
    prod = stage_config(FakeNode({"stage": "prod",  # type: ignore[arg-type]
                                  "synthos:cors_origins": "https://a.example, https://b.example"}))
    assert (dev.stage, dev.prefix, dev.removal_policy) == ("dev", "synthos-dev",
                                                           RemovalPolicy.DESTROY)
    assert prod.removal_policy == RemovalPolicy.RETAIN
    assert prod.cors_origins == ("https://a.example", "https://b.example")
    with pytest.raises(ConfigError, match="unknown stage 'qa'"):
        stage_config(FakeNode({"stage": "qa"}))  # type: ignore[arg-type]


def test_missing_built_assets_name_the_build_command(tmp_path: Path) -> None:
    from infra_cdk.packaging import asset_paths

    node = FakeNode({"synthos:assets": {"base_layer": str(tmp_path / "nope")}})
    with pytest.raises(FileNotFoundError, match=r"build_layers\.py.*base_layer"):
        asset_paths(node)  # type: ignore[arg-type]


def test_synthos_layer_and_functions_are_copied_without_caches(tmp_path: Path) -> None:
    # Run
    layer = build_layers.build_synthos(tmp_path)
    code = build_layers.build_functions(tmp_path)
    # Assert: the package under python/, handlers under functions/, the Chalice app and
    # Chalice's runtime (two files, standard library only) at the root, no bytecode
    assert (layer / "python" / "synthos" / "aws" / "settings.py").is_file()
    assert (code / "functions" / "claim_job.py").is_file()
    assert (code / "app.py").read_text() == (ROOT / "app.py").read_text()
    assert sorted(p.name for p in (code / "chalice").iterdir()) == ["__init__.py", "app.py"]
    assert not list(tmp_path.rglob("__pycache__"))


def test_strip_removes_tests_runtime_provided_and_unused_pyarrow(tmp_path: Path) -> None:
    # Setup: a fake site-packages
    files = ["numpy/core.py", "numpy/tests/test_x.py", "numpy/testing/utils.py",
             "boto3/__init__.py", "boto3-1.0.dist-info/METADATA", "rich/__init__.py",
             "pyarrow/libarrow.so.2600", "pyarrow/libarrow_flight.so.2600",
             "pyarrow/_flight.cpython-312-x86_64-linux-gnu.so", "pyarrow/include/arrow.h",
             "pyarrow/_substrait.cpython-312-x86_64-linux-gnu.so", "pyarrow/substrait.py",
             "pyarrow/_orc.cpython-312-x86_64-linux-gnu.so", "pyarrow/orc.py",
             "pyarrow/_dataset_orc.cpython-312-x86_64-linux-gnu.so",
             "pyarrow/libarrow_substrait.so.2600", "scipy/__init__.py",
             "scipy/special/_ufuncs.so", "scipy/_lib/_util.py", "scipy/stats/__init__.py",
             "scipy/linalg/_flapack.so", "scipy/io/__init__.py", "x/stub.pyi"]
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x" * 10)
    # Run
    build_layers._prune(tmp_path)
    left = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    # Assert
    # (libarrow_substrait stays: pyarrow.lib lists it as DT_NEEDED)
    assert left == {"numpy/core.py", "numpy/testing/utils.py", "pyarrow/libarrow.so.2600",
                    "pyarrow/libarrow_substrait.so.2600", "scipy/__init__.py",
                    "scipy/special/_ufuncs.so", "scipy/_lib/_util.py"}
    assert build_layers.tree_bytes(tmp_path) == 70


def _recorded(layer: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / "layers" / layer / "size.json").read_text()))


def test_recorded_layer_sizes_are_current() -> None:
    # GIVEN the sizes the build recorded (committed; the layers need pip to build)
    for layer in ("base", "numeric"):
        record = _recorded(layer)
        # THEN they were measured with today's pins, pruning rules, runtime and architecture
        assert record["requirements_sha256"] == build_layers.requirements_digest(layer), (
            f"layers/{layer}/requirements.txt changed: re-run layers/build_layers.py")
        assert record["prune_sha256"] == build_layers.prune_digest(), (
            "the pruning rules changed: re-run layers/build_layers.py")
        assert (record["arch"], record["python"]) == ("x86_64", build_layers.PYTHON)
        # and agree with the build on this machine when there is one
        built = build_layers.BUILD / layer
        if (built / "python").is_dir():
            assert build_layers.tree_bytes(built) == record["unzipped_bytes"], layer


def test_every_function_fits_lambdas_unzipped_limit(tmp_path: Path) -> None:
    # GIVEN the recorded dependency layers, and the synthos layer and code measured live
    sizes = {layer: int(_recorded(layer)["unzipped_bytes"]) for layer in ("base", "numeric")}
    sizes["synthos"] = build_layers.tree_bytes(build_layers.build_synthos(tmp_path))
    sizes["functions"] = build_layers.tree_bytes(build_layers.build_functions(tmp_path))
    # WHEN each function's code and two layers are added up
    totals = build_layers.function_bytes(sizes)
    # THEN every one fits Lambda's 262,144,000 unzipped bytes, the engine's with the numeric
    # layer included (it is by far the largest)
    over = {n: t for n, t in totals.items() if t > build_layers.LAMBDA_LIMIT_BYTES}
    assert not over, f"over Lambda's unzipped limit: {over}"
    numeric = sizes["functions"] + sizes["synthos"] + sizes["numeric"]
    assert totals["RunValidation"] == totals["Api"] == numeric == max(totals.values())
    assert sizes["numeric"] > 100_000_000  # a real measurement, not a placeholder


def test_function_bytes_add_code_and_the_two_layers() -> None:
    # GIVEN made-up part sizes (hand-computed totals)
    sizes = {"functions": 1, "synthos": 10, "base": 100, "numeric": 1000}
    # WHEN / THEN: code + synthos + base, or code + synthos + numeric
    totals = build_layers.function_bytes(sizes)
    assert totals["CompleteJob"] == 111 and totals["RunValidation"] == totals["Api"] == 1011


def _module_file(name: str) -> Path | None:
    base = ROOT / "layers" / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """Every absolute import in a module, at any depth (lazy imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def test_lambda_code_imports_only_the_kept_scipy_and_pyarrow_parts() -> None:
    # GIVEN every module the handlers and the API can reach (static closure over synthos)
    todo = [ROOT / "app.py", *sorted((ROOT / "functions").glob("*.py"))]
    seen: set[Path] = set()
    external: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "synthos":
                external.add(name)
            found = [_module_file(".".join(parts[:i])) for i in range(1, len(parts) + 1)]
            todo += [f for f in found if f is not None and parts[0] == "synthos"]
    # THEN scipy is used through its kept subpackages only, and no dropped pyarrow part
    scipy = {n.split(".")[1] for n in external if n.startswith("scipy.")}
    assert scipy and scipy <= set(build_layers.SCIPY_KEEP), scipy
    dropped = {"pyarrow.substrait", "pyarrow.orc", "pyarrow.flight", "pyarrow._s3fs"}
    assert not {n for n in external if ".".join(n.split(".")[:2]) in dropped}
    assert ROOT / "layers" / "synthos" / "calibration.py" in seen  # the engine is reached


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(path: str, patterns: list[str]) -> bool:
    import fnmatch

    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.lstrip("*/"))
               for pattern in patterns for prefix in prefixes)


def test_dockerignore_keeps_local_state_out_of_the_image_contexts() -> None:
    # GIVEN the root .dockerignore (the build context of both images is the repo root)
    from infra_cdk.packaging import IMAGE_EXCLUDES

    patterns = _dockerignore()
    # THEN the local state is out, and it agrees with what CDK excludes from the asset
    for path in (".venv/bin/python", "layers/build/synthos/python/x.py", "cdk.out/a.json",
                 ".run/state.json", "bench/out/r.json", ".git/HEAD",
                 "layers/synthos/__pycache__/x.pyc", ".mypy_cache/x", ".pytest_cache/x"):
        assert _ignored(path, patterns), path
    assert set(IMAGE_EXCLUDES) <= set(patterns)
    # and nothing a Dockerfile COPYs is excluded
    for path in ("pyproject.toml", "README.md", "layers/synthos/engine.py",
                 "functions/claim_job.py", "app.py", "gpu_batch/entrypoint.py",
                 "layers/numeric/requirements.txt"):
        assert (ROOT / path).exists() and not _ignored(path, patterns), path
