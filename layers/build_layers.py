"""Build the Lambda code that CDK ships, under ``layers/build/`` (git-ignored).

    layers/build/synthos/python/synthos/...   the synthos library layer (this repo's package)
    layers/build/base/python/...              pydantic, pynamodb, jwt, argon2, powertools,
                                              cryptography: the light functions' layer
    layers/build/numeric/python/...           numpy, scipy (special only), pyarrow, datasketches,
                                              reportlab, and everything in base: the engine
                                              functions' and the REST API's layer
    layers/build/functions/...                every function's code: ``functions/`` (handlers),
                                              ``app.py`` and Chalice's runtime (``chalice/``)

Dependency layers are installed with pip from manylinux wheels for the Lambda runtime
(``--platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --only-binary=:all:
--python-version 3.12``) whatever this machine is, then stripped of tests, caches, headers,
stubs, Cython sources and what Synthos provably never loads (see ``_prune``); boto3/botocore are
removed because the runtime ships them. Each dependency layer's measured size is recorded in
``layers/{name}/size.json`` (committed: ``tests/infra`` checks the budget from it without a
pip download). The script prints each part's unzipped size against Lambda's limit (function
code plus all its layers, unzipped: 262,144,000 bytes) and exits 1 when a packaging does not
fit. ``--smoke`` then runs ``layers/numeric/smoke.py`` on a Python of the runtime's version
with only the built parts on ``sys.path`` (``layers/smoke_layers.py``).

    python layers/build_layers.py                        # all four (needs PyPI)
    python layers/build_layers.py synthos functions      # just these (a second, offline)
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "layers" / "build"
TARGETS = ("synthos", "base", "functions", "numeric")
# "250 MB unzipped" for the function and all its layers; the service's check is this many bytes
LAMBDA_LIMIT_BYTES = 262_144_000
# numpy >= 2.3 ships only manylinux_2_28 wheels (glibc 2.28): they need the Amazon Linux 2023
# runtimes (python3.12+, glibc 2.34); python3.11 runs on Amazon Linux 2 (glibc 2.26).
PLATFORMS = {"x86_64": ("manylinux_2_28_x86_64", "manylinux2014_x86_64"),
             "arm64": ("manylinux_2_28_aarch64", "manylinux2014_aarch64")}
PYTHON = "3.12"  # the Lambda runtime (infra_cdk uses Runtime.PYTHON_3_12)
PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer")
# the CLI's terminal rendering: never imported on Lambda (synthos.cli is the only user)
CLI_ONLY = ("rich", "pygments", "markdown_it", "mdurl")
# pyarrow parts Synthos never loads on Lambda (S3 goes through boto3; no Flight, Substrait,
# ORC, GCS, Azure, HDFS; the C++ test module; unversioned copies of libs only used to build
# extensions). pyarrow.dataset imports _dataset_orc and pyarrow.substrait inside
# ``try/except ImportError`` (feature flags), so without them Parquet/CSV/JSON work unchanged.
# libarrow_substrait.so.2600 itself (4.4 MB) must stay: pyarrow.lib and libarrow_python
# list it as DT_NEEDED, so the loader refuses pyarrow without it (found by the smoke test).
# What is kept is exercised by layers/numeric/smoke.py.
PYARROW_DROP = ("_substrait.*.so", "substrait.py", "_orc.*.so", "_dataset_orc.*.so", "orc.py",
                "libarrow_flight.so*", "libarrow_python_flight.so*", "_flight.*.so",
                "libarrow_s3.so*", "_s3fs.*.so", "_gcsfs.*.so", "_azurefs.*.so", "_hdfs.*.so",
                "_pyarrow_cpp_tests.*.so", "libarrow_python.so", "libarrow_python.so.*.*.*",
                "libarrow_python_parquet_encryption.so",
                "libarrow_python_parquet_encryption.so.*.*.*")
STRIP_DIRS = ("__pycache__", "tests", "test", "testing", "include", "benchmarks")
STRIP_SUFFIXES = (".pyc", ".pyx", ".pxd", ".pxi", ".h", ".hpp", ".c", ".cc", ".cpp", ".a", ".pyi")
# the only scipy subpackages Synthos loads: the engine imports ``scipy.special`` alone
# (calibration.py, scoring.py; tests/infra/test_packaging.py fails on any other scipy import
# in the Lambda code), which needs ``scipy._lib``; sys.modules after a full validation and
# report (the smoke test) holds no other. Every other subpackage (stats, optimize, sparse,
# linalg, spatial, ...: 41 MB) is deleted. scipy.libs (OpenBLAS) stays: scipy.special loads it.
SCIPY_KEEP = ("_lib", "special")
KEEP_TEST_PACKAGES = ("numpy/testing",)  # numpy imports numpy.testing in places
CHALICE_RUNTIME = ("__init__.py", "app.py")
# which layers each packaging gets (infra_cdk/packaging.py picks one per function)
PACKAGINGS = {"base functions": ("functions", "synthos", "base"),
              "numeric functions and API": ("functions", "synthos", "numeric")}


def tree_bytes(path: Path) -> int:
    """Unzipped size of a directory tree (what Lambda counts against its limit)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _ignore_caches(_dir: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or n.endswith(".pyc")]


def build_synthos(out: Path = BUILD) -> Path:
    """The synthos layer: the package as it is in ``layers/synthos`` (pure Python)."""
    target = out / "synthos" / "python"
    shutil.rmtree(out / "synthos", ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copytree(ROOT / "layers" / "synthos", target / "synthos", ignore=_ignore_caches)
    return out / "synthos"


def build_functions(out: Path = BUILD) -> Path:
    """Every function's code: the ``functions`` package (handlers ``functions.x.handler``), the
    Chalice app ``app.py`` (the REST API's handler ``app.app``) and Chalice's runtime, which is
    ``chalice/__init__.py`` + ``chalice/app.py`` (standard library only: what ``chalice
    package`` ships too), taken from the installed chalice (the ``api`` extra)."""
    target = out / "functions"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copytree(ROOT / "functions", target / "functions", ignore=_ignore_caches)
    shutil.copy2(ROOT / "app.py", target / "app.py")
    spec = importlib.util.find_spec("chalice")
    if spec is None or spec.origin is None:
        raise SystemExit("chalice is not installed here (pip install -e '.[api]')")
    (target / "chalice").mkdir()
    for name in CHALICE_RUNTIME:
        shutil.copy2(Path(spec.origin).parent / name, target / "chalice" / name)
    return target


def _strip(site: Path) -> None:
    _prune(site)
    _strip_symbols(site)


def _prune(site: Path) -> None:
    """Delete what Lambda never loads: tests, headers, stubs, runtime-provided and CLI-only
    packages, unused scipy subpackages and pyarrow components."""
    for path in sorted(site.rglob("*"), reverse=True):
        rel = path.relative_to(site).as_posix()
        if any(rel.startswith(keep) for keep in KEEP_TEST_PACKAGES):
            continue
        if path.is_dir() and path.name in STRIP_DIRS:
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and path.suffix in STRIP_SUFFIXES:
            path.unlink()
    for name in (*PROVIDED_BY_RUNTIME, *CLI_ONLY):
        shutil.rmtree(site / name, ignore_errors=True)
        for info in site.glob(f"{name}-*.dist-info"):
            shutil.rmtree(info)
    if (site / "scipy").is_dir():
        for sub in (site / "scipy").iterdir():
            if sub.is_dir() and sub.name not in SCIPY_KEEP:
                shutil.rmtree(sub)
    shutil.rmtree(site / "pyarrow" / "src", ignore_errors=True)
    for pattern in PYARROW_DROP:
        for path in (site / "pyarrow").glob(pattern):
            path.unlink()


def _strip_symbols(site: Path) -> None:
    """``strip --strip-unneeded`` on the packages' own shared libraries (about 20% off pyarrow);
    skipped with a note where binutils' ``strip`` is not installed. Libraries that auditwheel
    vendored into ``*.libs/`` were rewritten by patchelf, and strip breaks them ("ELF load
    command address/offset not page-aligned", found by the smoke test): left as they are."""
    tool = shutil.which("strip")
    if tool is None:
        print("note: binutils strip not found; shared libraries left unstripped")
        return
    libs = [str(p) for p in site.rglob("*.so*") if p.is_file() and not p.is_symlink()
            and not p.relative_to(site).parts[0].endswith(".libs")]
    for start in range(0, len(libs), 200):
        subprocess.run([tool, "--strip-unneeded", *libs[start:start + 200]], check=True)


def build_deps(name: str, out: Path = BUILD, arch: str = "x86_64",
               python: str = PYTHON) -> Path:
    """A dependency layer (``base`` or ``numeric``) from manylinux wheels for the Lambda
    runtime, installed from ``layers/{name}/requirements.txt`` (needs PyPI)."""
    site = out / name / "python"
    shutil.rmtree(out / name, ignore_errors=True)
    site.mkdir(parents=True)
    platforms = [arg for tag in PLATFORMS[arch] for arg in ("--platform", tag)]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", *platforms,
         "--implementation", "cp", "--python-version", python, "--only-binary=:all:",
         "--target", str(site), "-r", str(ROOT / "layers" / name / "requirements.txt")],
        check=True)
    _strip(site)
    if arch == "x86_64":  # what infra_cdk deploys; an arm64 trial build leaves the record be
        record_size(name, out / name, arch, python)
    return out / name


def requirements_digest(name: str) -> str:
    """sha256 of ``layers/{name}/requirements.txt``: ties a recorded size to the pins."""
    return hashlib.sha256((ROOT / "layers" / name / "requirements.txt").read_bytes()).hexdigest()


def prune_digest() -> str:
    """sha256 of what ``_prune`` deletes and which wheels pip picks: ties a recorded size to
    the pruning rules (a changed rule needs a rebuild to re-measure)."""
    rules = (PLATFORMS, PROVIDED_BY_RUNTIME, CLI_ONLY, PYARROW_DROP, STRIP_DIRS, STRIP_SUFFIXES,
             SCIPY_KEEP, KEEP_TEST_PACKAGES)
    return hashlib.sha256(repr(rules).encode()).hexdigest()


def record_size(name: str, layer: Path, arch: str, python: str) -> Path:
    """Write ``layers/{name}/size.json``: the built layer's unzipped bytes, for the budget test
    (tests/infra/test_packaging.py) that must not need a pip download."""
    path = ROOT / "layers" / name / "size.json"
    path.write_text(json.dumps({
        "layer": name, "unzipped_bytes": tree_bytes(layer), "arch": arch, "python": python,
        "requirements_sha256": requirements_digest(name), "prune_sha256": prune_digest(),
        "command": "python layers/build_layers.py --smoke --runtime-python python3.12",
    }, indent=2) + "\n")
    return path


def function_bytes(sizes: dict[str, int]) -> dict[str, int]:
    """Unzipped bytes of every function (``FUNCTIONS`` and ``Api``) from part sizes (keys:
    ``functions``, ``synthos``, ``base``, ``numeric``): its code plus its two layers."""
    sys.path.insert(0, str(ROOT))
    try:
        from infra_cdk.definition import FUNCTIONS
        from infra_cdk.packaging import layers_of
    finally:
        sys.path.remove(str(ROOT))
    return {name: sizes["functions"] + sum(sizes[layer] for layer in layers_of(name))
            for name in [*FUNCTIONS, "Api"]}


def report(paths: dict[str, Path]) -> bool:
    """Print each part's unzipped size and the total of each packaging (``PACKAGINGS``) against
    Lambda's limit; True when every packaging whose parts were built fits."""
    sizes = {name: tree_bytes(path) for name, path in paths.items()}
    for name, size in sizes.items():
        print(f"{name:10s} {size:13,d} bytes unzipped  ({paths[name]})")
    fits = True
    for label, parts in PACKAGINGS.items():
        if set(parts) <= sizes.keys():
            total = sum(sizes[p] for p in parts)
            ok = total <= LAMBDA_LIMIT_BYTES
            print(f"{label}: {' + '.join(parts)} = {total:,} bytes of Lambda's "
                  f"{LAMBDA_LIMIT_BYTES:,} ({'fits' if ok else 'does NOT fit'}, "
                  f"{LAMBDA_LIMIT_BYTES - total:,} bytes to spare)")
            fits = fits and ok
    return fits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layers", nargs="*", metavar="{" + ",".join(TARGETS) + "}",
                        help="what to build (default: all)")
    parser.add_argument("--arch", default="x86_64", choices=sorted(PLATFORMS))
    parser.add_argument("--out", type=Path, default=BUILD)
    parser.add_argument("--smoke", action="store_true",
                        help=f"then import and run the layers on python{PYTHON}")
    parser.add_argument("--runtime-python", default=f"python{PYTHON}",
                        help="the interpreter standing in for the Lambda runtime (--smoke)")
    args = parser.parse_args(argv)
    unknown = set(args.layers) - set(TARGETS)
    if unknown:
        parser.error(f"unknown layer {', '.join(sorted(unknown))}")
    built: dict[str, Path] = {}
    for name in args.layers or TARGETS:
        if name in ("base", "numeric"):
            built[name] = build_deps(name, args.out, args.arch)
        else:
            built[name] = build_synthos(args.out) if name == "synthos" else build_functions(
                args.out)
    fits = report(built)
    if args.smoke:
        from smoke_layers import smoke  # layers/smoke_layers.py, next to this script

        smoke(args.out, args.runtime_python)
    if not fits:
        print("a packaging does not fit in Lambda's unzipped limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
