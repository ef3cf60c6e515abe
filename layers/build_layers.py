"""Build the Lambda code that CDK ships, under ``layers/build/`` (git-ignored).

    layers/build/synthos/python/synthos/...   the synthos library layer (this repo's package)
    layers/build/base/python/...              pydantic, pynamodb, jwt, argon2, powertools,
                                              cryptography: the zip functions' dependency layer
    layers/build/functions/functions/...      the zip functions' code (handlers)
    layers/build/numeric/python/...           numpy, scipy, pyarrow, ...: built to measure it
                                              (263 MB: over the limit, so the engine functions
                                              and the API run from layers/numeric/Dockerfile)

Dependency layers are installed with pip from manylinux wheels for the Lambda runtime
(``--platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --only-binary=:all:
--python-version 3.12``) whatever this machine is, then stripped of tests, caches, headers,
stubs and Cython sources; boto3/botocore are removed because the runtime ships them. The script
prints each part's unzipped size against Lambda's limit (function code plus all its layers,
unzipped: 262,144,000 bytes) and exits 1 when the zip functions would not fit. ``--smoke``
then runs ``layers/numeric/smoke.py`` on a Python of the runtime's version with only the built
parts on ``sys.path``.

    python layers/build_layers.py                        # all four (needs PyPI)
    python layers/build_layers.py synthos functions      # just these (a second, offline)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
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
# GCS, Azure, HDFS; the C++ test module; unversioned copies of libs only used to build
# extensions); what is kept is imported by the smoke test in docs/deploy.md
PYARROW_DROP = ("libarrow_flight.so*", "libarrow_python_flight.so*", "_flight.*.so",
                "libarrow_s3.so*", "_s3fs.*.so", "_gcsfs.*.so", "_azurefs.*.so", "_hdfs.*.so",
                "_pyarrow_cpp_tests.*.so", "libarrow_python.so", "libarrow_python.so.*.*.*",
                "libarrow_python_parquet_encryption.so",
                "libarrow_python_parquet_encryption.so.*.*.*")
STRIP_DIRS = ("__pycache__", "tests", "test", "testing", "include", "benchmarks")
STRIP_SUFFIXES = (".pyc", ".pyx", ".pxd", ".pxi", ".h", ".hpp", ".c", ".cc", ".cpp", ".a", ".pyi")
# scipy subpackages that neither the engine nor scipy.stats import (checked with sys.modules
# after a full validation and report in the smoke test)
SCIPY_UNUSED = ("io", "signal", "odr", "misc", "fftpack", "differentiate", "datasets", "cluster")
KEEP_TEST_PACKAGES = ("numpy/testing",)  # numpy imports numpy.testing in places


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
    """The zip functions' code: the ``functions`` package (handlers ``functions.x.handler``)."""
    target = out / "functions"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copytree(ROOT / "functions", target / "functions", ignore=_ignore_caches)
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
    for name in SCIPY_UNUSED:
        shutil.rmtree(site / "scipy" / name, ignore_errors=True)
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
    return out / name


def _zip_handler_modules() -> list[str]:
    sys.path.insert(0, str(ROOT))
    try:
        from infra_cdk.definition import FUNCTIONS
        from infra_cdk.packaging import ZIP_FUNCTIONS
    finally:
        sys.path.remove(str(ROOT))
    return [FUNCTIONS[n].rsplit(".", 1)[0] for n in sorted(ZIP_FUNCTIONS & FUNCTIONS.keys())]


def smoke(out: Path = BUILD, python: str = f"python{PYTHON}") -> None:
    """On the runtime's Python, with boto3/botocore/s3transfer standing in for the Lambda
    runtime: ``layers/numeric/smoke.py`` with the numeric layer (validate, report, sign), and
    an import of every zip function's handler with only the synthos and base layers."""
    import boto3
    import botocore
    import s3transfer

    with tempfile.TemporaryDirectory(prefix="synthos-lambda-runtime-") as runtime:
        for module in (boto3, botocore, s3transfer):
            source = Path(module.__file__).parent
            (Path(runtime) / source.name).symlink_to(source)
        env = {"PATH": os.environ.get("PATH", ""), "HOME": runtime,
               "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
        layers = [out / "synthos" / "python", out / "functions", Path(runtime)]
        if (out / "numeric").is_dir():
            path = [*layers, out / "numeric" / "python"]
            subprocess.run([python, "-S", str(ROOT / "layers" / "numeric" / "smoke.py")],
                           env={**env, "PYTHONPATH": os.pathsep.join(map(str, path))},
                           check=True)
        if (out / "base").is_dir():
            path = [*layers, out / "base" / "python"]
            modules = _zip_handler_modules()
            code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
            subprocess.run([python, "-S", "-c", code, *modules],
                           env={**env, "PYTHONPATH": os.pathsep.join(map(str, path))},
                           check=True)
            print(f"zip handlers import with synthos + base only: {', '.join(modules)}")


def report(paths: dict[str, Path]) -> bool:
    """Print each part's unzipped size and the totals of the two packagings against Lambda's
    limit; True when the zip functions (functions + synthos + base) fit."""
    sizes = {name: tree_bytes(path) for name, path in paths.items()}
    for name, size in sizes.items():
        print(f"{name:10s} {size / 1e6:8.1f} MB unzipped  ({paths[name]})")
    fits = True
    for label, parts in (("zip functions", ("functions", "synthos", "base")),
                         ("numeric as a zip layer", ("functions", "synthos", "numeric"))):
        if set(parts) <= sizes.keys():
            total = sum(sizes[p] for p in parts)
            ok = total <= LAMBDA_LIMIT_BYTES
            print(f"{label}: {' + '.join(parts)} = {total:,} bytes of Lambda's "
                  f"{LAMBDA_LIMIT_BYTES:,} ({'fits' if ok else 'does NOT fit'})")
            fits = fits and (ok or label != "zip functions")
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
        smoke(args.out, args.runtime_python)
    if not fits:
        print("the zip functions do not fit in Lambda's unzipped limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
