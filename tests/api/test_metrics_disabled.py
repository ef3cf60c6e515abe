"""With ``POWERTOOLS_METRICS_DISABLED=true`` nothing is printed as EMF and nothing piles up.

Powertools 3.37 alone keeps every value when disabled and, at the 100th value of one metric,
prints the blob anyway; ``synthos.aws.telemetry.emf_metrics`` clears on every flush instead.
"""

from __future__ import annotations

from typing import Any

import pytest

REQUESTS = 150


def _emf_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if '"_aws"' in line]


def test_api_prints_no_metrics_and_keeps_none(api_client: Any, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN metrics disabled
    from synthos.api.context import metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    capsys.readouterr()
    # WHEN 150 requests are answered (each adds Requests and Latency, then flushes)
    for _ in range(REQUESTS):
        assert api_client.http.get("/v1/health").status_code == 200
    # THEN no EMF line was printed and the metric set is empty
    assert _emf_lines(capsys.readouterr().out) == []
    assert metrics.provider.metric_set == {}


def test_api_still_prints_metrics_when_enabled(api_client: Any, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN metrics enabled
    from synthos.api.context import metrics

    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    capsys.readouterr()
    # WHEN 3 requests are answered
    for _ in range(3):
        api_client.http.get("/v1/health")
    # THEN one EMF line per request, each counting one request, and nothing kept
    lines = _emf_lines(capsys.readouterr().out)
    assert len(lines) == 3
    assert all('"Requests":[1.0]' in line or '"Requests":1.0' in line for line in lines)
    assert metrics.provider.metric_set == {}


def test_handlers_print_no_metrics_and_keep_none(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a pipeline handler wrapped like every one in functions/, metrics disabled
    from synthos.local.moto_glue import LambdaContext
    from synthos.pipeline.runtime import lambda_handler, metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    @lambda_handler
    def handler(event: dict[str, Any], context: Any) -> Any:
        metrics.add_metric(name="Things", unit="Count", value=1)
        return event["n"]

    capsys.readouterr()
    # WHEN it is invoked 150 times (Invocations + Things per invocation)
    out = [handler({"n": i}, LambdaContext(function_name="Probe")) for i in range(REQUESTS)]
    # THEN it answered every time, printed no EMF line and keeps no metric
    assert out == list(range(REQUESTS))
    assert _emf_lines(capsys.readouterr().out) == []
    assert metrics.provider.metric_set == {}
