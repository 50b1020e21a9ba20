"""`python app.py` as a real process for the fault tests: its stderr read line by line, waited on by pattern."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from contextlib import suppress
from pathlib import Path

from cryptography.fernet import Fernet

from tests.fakes.slack import FakeSlack
from tests.support.environment import ROOT, subprocess_env


def app_env(tmp: Path, slack: FakeSlack, **extra: str) -> dict[str, str]:
    """A connected sitrep on its own database, pointed at the local Slack."""
    return {
        "SITREP_DB": str(tmp / "sitrep.db"),
        "SITREP_SECRET_KEY": extra.pop("SITREP_SECRET_KEY", "") or Fernet.generate_key().decode(),
        "SITREP_TIMEZONE": "UTC",
        "SITREP_HTTP_PORT": "0",
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.api_url,
        **extra,
    }


class AppProcess:
    """`python app.py` from this checkout with `env` added to a clean environment; or, with `argv`, that command in
    `cwd` with `env` as its whole environment (tests/e2e/test_image_start.py: the app as the image runs it)."""

    def __init__(
        self, name: str, env: dict[str, str], *, argv: list[str] | None = None, cwd: Path | None = None
    ) -> None:
        self.name = name
        self.env = env
        self.argv = argv
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> AppProcess:
        argv = self.argv or [sys.executable, str(ROOT / "app.py")]
        self.proc = await asyncio.create_subprocess_exec(
            *argv,
            env=self.env if self.argv else subprocess_env(self.env),
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            async with self._changed:
                self.lines.append(line.decode(errors="replace").rstrip())
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    async def wait_line(self, pattern: str, timeout: float = 30.0, *, nth: int = 1) -> str:
        """The `nth` stderr line matching the regex (waiting for it); TimeoutError with the log when none comes."""
        regex = re.compile(pattern)

        def found() -> str | None:
            matching = [line for line in self.lines if regex.search(line)]
            return matching[nth - 1] if len(matching) >= nth else None

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: found() is not None or self.exited)
        except TimeoutError:
            raise TimeoutError(f"{self.name}: no line matching {pattern!r}:\n" + self.log) from None
        line = found()
        if line is None:
            raise AssertionError(f"{self.name} exited without a line matching {pattern!r}:\n" + self.log)
        return line

    @property
    def exited(self) -> bool:
        return (
            self.proc is None or self.proc.returncode is not None or (self._reader is not None and self._reader.done())
        )

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), 10)
        await self._drain()

    async def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; the exit status."""
        assert self.proc is not None
        if self.proc.returncode is None:
            with suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise
        await self._drain()
        return self.proc.returncode or 0

    async def _drain(self) -> None:
        if self._reader is not None:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._reader, 5)
