"""The published JSON schema (docs/result-schema.json) is the one the code produces."""

import json
from pathlib import Path

from synthos.result import ValidationResult

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "result-schema.json"


def test_published_schema_matches_the_models():
    published = json.loads(SCHEMA.read_text())
    assert published == json.loads(json.dumps(ValidationResult.model_json_schema())), (
        "docs/result-schema.json is stale: regenerate it with `make schema`"
    )


def test_schema_requires_the_documented_top_level():
    required = set(ValidationResult.model_json_schema()["required"])
    assert {"collapse_risk", "risk_level", "drift_score", "confidence", "signals", "columns",
            "recommendations", "dataset", "reference", "engine"} <= required
