"""The ``synthos remote`` subcommands (wired in ``synthos.cli``): the CLI against a running API.

    synthos remote validate FILE [--reference FILE] --api-url URL --api-key KEY
                            [--json OUT.json] [--pdf OUT.pdf] [--timeout S]

``--api-url`` and ``--api-key`` fall back to ``SYNTHOS_API_URL`` and ``SYNTHOS_API_KEY``, read
when the command runs (a key in the environment stays out of the shell history and the process
list); a flag given on the command line wins. A missing URL or key, a URL that is not http(s)
or a key with spaces, control or non-ASCII characters is bad input: one line naming the flag and
its variable, exit 2, and the key itself is never printed. The files are uploaded through
presigned URLs, the validation is started and followed with a progress display, then the
verdict, what collapsed and the recommendations are printed. Exit codes: 0 the validation
completed; 2 bad input (a file cannot be read, the API refused the request or the key, no URL or
key given); 3 the validation ended failed or cancelled, or the pipeline could not use a file (the
reason is printed); 1 the API could not be reached or answered another error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from synthos.errors import InputError
from synthos.remote.client import ApiClient, RemoteError, format_of

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_JOB_FAILED = 0, 1, 2, 3
INPUT_STATUSES = (400, 401, 403, 404, 413, 422)  # the request, its key or its files are wrong
ENV_URL, ENV_KEY = "SYNTHOS_API_URL", "SYNTHOS_API_KEY"


def add_remote_commands(sub: Any) -> None:
    """Add ``remote`` (with its own subcommands) to the ``synthos`` parser's subcommands."""
    remote = sub.add_parser("remote", help="use a running Synthos API (cloud or local stack)")
    rsub = remote.add_subparsers(dest="remote_command", required=True)
    v = rsub.add_parser("validate", help="upload a dataset and validate it through the API")
    v.add_argument("dataset", help="Parquet, CSV/TSV, JSON Lines or Arrow/Feather file")
    v.add_argument("--reference", "-r", help="a sample of real data to compare with")
    v.add_argument("--api-url", help=f"API root, e.g. http://127.0.0.1:8000/v1 (default: "
                                      f"${ENV_URL})")
    v.add_argument("--api-key", help=f"an API key with the write scope (default: ${ENV_KEY}, "
                                     "which keeps it out of the shell history)")
    v.add_argument("--json", dest="json_out", help="write the validation and its details here")
    v.add_argument("--pdf", dest="pdf_out", help="download the PDF report here")
    v.add_argument("--timeout", type=float, default=900.0, help="seconds to wait (default 900)")
    v.add_argument("--seed", type=int, help="seed of every random choice")


def _connection(args: argparse.Namespace) -> tuple[str, str]:
    """The API root and key: the flags, else the environment (InputError naming what is
    missing or malformed; the key is never part of a message)."""
    url = args.api_url or os.environ.get(ENV_URL, "")
    key = args.api_key or os.environ.get(ENV_KEY, "")
    missing = [(flag, env) for flag, env, value in (("--api-url", ENV_URL, url),
                                                   ("--api-key", ENV_KEY, key)) if not value]
    if missing:
        flags, envs = (" and ".join(m[i] for m in missing) for i in (0, 1))
        raise InputError(f"{flags} {'is' if len(missing) == 1 else 'are'} required "
                         f"(or set {envs})")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"--api-url (or {ENV_URL}) must be an http(s) URL such as "
                         f"http://127.0.0.1:8000/v1, not {url!r}")
    if not (key.isascii() and key.isprintable()) or " " in key:
        raise InputError(f"the API key (--api-key or {ENV_KEY}) holds characters a key cannot "
                         "have (spaces, control or non-ASCII characters); copy it again")
    return url, key


def _check_inputs(args: argparse.Namespace) -> tuple[str, str, list[Path]]:
    url, key = _connection(args)
    paths = [Path(p) for p in (args.dataset, args.reference) if p]
    for p in paths:
        if not p.is_file():
            raise InputError(f"no such file: {p}")
        format_of(p)
    return url, key, paths


def _follow(api: ApiClient, validation_id: str, timeout: float, err: Console,
            poll: float = 1.0) -> Any:
    """Wait for the validation with a progress bar of its stage and shards."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TextColumn("{task.fields[shards]}"),
                  TimeElapsedColumn(), console=err, transient=True,
                  disable=not err.is_terminal) as bar:
        task = bar.add_task("queued", total=1.0, shards="")

        def update(job: dict[str, Any]) -> None:
            total = int(job.get("shards_total") or 0)
            shards = f"shards {job.get('shards_done', 0)}/{total}" if total > 1 else ""
            bar.update(task, description=str(job.get("stage") or job["status"]),
                       completed=float(job.get("progress") or 0.0), shards=shards, refresh=True)

        return api.wait_for_validation(validation_id, timeout=timeout, poll=poll,
                                       on_update=update)


def _summary(job: dict[str, Any], details: dict[str, Any], recs: dict[str, Any],
             console: Console) -> None:
    lo, hi = details["confidence_interval"]
    console.print(f"validation [bold]{job['validation_id']}[/bold]: collapse risk "
                  f"[bold]{details['collapse_risk']:.1f}[/bold] / 100, level "
                  f"[bold]{details['risk_level']}[/bold] (90% range {lo:.1f}-{hi:.1f}), "
                  f"drift {details['drift_score']:.1f}")
    flagged = [c for c in details["columns"] if c.get("findings")]
    if flagged:
        t = Table(title="What collapsed", title_justify="left")
        for col in ("column", "kind", "findings"):
            t.add_column(col)
        for c in flagged[:15]:
            t.add_row(c["name"], c["kind"], ", ".join(c["findings"]))
        console.print(t)
    if recs["recommendations"]:
        t = Table(title="Recommendations", title_justify="left")
        for col in ("fix", "predicted risk", "reduction"):
            t.add_column(col)
        for r in recs["recommendations"]:
            t.add_row(r["description"], f"{r['predicted_collapse_risk']:.1f}",
                      f"{r['risk_reduction']:+.1f}")
        console.print(t)


def run_remote_validate(args: argparse.Namespace) -> int:
    console, err = Console(), Console(stderr=True)
    try:
        url, key, paths = _check_inputs(args)
        api = ApiClient(url, api_key=key)
        reference_id = None
        if len(paths) == 2:
            reference_id = api.upload_dataset(paths[1], role="reference")["dataset_id"]
        dataset_id = api.upload_dataset(paths[0], role="synthetic")["dataset_id"]
        for uploaded in (dataset_id, reference_id):
            if uploaded:
                api.wait_for_dataset(uploaded, timeout=args.timeout)
        options = {"seed": args.seed} if args.seed is not None else None
        started = api.start_validation(dataset_id, reference_id, options)
        job = _follow(api, started["validation_id"], args.timeout, err)
        if job["status"] != "completed":
            print(f"synthos: validation {job['validation_id']} {job['status']}: "
                  f"{job.get('reason') or 'no reason given'}", file=sys.stderr)
            return EXIT_JOB_FAILED
        details = api.collapse_details(job["validation_id"])
        recs = api.recommendations(job["validation_id"])
        if args.pdf_out:
            Path(args.pdf_out).write_bytes(api.report_pdf(job["validation_id"]))
        if args.json_out:
            doc = {"validation": job, "collapse_details": details, "recommendations": recs}
            Path(args.json_out).write_text(json.dumps(doc, indent=2))
    except InputError as exc:
        print(f"synthos: error: {exc.message}", file=sys.stderr)
        return EXIT_INPUT
    except RemoteError as exc:
        if exc.code == "dataset_failed":  # the pipeline could not use a file: as a failed job
            print(f"synthos: {exc.message}", file=sys.stderr)
            return EXIT_JOB_FAILED
        where = f" (HTTP {exc.status} {exc.code})" if exc.status else ""
        print(f"synthos: error: {exc.message}{where}", file=sys.stderr)
        return EXIT_INPUT if exc.status in INPUT_STATUSES else EXIT_ERROR
    _summary(job, details, recs, console)
    return EXIT_OK


def run_remote(args: argparse.Namespace) -> int:
    if args.remote_command == "validate":
        return run_remote_validate(args)
    return EXIT_INPUT


REMOTE_COMMANDS = {"remote": run_remote}
