"""The journey of a real user through the REST API, over HTTP only (what ``make run`` shows).

register -> log in -> upload a real reference and two synthetic datasets through presigned URLs
-> validate both -> follow progress -> read what collapsed and the recommendations -> download
the PDF report -> request warranties (the collapsed one is refused by the eligibility rule, the
healthy one is issued) -> verify the certificate (public endpoint and offline) -> drop a file in
the drop folder ``dropbox/{tenant}/`` with boto3 (as a sync tool would) and wait for its result
under ``dropbox/{tenant}/results/``.

The journey stops at the first step that fails; :func:`run_journey` returns the record of every
step and ``ok`` only when all succeeded.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from synthos.local.journey_steps import JourneyState, Steps
from synthos.remote.client import ApiClient

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@dataclass(frozen=True)
class JourneyConfig:
    api_url: str                       # http://127.0.0.1:8000/v1
    endpoint_url: str                  # the S3 endpoint of the drop folder (moto locally)
    bucket: str                        # the data bucket that holds dropbox/{tenant}/
    public_key: Path | None = None     # the key file to cross-check GET /warranties/public-key
    data_dir: Path = DATA_DIR
    out_dir: Path | None = None        # where the report and certificate are written
    timeout_s: float = 300.0
    region: str = "us-east-1"


@dataclass
class StepRecord:
    name: str
    ok: bool
    seconds: float
    detail: str


@dataclass
class JourneyReport:
    steps: list[StepRecord] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)


class _Recorder:
    def __init__(self, report: JourneyReport, console: Console) -> None:
        self.report = report
        self.console = console

    @contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        """Time one step; the block appends its one-line outcome to the yielded list."""
        notes: list[str] = []
        started = time.monotonic()
        self.console.print(f"[bold cyan]>[/bold cyan] {name}")
        try:
            yield notes
        except Exception as exc:
            detail = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
            self.report.steps.append(StepRecord(name, False, time.monotonic() - started, detail))
            self.console.print(f"  [bold red]failed[/bold red] {detail}")
            raise
        record = StepRecord(name, True, time.monotonic() - started, "; ".join(notes))
        self.report.steps.append(record)
        for note in notes:
            self.console.print(f"  {note}")


def run_journey(config: JourneyConfig, console: Console | None = None) -> JourneyReport:
    """Walk the journey against a running stack; never raises for a failed step."""
    console = console or Console()
    report = JourneyReport()
    recorder = _Recorder(report, console)
    api = ApiClient(config.api_url, timeout=60.0)
    state = JourneyState(email=f"journey-{secrets.token_hex(4)}@example.com",
                         password=secrets.token_urlsafe(18))
    steps = Steps(api, config, state)
    plan: list[tuple[str, Callable[[list[str]], None]]] = [
        ("register and log in", steps.account),
        ("upload the real reference and two synthetic datasets (presigned PUT)", steps.upload),
        ("validate both datasets, following progress", steps.validate),
        ("read what collapsed and the recommendations", steps.details),
        ("download the PDF report", steps.report),
        ("request warranties (the eligibility rule decides)", steps.warranty),
        ("verify the certificate (public endpoint and offline)", steps.verify),
        ("drop a file into the drop folder and wait for its result", steps.dropbox),
    ]
    for name, run in plan:
        try:
            with recorder.step(name) as notes:
                run(notes)
        except Exception:  # recorded by the step; later steps depend on this one
            break
    report.facts = state.facts()
    print_summary(report, console)
    return report


def print_summary(report: JourneyReport, console: Console) -> None:
    from rich.table import Table

    table = Table(title="Synthos local journey", title_justify="left")
    for col in ("step", "result", "seconds"):
        table.add_column(col)
    for s in report.steps:
        table.add_row(s.name, "[green]ok[/green]" if s.ok else f"[red]FAILED[/red] {s.detail}",
                      f"{s.seconds:.1f}")
    console.print(table)
    verdict = "[bold green]all steps succeeded[/bold green]" if report.ok else \
        "[bold red]the journey failed[/bold red]"
    console.print(verdict)


def write_report(report: JourneyReport, path: Path) -> None:
    """The journey's record as JSON (``.run/journey.json``)."""
    doc = {"ok": report.ok, "facts": report.facts,
           "steps": [s.__dict__ for s in report.steps]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=str))
