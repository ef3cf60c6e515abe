"""Which layers each Lambda gets, and the paths of the built assets.

Every function is a zip function (Python 3.12, x86_64) with the same code asset (``functions/``,
``app.py`` and Chalice's runtime) and two layers, measured by ``layers/build_layers.py`` and
checked against Lambda's 262,144,000-byte unzipped limit by tests/infra/test_packaging.py
(docs/deploy.md has the numbers):

- ``synthos`` + ``base`` (pydantic, pynamodb, jwt, argon2, powertools, cryptography) for the
  functions that only move job state and talk to DynamoDB, S3 and the WebSocket API
  (``BASE_FUNCTIONS``: a smaller layer, a faster cold start);
- ``synthos`` + ``numeric`` (numpy, scipy.special, pyarrow, datasketches, reportlab, and all of
  base) for every other function and the REST API (its warranty and result routes import
  pyarrow and reportlab).

The built paths come from context ``synthos:assets`` (a mapping) and default to
``layers/build/...`` as ``python layers/build_layers.py`` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importable without jsii (layers/build_layers.py reads BASE_FUNCTIONS)
    from constructs import Node

ROOT = Path(__file__).resolve().parent.parent

# synthos + base; every other function in FUNCTIONS (and the API) gets synthos + numeric
# (checked by tests/infra/test_packaging.py: their handlers import nothing from the numeric
# stack; ``layers/build_layers.py --smoke`` imports them with only these two layers).
# ClaimJob is not here: it inspects uploads that ask for no validation (pyarrow readers).
BASE_FUNCTIONS: frozenset[str] = frozenset({
    "CompleteJob", "FailJob", "WsConnect", "WsDisconnect", "WsAuthorize",
    "SweepStuckJobs", "CleanupUploads", "RevalidateMonitored",
})


def layers_of(name: str) -> tuple[str, str]:
    """The two layers (``layers/build/{layer}``) of function ``name`` (``Api`` included)."""
    return ("synthos", "base") if name in BASE_FUNCTIONS else ("synthos", "numeric")


# the GPU image's Docker build context = the repository root, less what no image needs
IMAGE_EXCLUDES: tuple[str, ...] = (
    ".git", ".venv", "cdk.out", "layers/build", "tests", "bench", "docs", "events", ".run",
    "**/__pycache__", "*.egg-info", "**/*.egg-info", ".mypy_cache", ".ruff_cache",
    ".pytest_cache", ".hypothesis", "node_modules", "infra_cdk", "chalice.out",
)
GPU_DOCKERFILE = "gpu_batch/Dockerfile"


@dataclass(frozen=True)
class AssetPaths:
    synthos_layer: Path   # contains python/synthos/...
    base_layer: Path      # contains python/pydantic/...
    numeric_layer: Path   # contains python/numpy/... (and everything in base)
    functions_code: Path  # contains functions/..., app.py, chalice/
    gpu_context: Path     # the GPU image's build context (the repository root)
    gpu_dockerfile: str   # relative to gpu_context


def asset_paths(node: Node) -> AssetPaths:
    given = node.try_get_context("synthos:assets") or {}
    build = ROOT / "layers" / "build"
    defaults = {"synthos_layer": build / "synthos", "base_layer": build / "base",
                "numeric_layer": build / "numeric", "functions_code": build / "functions",
                "gpu_context": ROOT}
    paths = {k: Path(given.get(k, v)) for k, v in defaults.items()}
    missing = [f"{k}={p}" for k, p in paths.items() if not p.is_dir()]
    if missing:
        raise FileNotFoundError(
            "built assets missing (run `python layers/build_layers.py`): " + ", ".join(missing))
    dockerfile = str(given.get("gpu_dockerfile", GPU_DOCKERFILE))
    if not (paths["gpu_context"] / dockerfile).is_file():
        raise FileNotFoundError(f"the GPU image recipe {paths['gpu_context'] / dockerfile} "
                                "is missing")
    return AssetPaths(gpu_dockerfile=dockerfile, **paths)
