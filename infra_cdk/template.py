"""The synthesized template, once per process, for tests: the infra assertions and the
pipeline suite (which runs exactly the state machine definition found in the template).

Assets: the synthos layer and the functions' code are built for real into a temporary folder
(a plain copy, under a second); the base and numeric dependency layers (pip, network) are
replaced by placeholder folders named ``synthos-test-placeholder-{base,numeric}-layer`` (their
measured sizes are checked by tests/infra/test_packaging.py from ``layers/*/size.json``), and
so is the GPU image
recipe while ``gpu_batch/Dockerfile`` does not exist. Placeholders exist only here, never in
``cdk synth`` or ``cdk deploy``, which require the real build (``layers/build_layers.py``).
"""

from __future__ import annotations

import atexit
import json
import shutil
import sys
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAGE = "dev"
STATE_MACHINE_TYPE = "AWS::StepFunctions::StateMachine"


def _placeholder(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / f"synthos-test-placeholder-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


def test_assets(root: Path) -> dict[str, str]:
    """Asset paths for a test synth under ``root`` (real synthos layer and functions)."""
    sys.path.insert(0, str(ROOT / "layers"))
    try:
        import build_layers
    finally:
        sys.path.remove(str(ROOT / "layers"))
    built = root / "built"
    assets = {"synthos_layer": str(build_layers.build_synthos(built)),
              "functions_code": str(build_layers.build_functions(built)),
              **{f"{layer}_layer": str(_placeholder(root, f"{layer}-layer", {
                  "python/PLACEHOLDER.txt": "tests only: the real layer needs pip\n"}))
                 for layer in ("base", "numeric")}}
    if not (ROOT / "gpu_batch" / "Dockerfile").is_file():
        assets["gpu_context"] = str(_placeholder(root, "gpu-image", {
            "gpu_batch/Dockerfile": "# tests only: gpu_batch/Dockerfile is missing\n"
                                    "FROM scratch\n"}))
    return assets


@lru_cache(maxsize=1)
def synthesized() -> tuple[dict[str, Any], Any]:
    """(the template as a dict, the stack) of stage ``dev``, synthesized once per process
    with cdk-nag's AwsSolutions checks applied."""
    from infra_cdk.synth import build_stack

    work = Path(tempfile.mkdtemp(prefix="synthos-cdk-test-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    context = {"stage": STAGE, "synthos:assets": test_assets(work)}
    app, stack = build_stack(context, outdir=str(work / "cdk.out"))
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    return template, stack


def state_machine_resource(template: dict[str, Any]) -> dict[str, Any]:
    machines = [r for r in template["Resources"].values() if r["Type"] == STATE_MACHINE_TYPE]
    if len(machines) != 1:
        raise LookupError(f"expected one state machine, found {len(machines)}")
    return machines[0]


def synthesized_definition(substitutions: Mapping[str, str] | None = None) -> str:
    """The state machine's ``DefinitionString`` as synthesized, ``${...}`` placeholders in
    place (CloudFormation fills them from ``DefinitionSubstitutions`` at deploy time), or, with
    ``substitutions``, filled the way CloudFormation fills them (KeyError naming any
    placeholder of the template left without a value)."""
    resource = state_machine_resource(synthesized()[0])["Properties"]
    definition = resource["DefinitionString"]
    if not isinstance(definition, str):  # a token slipped into the body itself
        raise TypeError(f"DefinitionString is not a plain string: {json.dumps(definition)[:200]}")
    if substitutions is None:
        return definition
    missing = sorted(set(resource["DefinitionSubstitutions"]) - set(substitutions))
    if missing:
        raise KeyError(f"no substitution for {', '.join(missing)}")
    for name in resource["DefinitionSubstitutions"]:
        definition = definition.replace("${" + name + "}", substitutions[name])
    return definition
