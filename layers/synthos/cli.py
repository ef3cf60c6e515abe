"""The ``synthos`` command line.

    synthos validate SYN [--reference REF] [--json OUT.json] [--embedding-column COL]...
                         [--sample-rows N] [--seed S] [--fail-on LEVEL] [--pdf OUT.pdf]
    synthos generate-key DIR
    synthos issue-certificate RESULT.json --key PRIVATE.pem --validation-id ID --out CERT.json
                              [--pdf CERT.pdf] [--days N]
    synthos verify-certificate CERT.json --public-key PUBLIC.pem [--dataset FILE]
    synthos remote validate FILE [--reference FILE] --api-url URL --api-key KEY  (see remote.cli)

Exit codes: 0 a result was produced (or the certificate is valid); 2 bad input or options (one
line on stderr); 3 the risk level reached ``--fail-on`` (or the certificate is invalid, tampered
or expired: one line saying why); 1 an unexpected internal error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from synthos import __version__
from synthos.engine import ValidateOptions, validate
from synthos.errors import InputError, SynthosError
from synthos.remote.cli import REMOTE_COMMANDS, add_remote_commands
from synthos.report import render_report
from synthos.result import ValidationResult
from synthos.warranty.cli import WARRANTY_COMMANDS, add_warranty_commands, write_atomically

LEVEL_ORDER = ("low", "medium", "high", "critical")
EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_FAIL_ON = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line and exit 2, like input errors
        self.exit(EXIT_INPUT, f"synthos: error: {message}\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="synthos", description="Measure model-collapse risk in a dataset.")
    parser.add_argument("--version", action="version", version=f"synthos {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    v = sub.add_parser("validate", help="validate a dataset (optionally against real data)")
    v.add_argument("dataset", help="Parquet, CSV/TSV, JSON Lines or Arrow/Feather file")
    v.add_argument("--reference", "-r", help="a sample of real data to compare with")
    v.add_argument("--json", dest="json_out", help="write the full result as JSON here")
    v.add_argument("--embedding-column", action="append", default=[], metavar="COL",
                   help="treat COL as an embedding (repeatable)")
    v.add_argument("--sample-rows", type=_positive, default=20_000,
                   help="rows sampled per file for sample-based signals (default 20000)")
    v.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    v.add_argument("--replicates", type=_positive, default=24,
                   help="real-vs-real calibration replicates (default 24)")
    v.add_argument("--fail-on", choices=LEVEL_ORDER, help="exit 3 at or above this risk level")
    v.add_argument("--no-recommendations", action="store_true", help="skip the fix search")
    v.add_argument("--quiet", "-q", action="store_true", help="no summary on stdout")
    v.add_argument("--pdf", dest="pdf_out", help="write the PDF report here")
    add_warranty_commands(sub)
    add_remote_commands(sub)
    return parser


def _summary(result: ValidationResult, console: Console) -> None:
    ds = result.dataset
    console.print(f"[bold]Synthos {result.engine.version}[/bold]  {ds.path}  "
                  f"({ds.rows:,} rows x {ds.columns} columns, sha256 {ds.sha256[:12]}...)")
    if result.reference is not None:
        console.print(f"reference: {result.reference.path} ({result.reference.rows:,} rows)")
    lo, hi = result.confidence.interval
    console.print(f"collapse risk [bold]{result.collapse_risk:.1f}[/bold] / 100  "
                  f"level [bold]{result.risk_level}[/bold]  (90% range {lo:.1f}-{hi:.1f}, "
                  f"confidence {result.confidence.level})   drift {result.drift_score:.1f} "
                  f"({result.drift_level})")
    for reason in result.confidence.reasons:
        console.print(f"  - {reason}")
    flagged = [c for c in result.columns if c.findings]
    if flagged:
        t = Table(title="What collapsed", title_justify="left")
        for col in ("column", "kind", "findings", "evidence"):
            t.add_column(col)
        for c in flagged[:15]:
            t.add_row(c.name, c.kind, ", ".join(c.findings), f"{c.evidence:.1f}")
        console.print(t)
    t = Table(title="Strongest signals", title_justify="left")
    for col in ("signal", "scope", "observed", "real-vs-real", "evidence"):
        t.add_column(col)
    for s in [s for s in result.signals if s.channel == "collapse"][:8]:
        t.add_row(s.signal, s.scope, f"{s.observed:.4g}",
                  f"{s.baseline:.4g} ± {s.baseline_sd:.2g}", f"{s.evidence:.1f}")
    console.print(t)
    if result.recommendations:
        t = Table(title="Recommendations (risk measured after applying each)", title_justify="left")
        for col in ("fix", "predicted risk", "reduction"):
            t.add_column(col)
        for r in result.recommendations:
            t.add_row(r.description, f"{r.predicted_collapse_risk:.1f} ({r.predicted_risk_level})",
                      f"{r.risk_reduction:+.1f}")
        console.print(t)
    for w in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")


def _run_validate(args: argparse.Namespace) -> int:
    options = ValidateOptions(
        embedding_columns=tuple(args.embedding_column), sample_rows=args.sample_rows,
        seed=args.seed, replicates=args.replicates,
        recommendations=not args.no_recommendations)
    err = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("reading {task.description}"),
                  TextColumn("{task.completed:,} rows"), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(role: str, rows: int) -> None:
            if role not in tasks:
                tasks[role] = bar.add_task(role, total=None)
            bar.update(tasks[role], completed=rows)

        result = validate(args.dataset, args.reference, options, progress)
    if args.json_out:
        write_atomically(Path(args.json_out),
                         lambda f: f.write(result.model_dump_json(indent=2).encode()))
    if args.pdf_out:
        write_atomically(Path(args.pdf_out), lambda f: render_report(result, f))
    if not args.quiet:
        _summary(result, Console())
    if args.fail_on and LEVEL_ORDER.index(result.risk_level) >= LEVEL_ORDER.index(args.fail_on):
        return EXIT_FAIL_ON
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return int(exc.code or 0)
    try:
        if args.command == "validate":
            return _run_validate(args)
        if args.command in WARRANTY_COMMANDS:
            return WARRANTY_COMMANDS[args.command](args)
        if args.command in REMOTE_COMMANDS:
            return REMOTE_COMMANDS[args.command](args)
    except InputError as exc:
        print(f"synthos: error: {exc.message}", file=sys.stderr)
        return EXIT_INPUT
    except SynthosError as exc:
        print(f"synthos: internal error ({exc.code}): {exc.message}", file=sys.stderr)
        return EXIT_INTERNAL
    except OSError as exc:
        print(f"synthos: error: {exc.strerror or exc}: {getattr(exc, 'filename', '')}",
              file=sys.stderr)
        return EXIT_INPUT
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
