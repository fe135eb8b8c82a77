"""The Kubernetes manifests (infra/k8s) as kustomize renders them, checked offline against the Kubernetes API
schemas of the cluster version they target, and for what makes them work together: probes on the routes the
server has, selectors that match their pods, the Secrets docs/operations.md tells you to create."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.serving import REPO

K8S = REPO / "infra" / "k8s"
VERSION = "1.32"  # the oldest Kubernetes these manifests are for (autoscaling/v2, policy/v1)
SECRETS = {"llmops-postgres": {"request-log-url", "mlflow-url", "prefect-url"}, "llmops-s3": None}


def render(target: str) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl not found: it renders infra/k8s (kubectl kustomize)")
        pytest.skip("kubectl is not installed")
    out = subprocess.run([kubectl, "kustomize", str(K8S / target)], capture_output=True, text=True, check=True)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("target", ["base", "overlays/gpu"])
def test_every_manifest_is_valid_for_the_kubernetes_api(target: str) -> None:
    docs = render(target)
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                                         "ConfigMap", "PersistentVolumeClaim", "Role", "RoleBinding"}  # fmt: skip
    for doc in docs:
        kubernetes_validate.validate(doc, VERSION, strict=True)  # raises on an unknown field or a wrong type
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "llmops"


@pytest.mark.parametrize("target", ["base", "overlays/gpu"])
def test_the_parts_fit_together(target: str) -> None:
    docs = render(target)
    deployments, services = by_kind(docs, "Deployment"), by_kind(docs, "Service")
    for name, service in services.items():
        pods = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pods.items(), name
    serving = deployments["llmops-serving"]["spec"]["template"]["spec"]["containers"][0]
    assert serving["readinessProbe"]["httpGet"]["path"] == "/ready"  # serving/routers/health.py
    assert serving["livenessProbe"]["httpGet"]["path"] == "/health"
    [hpa] = by_kind(docs, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "llmops-serving"
    assert {m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"} == {
        "llmops_queue_depth"}  # fmt: skip  # a series serving/metrics.py exposes
    [pdb] = by_kind(docs, "PodDisruptionBudget").values()
    assert pdb["spec"]["selector"]["matchLabels"].items() <= deployments["llmops-serving"]["spec"]["template"][
        "metadata"]["labels"].items()  # fmt: skip
    referenced: dict[str, set[str]] = {}
    for deployment in deployments.values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for env in container.get("env", []):
                if ref := env.get("valueFrom", {}).get("secretKeyRef"):
                    referenced.setdefault(ref["name"], set()).add(ref["key"])
            for source in container.get("envFrom", []):
                referenced.setdefault(source["secretRef"]["name"], set())
    assert set(referenced) == set(SECRETS) and referenced["llmops-postgres"] == SECRETS["llmops-postgres"]


def test_the_worker_creates_its_pool_from_the_shipped_job_template() -> None:
    docs = render("base")
    [pool] = by_kind(docs, "ConfigMap").values()
    template = json.loads(pool["data"]["prefect-work-pool.json"])
    shipped = json.loads((K8S / "base" / "prefect-work-pool.json").read_text())
    assert template == shipped and template["job_configuration"]["job_manifest"]["kind"] == "Job"
    worker = by_kind(docs, "Deployment")["llmops-worker"]["spec"]["template"]["spec"]
    assert worker["volumes"][0]["configMap"]["name"] == pool["metadata"]["name"]  # kustomize's hashed name
    assert "--base-job-template /etc/llmops/prefect-work-pool.json" in worker["containers"][0]["args"][0]


def test_the_gpu_overlay_puts_serving_on_gpu_nodes() -> None:
    serving = by_kind(render("overlays/gpu"), "Deployment")["llmops-serving"]["spec"]["template"]["spec"]
    assert serving["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert serving["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    base = by_kind(render("base"), "Deployment")["llmops-serving"]["spec"]["template"]["spec"]
    assert "nodeSelector" not in base and "nvidia.com/gpu" not in base["containers"][0]["resources"]["limits"]


def test_the_docs_name_the_secrets_the_manifests_read() -> None:
    text = Path(REPO / "docs" / "operations.md").read_text()
    for name, keys in SECRETS.items():
        assert f"create secret generic {name}" in text
        for key in keys or ():
            assert f"--from-literal={key}=" in text
