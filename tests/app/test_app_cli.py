"""The entry point as a user runs it: a real `python app.py` process."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.environment import ROOT, subprocess_env

pytestmark = pytest.mark.e2e  # starts processes: `pytest -m "not e2e"` skips it


def run_app(args: list[str], env: dict[str, str], stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=subprocess_env(env),
        timeout=timeout,
        cwd=Path(env["SITREP_DB"]).parent,
    )


def test_shell_prints_help_and_exits_zero(env: dict[str, str]) -> None:
    proc = run_app([], env, stdin="help\n")
    assert proc.returncode == 0, proc.stderr
    assert "Slack is not connected" in proc.stdout
    assert "SRE teammate" in proc.stdout
    assert "Integrations" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_shell_ends_on_exit_word(env: dict[str, str]) -> None:
    proc = run_app(["shell"], env, stdin="exit\nhelp\n")
    assert proc.returncode == 0
    assert "SRE teammate" not in proc.stdout


def test_shell_answers_status(env: dict[str, str]) -> None:
    proc = run_app([], env, stdin="status\n")
    assert proc.returncode == 0
    assert "Scheduled reports" in proc.stdout and "Not configured" in proc.stdout


def test_one_token_only_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    proc = run_app([], {**env, "SLACK_BOT_TOKEN": "xoxb-1"})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_APP_TOKEN is not set" in lines[0]
    proc = run_app([], {**env, "SLACK_APP_TOKEN": "xapp-1"})
    assert proc.returncode == 2 and "SLACK_BOT_TOKEN is not set" in proc.stderr


def test_wrong_secret_key_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    assert run_app(["config", "patch", '{"reports":{"timezone":"UTC"}}'], env).returncode == 0
    other = {**env, "SITREP_SECRET_KEY": "A" * 43 + "="}
    proc = run_app(["status"], other)
    assert proc.returncode == 2
    assert "encrypted with another key" in proc.stderr and "Traceback" not in proc.stderr


def test_status_prints_the_readiness_table(env: dict[str, str]) -> None:
    proc = run_app(["status"], env)
    assert proc.returncode == 0, proc.stderr
    for name in ("Slack bot", "Scheduled reports", "Grafana", "Amplitude", "GitHub"):
        assert name in proc.stdout


def test_config_patch_and_get(env: dict[str, str]) -> None:
    patch = {"config": {"routing": {"github_repos": ["mochacare/their-repo"]}}}
    proc = run_app(["config", "patch", json.dumps(patch)], env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["routing"]["github_repos"] == ["mochacare/their-repo"]
    got = json.loads(run_app(["config", "get"], env).stdout)
    assert got["routing"]["github_repos"] == ["mochacare/their-repo"]


def test_config_rejects_bad_input_and_keeps_the_old_value(env: dict[str, str]) -> None:
    run_app(["config", "patch", '{"reports":{"channel":"C0ADZHLL76V"}}'], env)
    bad_json = run_app(["config", "patch", "{nope"], env)
    assert bad_json.returncode == 2 and "not JSON" in bad_json.stderr
    invalid = run_app(["config", "patch", '{"reports":{"channel":"general"}}'], env)
    assert invalid.returncode == 2 and "reports.channel" in invalid.stderr
    assert json.loads(run_app(["config", "get"], env).stdout)["reports"]["channel"] == "C0ADZHLL76V"


def test_config_patch_nested_too_deeply_is_one_line(env: dict[str, str]) -> None:
    for deep in ("[" * 200_000 + "]" * 200_000, '{"reports":' * 100_000 + "1" + "}" * 100_000):
        proc = run_app(["config", "patch", "-"], env, stdin=deep)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and "nested too deeply" in lines[0], proc.stderr


def test_help_lists_subcommands(env: dict[str, str]) -> None:
    proc = run_app(["--help"], env)
    assert proc.returncode == 0
    for sub in ("run", "shell", "status", "config"):
        assert sub in proc.stdout


def test_shell_report_prints_the_status_report(env: dict[str, str]) -> None:
    proc = run_app([], env, stdin="report\n")
    assert proc.returncode == 0, proc.stderr
    assert "Status report" in proc.stdout
    assert "Grafana is not configured: GRAFANA_URL and GRAFANA_TOKEN are not set" in proc.stdout


def test_a_wrong_setting_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    proc = run_app(["status"], {**env, "AMPLITUDE_REGION": "asia"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "sitrep: AMPLITUDE_REGION must be 'us' or 'eu', not 'asia'"
