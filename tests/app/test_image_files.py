"""The Dockerfile, .dockerignore and requirements.lock say what docs/deploy.md promises about the image: a slim
multi-stage build from the lock (hashes checked), a non-root user, exec form, every write in one volume, a
HEALTHCHECK; the lock pins what requirements.txt asks; the build context holds the code and no secret.
(`make test` also runs hadolint on the Dockerfile; tests/e2e/test_image_start.py starts the app as the image does.)"""

from __future__ import annotations

import posixpath
import re
import subprocess
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.dockerfile import exec_form, healthcheck_command, stages
from tests.support.environment import ROOT


def lock_pins() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from requirements.lock."""
    pins: dict[str, tuple[str, list[str]]] = {}
    text = (ROOT / "requirements.lock").read_text()
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", block)
        if match:
            pins[canonicalize_name(match.group(1))] = (
                match.group(2),
                re.findall(r"--hash=sha256:([0-9a-f]{64})", block),
            )
    return pins


def requirements() -> list[Requirement]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [Requirement(line) for line in (x.split("#")[0].strip() for x in lines) if line]


def test_the_lock_pins_every_requirement_within_its_range_with_hashes() -> None:
    pins = lock_pins()
    for requirement in requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is in requirements.txt but not in requirements.lock: run `make lock`"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside {requirement.specifier}: run `make lock`"
        )
    assert all(hashes for _, hashes in pins.values()), "every pin carries its hashes (pip --require-hashes)"


def test_a_slim_multi_stage_build_from_the_lock() -> None:
    args, (*builders, final) = stages()
    assert builders, "multi-stage: dependencies are built in an earlier stage"
    base = final.base
    for key, value in args.items():
        base = base.replace(f"${{{key}}}", value)
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", base), base
    assert all(stage.base == final.base for stage in builders)
    install = " ".join(stage.all("RUN")[i] for stage in builders for i in range(len(stage.all("RUN"))))
    assert "python -m venv /opt/venv" in install
    assert re.search(r"pip install .*--require-hashes .*-r \S*requirements\.lock", install)
    copies = final.all("COPY")
    assert any(re.fullmatch(r"--from=\w+ /opt/venv /opt/venv", c) for c in copies), copies
    assert final.env["PATH"].startswith("/opt/venv/bin:")


def test_the_final_stage_runs_unprivileged_in_exec_form_and_writes_only_its_volume() -> None:
    _, stage_list = stages()
    final = stage_list[-1]
    uid, _, gid = final.last("USER").partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or int(gid) != 0), "a numeric non-root user (runAsNonRoot)"
    assert exec_form(final.last("ENTRYPOINT")) == ["python", "app.py"]
    env = final.env
    assert env["SITREP_HTTP_HOST"] == "0.0.0.0"
    (volume,) = exec_form(final.last("VOLUME"))
    assert posixpath.dirname(env["SITREP_DB"]) == volume, "the SQLite file (and its key beside it) in the volume"
    assert "SITREP_KEY_FILE" not in env and "SITREP_SECRET_KEY" not in env  # the key: <SITREP_DB>.key, or given
    assert re.search(rf"chown {uid}:{gid or uid} {re.escape(volume)}\b", " ".join(final.all("RUN")))
    assert final.last("EXPOSE") == env["SITREP_HTTP_PORT"]
    assert healthcheck_command(final.last("HEALTHCHECK")) == ["python", "scripts/healthcheck.py"]
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1"  # a read-only root filesystem: no __pycache__ at run time


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def context() -> set[str]:
    """The repository's files that `COPY . /app` copies: the build context through .dockerignore, read by docker's
    own matcher (docker-py)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {f for f in listed if (ROOT / f).is_file()} & set(exclude_paths(str(ROOT), dockerignore()))


def test_the_build_context_holds_the_code(context: set[str]) -> None:
    for module in ROOT.glob("*.py"):
        assert module.name in context, f"{module.name} is not in the image"
    for package in ("agent", "alerts", "bot", "reports", "review", "skills", "storage", "text"):
        sources = {str(p.relative_to(ROOT)) for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts}
        assert sources <= context, f"{package}: {sorted(sources - context)[:3]} not in the image"
    assert {"manifest.json", "scripts/healthcheck.py"} <= context
    assert any(f.startswith("prompts/") for f in context)
    assert any(f.startswith("storage/migrations/") and f.endswith(".sql") for f in context)


def test_the_build_context_leaves_out_secrets_tests_and_tools(tmp_path: Path) -> None:
    """What a developer's checkout holds besides the code never reaches the image."""
    kept = ["app.py", "bot/web.py", "storage/migrations/0001_x.sql", "prompts/planner.j2", "scripts/healthcheck.py"]
    left_out = [
        ".env",
        ".env.production",
        "sitrep.db",
        "sitrep.db-wal",
        "sitrep.db.key",
        ".git/config",
        ".venv/bin/python",
        "tests/test_x.py",
        "bench/x.py",
        "docs/deploy.md",
        "README.md",
        "bot/__pycache__/web.cpython-311.pyc",
        "scripts/test_deps.py",
    ]
    for name in kept + left_out:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    copied = {f for f in exclude_paths(str(tmp_path), dockerignore()) if (tmp_path / f).is_file()}
    assert copied == set(kept)
