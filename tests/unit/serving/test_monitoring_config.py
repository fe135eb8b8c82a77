"""The Grafana dashboard and the Prometheus alerts chart only series the server exposes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client import generate_latest

from serving.metrics import Metrics
from tests.serving import REPO

INFRA = REPO / "infra"
SERIES = re.compile(r"\bllmops_[a-z_]+")


def exposed() -> set[str]:
    m = Metrics()
    m.requests.labels("chat", "200").inc()
    m.latency.labels("chat").observe(0.1)
    m.first_token.observe(0.1)
    m.tokens.labels("in").inc()
    m.errors.labels("x").inc()
    m.guard.labels("pii", "pass").inc()
    m.serving("model", "1")
    m.model_load_failures.inc()
    m.batch(2, 0)
    m.feedback.labels("1").inc()
    m.key_tokens.labels("key", "in").inc()
    m.cost.labels("key", "1", "USD").inc()
    m.budget_refusals.labels("key").inc()
    m.traced("trace_logged")
    m.response_flags.labels("refusal", "1").inc()
    m.reply_words.labels("1").observe(12)
    m.faithfulness.labels("1").observe(1.0)
    m.prompt("3")
    m.cache.labels("hit").inc()
    text = generate_latest(m.registry).decode()
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}


def dashboard_exprs() -> list[str]:
    dash = json.loads((INFRA / "grafana" / "llmops-serving.json").read_text())
    return [t["expr"] for p in dash["panels"] for t in p["targets"]]


def alert_exprs() -> list[str]:
    rules = yaml.safe_load((INFRA / "prometheus" / "alerts.yml").read_text())
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


@pytest.mark.parametrize("exprs", [dashboard_exprs, alert_exprs], ids=["dashboard", "alerts"])
def test_every_series_queried_exists(exprs) -> None:
    series = exposed()
    used = {name for expr in exprs() for name in SERIES.findall(expr)}
    assert used, "no llmops series queried"
    assert used <= series, f"not exposed by serving/metrics.py: {sorted(used - series)}"


def test_every_metric_is_charted() -> None:
    charted = {name for expr in dashboard_exprs() for name in SERIES.findall(expr)}
    families = {re.sub(r"_(bucket|sum|count)$", "", name) for name in exposed()}
    assert {re.sub(r"_(bucket|sum|count)$", "", name) for name in charted} == families


def test_prometheus_scrapes_the_metrics_endpoint_and_loads_the_alerts() -> None:
    config = yaml.safe_load((INFRA / "prometheus" / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert config["rule_files"] == ["alerts.yml"]


def promtool(*args: str) -> subprocess.CompletedProcess:
    """Prometheus's own checker (Debian's `prometheus` package; .ci/run installs it where it is missing)."""
    tool = shutil.which("promtool")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool not found: .ci/run installs Debian's prometheus package, which carries it")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return subprocess.run([tool, *args], cwd=INFRA / "prometheus", capture_output=True, text=True, timeout=120)


def test_promtool_accepts_the_alert_rules() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alert_exprs())} rules found" in checked.stdout


def test_the_alerts_fire_on_the_series_that_should_fire_them_and_only_those() -> None:
    """infra/prometheus/alerts.test.yml: error rate, p95 latency, token burn and spent budgets, each beside a healthy
    instance that must stay quiet."""
    tested = promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    cases = yaml.safe_load((INFRA / "prometheus" / "alerts.test.yml").read_text())["tests"]
    alerts = {t["alertname"] for case in cases for t in case["alert_rule_test"]}
    assert {"LlmopsServerErrors", "LlmopsSlowRequests", "LlmopsTokenBurn"} <= alerts
