"""CDK app entry: ``python infra_cdk/app.py`` (``cdk.json``). ``-c stage=prod`` picks the stage."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root

from infra_cdk.synth import build_stack


def main() -> None:
    app, _stack = build_stack()
    app.synth()


if __name__ == "__main__":
    sys.exit(main())
