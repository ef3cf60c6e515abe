"""``python -m synthos.local run|serve``: the local stack from the command line.

    run     start a fresh stack, walk the user journey through the API, print a summary, stop
            everything; exit 0 only when every step succeeded and nothing was left running
    serve   start the stack and keep it up (API, moto endpoint and ports printed) until Ctrl-C

Environment: ``SYNTHOS_PORT`` (API port, default 8000; ``run`` takes a free port when 8000 is
busy and ``SYNTHOS_PORT`` is unset), ``SYNTHOS_MOTO_PORT`` (default: a free port),
``SYNTHOS_RUN_DIR`` (default ``.run``: the warranty key, the journey's report and certificate).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from types import FrameType

from rich.console import Console

from synthos.errors import SynthosError
from synthos.local.stack import LocalStack, StackConfig, live_threads, threads_left

EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def describe(stack: LocalStack, console: Console) -> None:
    s = stack.settings
    console.print(f"[bold]Synthos local stack[/bold]\n"
                  f"  API            {stack.api_url}   (port {stack.api_port})\n"
                  f"  moto endpoint  {stack.moto_endpoint}   (port {stack.moto_port}: S3, "
                  "DynamoDB, EventBridge, Step Functions, Batch)\n"
                  f"  bucket         {s.bucket}   drop folder: dropbox/<tenant>/\n"
                  f"  tables         {s.table_prefix}-*\n"
                  f"  state machine  {s.state_machine_arn}\n"
                  f"  warranty key   {stack.public_key_file}  (public half, for offline checks)")


def run(config: StackConfig, console: Console) -> int:
    from synthos.local.journey import JourneyConfig, run_journey, write_report

    if "SYNTHOS_PORT" not in os.environ and not _port_free(config.host, config.api_port):
        console.print(f"port {config.api_port} is busy (make serve?); the API takes a free port")
        config = replace(config, api_port=0)
    before = set(live_threads())
    with LocalStack(config) as stack:
        describe(stack, console)
        report = run_journey(JourneyConfig(
            api_url=stack.api_url, endpoint_url=stack.moto_endpoint,
            bucket=stack.settings.bucket, public_key=stack.public_key_file,
            out_dir=config.run_dir / "journey"), console)
        write_report(report, config.run_dir / "journey.json")
    left = threads_left(before)
    if left:
        console.print(f"[red]threads left running after the stack stopped: {left}[/red]")
        return EXIT_FAILED
    console.print(f"stack stopped, nothing left running; record in {config.run_dir}/journey.json")
    return EXIT_OK if report.ok else EXIT_FAILED


def serve(config: StackConfig, console: Console) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        with LocalStack(config) as stack:
            describe(stack, console)
            console.print(f"\n  export SYNTHOS_API_URL={stack.api_url}\n"
                          "  synthos remote validate FILE --reference REF --api-key KEY\n"
                          "(register with POST /v1/auth/register, then POST /v1/api-keys; "
                          "see docs/local.md)\nCtrl-C stops the stack.")
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                console.print("stopping...")
    finally:
        signal.signal(signal.SIGTERM, previous)
    console.print("stack stopped")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synthos.local",
                                     description="The Synthos local stack.")
    parser.add_argument("command", choices=("run", "serve"))
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="show request lines and the services' JSON logs")
    args = parser.parse_args(argv)
    console = Console()
    try:
        config = StackConfig.from_env()
    except SynthosError as exc:
        print(f"synthos.local: error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    serving = args.command == "serve"
    config = replace(config, quiet=not args.verbose, request_log=serving or args.verbose)
    started = time.monotonic()
    try:
        code = serve(config, console) if serving else run(config, console)
    except SynthosError as exc:  # the stack could not start (a port in use, a missing piece)
        print(f"synthos.local: error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:  # Ctrl-C while starting or during the journey: already stopped
        print("synthos.local: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not serving:
        console.print(f"the run took {time.monotonic() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
