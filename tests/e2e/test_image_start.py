"""The container image without Docker (no daemon or base image here): the app installed the way the Dockerfile
installs it (a venv from requirements.lock, hashes checked; the code copied through .dockerignore and compiled),
then started the way the image runs it: its ENV, WORKDIR and ENTRYPOINT, as its numeric USER with every capability
dropped, on a root filesystem remounted read-only in a private mount namespace where only the data directory (the
VOLUME) is writable. /healthz and /readyz answer, the HEALTHCHECK passes, and the SQLite file and its key are
written in the data directory, nowhere else."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from docker.utils.build import exclude_paths

from tests.fakes.slack import FakeSlack
from tests.support.app_process import AppProcess
from tests.support.dockerfile import Stage, exec_form, healthcheck_command, stages
from tests.support.environment import ROOT
from tests.support.pg_server import free_port

pytestmark = pytest.mark.e2e  # starts processes: `pytest -m "not e2e"` skips it

# In a private mount namespace: the data directory stays writable (a mount of its own), everything else read-only;
# then the command runs as the image's user, without capabilities or a way to gain them.
AS_THE_IMAGE = """set -e
data=$1 workdir=$2 user=$3 group=$4; shift 4
mount --bind "$data" "$data"
mount -o remount,bind,ro /
cd "$workdir"
exec setpriv --reuid="$user" --regid="$group" --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
  -- "$@"
"""


@dataclass
class Image:
    root: Path  # stands for the image's /
    final: Stage

    @property
    def venv(self) -> Path:
        return self.root / "opt" / "venv"

    @property
    def workdir(self) -> Path:
        return self.root / self.final.last("WORKDIR").lstrip("/")

    @property
    def data(self) -> Path:
        (volume,) = exec_form(self.final.last("VOLUME"))
        return self.root / volume.lstrip("/")

    @property
    def user(self) -> tuple[int, int]:
        uid, _, gid = self.final.last("USER").partition(":")
        return int(uid), int(gid or uid)

    def env(self, **extra: str) -> dict[str, str]:
        """The image's ENV, its paths under `root`; PATH ends with the base image's."""
        env = {"HOME": "/nonexistent"}
        for key, value in self.final.env.items():
            value = value.replace("$PATH", "/usr/local/bin:/usr/bin:/bin")
            for path in ("/opt/venv", "/data", "/app"):
                value = value.replace(path, str(self.root) + path)
            env[key] = value
        env.update(extra)
        return env

    def argv(self, command: list[str]) -> list[str]:
        uid, gid = self.user
        return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", AS_THE_IMAGE, "sh"] + [
            str(self.data),
            str(self.workdir),
            str(uid),
            str(gid),
            *command,
        ]


def usable_by_anyone(path: Path) -> bool:
    """The interpreter and every directory above it can be reached by a user who is not root."""
    real = path.resolve()
    return real.is_file() and all(p.stat().st_mode & stat.S_IXOTH for p in real.parents) and os.access(real, os.X_OK)


def base_python() -> str:
    """A Python 3.11 the image's user can run (the image has its own in /usr/local/bin; a root-only pyenv cannot
    stand in for it)."""
    candidates = [Path(getattr(sys, "_base_executable", sys.executable)), Path(sys.executable)]
    candidates += [Path("/usr/local/bin/python3.11"), Path("/usr/bin/python3.11")]
    for candidate in candidates:
        if usable_by_anyone(candidate):
            return str(candidate)
    pytest.fail(f"no Python 3.11 that a non-root user can run among {[str(c) for c in candidates]}")


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def image() -> Iterator[Image]:
    """Built once for the module in a directory the image's user can read (pytest's tmp_path is root's only)."""
    if os.geteuid() != 0:
        pytest.fail("the image test remounts / read-only and becomes the image's user: run it as root (CI does)")
    _, all_stages = stages()
    root = Path(tempfile.mkdtemp(prefix="sitrep-image-"))
    root.chmod(0o755)
    built = Image(root, all_stages[-1])
    try:
        # the build stage: the venv from the lock (pip checks every hash), then the code, compiled
        subprocess.run([base_python(), "-m", "venv", str(built.venv)], check=True)
        subprocess.run(
            [str(built.venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
            + ["--require-hashes", "--no-deps", "-r", str(ROOT / "requirements.lock")],
            check=True,
        )
        for name in exclude_paths(str(ROOT), dockerignore()):
            source = ROOT / name
            if source.is_file():
                (built.workdir / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, built.workdir / name)
        subprocess.run([str(built.venv / "bin" / "python"), "-m", "compileall", "-q", str(built.workdir)], check=True)
        built.data.mkdir(parents=True)
        os.chown(built.data, *built.user)
        built.data.chmod(0o700)
        yield built
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def run_as_image(image: Image, command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(image.argv(command), env=image.env(**env), capture_output=True, text=True, timeout=60)


def test_outside_the_data_directory_nothing_can_be_written(image: Image) -> None:
    """The emulation is real: the image's user cannot write the code, /tmp or anything but the volume."""
    probe = image.workdir / "written-at-run-time"
    done = run_as_image(image, ["sh", "-c", f"touch {probe} || touch /tmp/sitrep-image-probe || exit 3"])
    assert done.returncode == 3, done.stderr
    assert "Read-only file system" in done.stderr
    assert not probe.exists() and not Path("/tmp/sitrep-image-probe").exists()
    wrote = run_as_image(image, ["sh", "-c", f"touch {image.data}/probe && rm {image.data}/probe"])
    assert wrote.returncode == 0, wrote.stderr


async def test_the_app_starts_as_the_image_runs_it(image: Image, slack: FakeSlack) -> None:
    port = free_port()
    env = image.env(
        SITREP_HTTP_PORT=str(port),
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_APP_TOKEN=slack.app_token,
        SLACK_API_URL=slack.api_url,
    )
    assert env["SITREP_HTTP_HOST"] == "0.0.0.0" and "SITREP_SECRET_KEY" not in env
    healthcheck = healthcheck_command(image.final.last("HEALTHCHECK"))
    app = await AppProcess("image", env, argv=image.argv(exec_form(image.final.last("ENTRYPOINT")))).start()
    try:
        await app.wait_line(r"connected to Slack as @", timeout=60)
        assert app.proc is not None
        status = Path(f"/proc/{app.proc.pid}/status").read_text()
        uid = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
        assert uid == [str(image.user[0])] * 4, "sitrep runs as the image's user, not root"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as web:
            assert (await web.get("/healthz")).status_code == 200
            ready = await web.get("/readyz")
            assert ready.status_code == 200, ready.text
        check = await asyncio.to_thread(run_as_image, image, healthcheck, SITREP_HTTP_PORT=str(port))
        assert check.returncode == 0, check.stderr
    finally:
        assert await app.stop() == 0, app.log
    assert "Read-only file system" not in app.log and "Permission denied" not in app.log, app.log

    written = {p.name: p for p in image.data.iterdir()}
    assert {"sitrep.db", "sitrep.db.key"} <= set(written), sorted(written)
    assert set(written) <= {"sitrep.db", "sitrep.db.key", "sitrep.db-wal", "sitrep.db-shm"}, sorted(written)
    key = written["sitrep.db.key"].stat()
    assert stat.S_IMODE(key.st_mode) == 0o600 and key.st_uid == image.user[0]

    stopped = await asyncio.to_thread(run_as_image, image, healthcheck, SITREP_HTTP_PORT=str(port))
    assert stopped.returncode == 1 and "healthcheck:" in stopped.stderr
