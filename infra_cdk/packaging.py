"""Where each Lambda's code comes from, and the paths of the built assets.

Measured (docs/deploy.md): the numeric stack (numpy, scipy, pyarrow, reportlab, ...) is 263 MB
unzipped, over Lambda's 262,144,000-byte limit for a zip function with its layers. So:

- functions that only move job state, talk to DynamoDB, S3 and the WebSocket API run as zip
  functions with two layers: ``synthos`` (the library) and ``base`` (pydantic, pynamodb, jwt,
  argon2, powertools, cryptography);
- functions that run the engine or import it (and the REST API, whose warranty and result
  routes import pyarrow and reportlab) run from one Lambda container image
  (``layers/numeric/Dockerfile``), each with its handler as the image command.

The built paths come from context ``synthos:assets`` (a mapping) and default to
``layers/build/...`` as ``python layers/build_layers.py`` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importable without jsii (layers/build_layers.py reads ZIP_FUNCTIONS)
    from constructs import Node

ROOT = Path(__file__).resolve().parent.parent

# zip + layers; every other function in FUNCTIONS (and the API) runs from the image
# (checked by tests/infra/test_packaging.py: their handlers import nothing from the numeric
# stack; ``layers/build_layers.py --smoke`` imports them with only the two layers)
ZIP_FUNCTIONS: frozenset[str] = frozenset({
    "ClaimJob", "CompleteJob", "FailJob", "WsConnect", "WsDisconnect", "WsAuthorize",
    "SweepStuckJobs", "CleanupUploads", "RevalidateMonitored",
})

# Docker build context = the repository root, less what no image needs
IMAGE_EXCLUDES: tuple[str, ...] = (
    ".git", ".venv", "cdk.out", "layers/build", "tests", "bench", "docs", "events", ".run",
    "**/__pycache__", "*.egg-info", "**/*.egg-info", ".mypy_cache", ".ruff_cache",
    ".pytest_cache", ".hypothesis", "node_modules", "infra_cdk", "chalice.out",
)
LAMBDA_DOCKERFILE = "layers/numeric/Dockerfile"
GPU_DOCKERFILE = "gpu_batch/Dockerfile"


@dataclass(frozen=True)
class AssetPaths:
    synthos_layer: Path   # contains python/synthos/...
    base_layer: Path      # contains python/pydantic/...
    functions_code: Path  # contains functions/...
    docker_context: Path  # repository root (the Lambda image's build context)
    gpu_context: Path     # the GPU image's build context (the repository root)
    gpu_dockerfile: str   # relative to gpu_context


def asset_paths(node: Node) -> AssetPaths:
    given = node.try_get_context("synthos:assets") or {}
    build = ROOT / "layers" / "build"
    defaults = {"synthos_layer": build / "synthos", "base_layer": build / "base",
                "functions_code": build / "functions", "docker_context": ROOT,
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
