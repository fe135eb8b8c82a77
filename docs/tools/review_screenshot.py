"""The screenshot of the review workflow in docs/monitoring.md, taken in a real browser.

A real `mlflow server` (sqlite, loopback), the serving app with a model and tracing on, a short conversation
through the official `openai` client, a rating and a correction through /feedback, then the conversation's
trace in the MLflow UI, in headless Chromium:

    apt-get install -y chromium && .venv/bin/pip install playwright
    .venv/bin/python -m docs.tools.review_screenshot --model models/base --out docs/img/mlflow-trace-review.png
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NAME = "llmops-support"
CONVERSATION = "c-1042"
QUESTIONS = ("My bill is 12 EUR higher than last month. Why?", "Can I get the roaming charge refunded?")
CORRECTION = ("The extra 12 EUR is the roaming day pass from your trip to Switzerland (outside the EU). "
              "Refunds of day passes are possible within 14 days in the app: Billing > Charges > Dispute.")  # fmt: skip


def start_mlflow(work: Path) -> tuple[subprocess.Popen, str]:
    from tasks.core.processes import free_port, wait_until_ready

    port = free_port()
    mlflow = str(Path(sys.executable).parent / "mlflow")
    proc = subprocess.Popen(
        [mlflow, "server", "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}", "--artifacts-destination",
         str(work / "artifacts"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    uri = f"http://127.0.0.1:{port}"
    wait_until_ready(f"{uri}/health", proc, timeout=120)
    return proc, uri


def serve(model: Path, work: Path):
    """The app `llmops serve` builds, with `model` swapped in and its traces going to the tracking server."""
    import uvicorn
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from serving.app import create_app
    from serving.engine import Loaded
    from serving.service import assemble
    from serving.tracing import Tracer
    from tasks.config.schema import ServingParams
    from tasks.core.processes import free_port

    params = ServingParams(request_log=f"sqlite:///{work / 'requests.db'}", rate_limit_per_minute=0)
    service = assemble(params, NAME, REPO)
    service.tracer = Tracer(params.tracing, service.metrics.traced)
    loaded = Loaded(NAME, "3", AutoModelForCausalLM.from_pretrained(model).eval(), AutoTokenizer.from_pretrained(model))
    service.engine.swap(loaded)
    service.on_model(loaded, None)
    port = free_port()
    http = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=http.run, daemon=True).start()
    while not http.started:
        time.sleep(0.05)
    return http, f"http://127.0.0.1:{port}"


def converse(base: str) -> str:
    """Two questions in one conversation; the first answer rated down and corrected, the second rated up."""
    import httpx
    from openai import OpenAI

    client = OpenAI(base_url=f"{base}/v1", api_key="unused")
    messages, ids = [{"role": "system", "content": "You are the support assistant of a telecom provider."}], []
    for question in QUESTIONS:
        messages.append({"role": "user", "content": question})
        raw = client.chat.completions.with_raw_response.create(
            model=NAME, messages=messages, max_tokens=48, temperature=0, user="customer-1042",
            metadata={"conversation_id": CONVERSATION, "channel": "app"},
        )  # fmt: skip
        ids.append(raw.headers["x-request-id"])
        messages.append({"role": "assistant", "content": raw.parse().choices[0].message.content})
    down = {"request_id": ids[0], "rating": -1, "correction": CORRECTION, "comment": "made up the charge's reason"}
    httpx.post(f"{base}/feedback", json=down).raise_for_status()
    httpx.post(f"{base}/feedback", json={"request_id": ids[1], "rating": 1}).raise_for_status()
    return ids[0]


def shoot(url: str, out: Path, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True)
        page = browser.new_page(viewport={"width": 1600, "height": 1000}, device_scale_factor=1)
        page.goto(url, wait_until="load")  # the UI polls: the network never goes idle
        try:
            page.get_by_text(QUESTIONS[0]).first.wait_for(timeout=60_000)
            time.sleep(2)
            if page.get_by_text("Got it").count():  # a first-visit tip
                page.get_by_text("Got it").first.click()
            if page.get_by_text("MLflow Assistant").count():  # a side panel that would cover half of the trace
                page.mouse.click(1563, 36)
            page.get_by_text(QUESTIONS[0]).first.click()  # the conversation's first answer: rated down, corrected
            page.get_by_text("chat.completions").first.wait_for(timeout=30_000)
            page.get_by_text("Assess").first.click()  # the assessments: the rating and the correction
            page.get_by_text(CORRECTION[:40]).first.wait_for(timeout=30_000)
            time.sleep(2)
        except Exception:
            page.screenshot(path="/tmp/review-screenshot-failed.png")
            raise
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        browser.close()


def main() -> None:
    import mlflow

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "base")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "mlflow-trace-review.png")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="review-shot-") as tmp:
        work = Path(tmp)
        tracking, uri = start_mlflow(work)
        try:
            mlflow.set_tracking_uri(uri)
            http, base = serve(args.model, work)
            rated = converse(base)
            http.should_exit = True  # the lifespan's shutdown flushes the traces and their assessments
            experiment = mlflow.get_experiment_by_name("llmops-serving").experiment_id
            where, deadline = f"trace.client_request_id = '{rated}'", time.monotonic() + 120
            while not any(len(t.info.assessments) == 2 for t in mlflow.search_traces(
                    locations=[experiment], filter_string=where, return_type="list")):  # fmt: skip
                if time.monotonic() > deadline:
                    sys.exit(f"no trace with its rating for request {rated} after 120 s")
                time.sleep(1)
            shoot(f"{uri}/#/experiments/{experiment}/traces", args.out, args.chromium)
        finally:
            tracking.terminate()
            tracking.wait(timeout=60)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
