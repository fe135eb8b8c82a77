"""The CLI as a user meets it: one clear line on stderr, no traceback, non-zero exit (called in-process)."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import llmops
from tests.conftest import chat, write_lines

LLMOPS = str(Path(sys.executable).parent / "llmops")
REPO = Path(__file__).resolve().parents[3]


def _assert_clean_failure(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    message = " ".join(result.stderr.split()).partition("error:")[2]
    assert message, result.stderr
    for fragment in fragments:
        assert fragment in message, result.stderr


def test_help_lists_stages() -> None:
    result = llmops("--help")
    assert result.returncode == 0
    for command in ("generate", "base-model", "prepare", "validate", "split"):
        assert command in result.stdout


def test_bad_params_key(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("split:\n  seeed: 3\n")
    _assert_clean_failure(
        llmops("generate", "--out", str(tmp_path / "x.jsonl"), "--params", str(params)), "split.seeed: unknown key"
    )


@pytest.mark.parametrize("folder", ["", "logs[/gloo]"])  # a message that reads like markup is printed as it is
def test_fake_parquet(tmp_path: Path, tiny_model_dir: Path, folder: str) -> None:
    fake = tmp_path / folder / "data.parquet"
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text("not parquet")
    result = llmops("prepare", str(fake), "--out", str(tmp_path / "out"), "--model-dir", str(tiny_model_dir))
    _assert_clean_failure(result, f"{fake}: named .parquet but is not a Parquet file")


def test_join_needs_a_multi_node_run(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  world_size: 1\n")
    _assert_clean_failure(llmops("train", "--join", "--params", str(params)), "train.nodes is 1")


def test_missing_model_dir(tmp_path: Path) -> None:
    raw = write_lines(tmp_path / "raw.jsonl", [chat("q", "a")])
    result = llmops("prepare", str(raw), "--out", str(tmp_path / "out"), "--model-dir", str(tmp_path / "nomodel"))
    _assert_clean_failure(result, "no tokenizer there; run `dvc repro base_model`")


@pytest.mark.parametrize("source", ["/nonexistent/model/dir"])
def test_unloadable_base_model(tmp_path: Path, source: str) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(f"model:\n  base: {source}\n")
    result = llmops("base-model", "--out", str(tmp_path / "base"), "--params", str(params))
    _assert_clean_failure(result, f"model.base='{source}': no such directory")


def test_validation_failure_lists_expectations(tmp_path: Path) -> None:
    data = write_lines(tmp_path / "records.jsonl", [chat("q", "a")])
    result = llmops("validate", "--data", str(data), "--reports", str(tmp_path / "reports"))
    _assert_clean_failure(result, "expectations failed", "expect_table_row_count_to_be_between")
    assert (tmp_path / "reports" / "validation.html").is_file()


def test_usage_errors_exit_2_without_traceback() -> None:
    for args in (("prepare",), ("no-such-command",)):
        result = llmops(*args)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert "Missing argument" in result.stderr or "No such command" in result.stderr


def test_param_prints_one_value_as_the_stages_see_it(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("profile: smoke\ntrain: {max_steps: 3}\n")
    assert llmops("param", "train.max_steps", "--params", str(params)).stdout.strip() == "3"
    assert llmops("param", "orchestration.drift_watch_cron", "--params", str(params)).stdout.strip() == "0 */6 * * *"
    _assert_clean_failure(llmops("param", "train.nope", "--params", str(params)), "no param 'train.nope'")


@pytest.mark.integration
def test_retrain_with_a_bad_override_fails_before_any_stage(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text((REPO / "params.yaml").read_text())
    before = (tmp_path / "params.yaml").read_text()
    result = subprocess.run([LLMOPS, "retrain", "-S", "train.epoch=2"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    _assert_clean_failure(result, "train.epoch: unknown key")
    assert (tmp_path / "params.yaml").read_text() == before
    assert "Running stage" not in result.stdout + result.stderr


def test_a_prompt_rollback_from_no_alias_says_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.registry import prompt_deploy
    from tasks.registry.store import Event

    event = Event("2026-12-05T00:00:00Z", "rollback", "2", None, "2", "ops", "rollback to v2", None, "1")
    monkeypatch.setattr(prompt_deploy, "rollback_prompt", lambda *args: event)
    (tmp_path / "params.yaml").write_text("{}\n")
    result = llmops("rollback", "--prompt", "--to", "2", "--params", str(tmp_path / "params.yaml"))
    assert result.returncode == 0, result.stderr
    assert "rolled back: prompt @champion none -> v2 (rollback to v2)" in " ".join(result.stdout.split())
