"""A real PostgreSQL server for the tests: initdb in a temporary directory, started on a free loopback port; and a
real PgBouncer in transaction mode in front of it (`PgBouncer`), as managed poolers put one in front of theirs.

PostgreSQL and PgBouncer refuse to run as root, so under root (CI) they run as the `postgres` user that Debian's
package creates. `make test` installs the packages first when `initdb`/`pg_ctl`/`pgbouncer` are not found
(scripts/test_deps.py).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    candidates += [path for path in (f"/usr/sbin/{name}",) if os.access(path, os.X_OK)]  # Debian's pgbouncer
    return candidates[0] if candidates else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One server per test session; each test gets its own database (`database()`)."""

    def __init__(self) -> None:
        initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError(
                "PostgreSQL's initdb/pg_ctl not found: run `sudo make test-deps` (apt-get install postgresql)"
            )
        self.pg_ctl = pg_ctl
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="sitrep-pg-"))
        self.data = self.dir / "data"
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            owner = pwd.getpwnam(self.user)
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self._run([initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=200"
        )
        self._run([pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start"])
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def as_owner(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self.user, "--", *argv] if self.user is not None else argv

    def _run(self, argv: list[str]) -> None:
        argv = self.as_owner(argv)
        done = subprocess.run(argv, capture_output=True, text=True, cwd=self.dir, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[-1] if argv else ''} failed: {done.stdout}{done.stderr}")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return name

    async def drop_database(self, name: str) -> None:
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    @asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        """A fresh, empty database's URL, dropped afterwards."""
        name = await self.create_database()
        try:
            yield self.url(name)
        finally:
            await self.drop_database(name)

    def stop(self) -> None:
        try:
            self._run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


BOUNCER_INI = """\
[databases]
* = host=127.0.0.1 port={pg_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {dir}/userlist.txt
admin_users = postgres
pool_mode = transaction
server_reset_query =
max_client_conn = 400
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
"""
KEEPS_PREPARED_STATEMENTS = (1, 21)  # from this version PgBouncer can keep them (max_prepared_statements, 0 = off)


def bouncer_version(binary: str) -> tuple[int, int]:
    """`pgbouncer --version` says "PgBouncer 1.18.0" on its first line."""
    first = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.split("\n")[0]
    major, minor = first.split()[1].split(".")[:2]
    return int(major), int(minor)


class PgBouncer:
    """PgBouncer in `pool_mode = transaction` in front of `server`: every client connection shares `pool_size`
    server connections per database, handed out one transaction (or one statement outside a transaction) at a time,
    with no reset in between: what a pooled SITREP_DB sees. PgBouncer before 1.21 keeps no prepared statements, so
    neither does this one, whatever its version."""

    def __init__(self, server: PgServer, *, pool_size: int = 2) -> None:
        binary = find_bin("pgbouncer")
        if not binary:
            raise RuntimeError("pgbouncer not found: run `sudo make test-deps` (apt-get install pgbouncer)")
        self.server = server
        self.port = free_port()
        self.dir = server.dir / "pgbouncer"
        self.dir.mkdir()
        ini = self.dir / "pgbouncer.ini"
        config = BOUNCER_INI.format(pg_port=server.port, port=self.port, dir=self.dir, pool_size=pool_size)
        if bouncer_version(binary) >= KEEPS_PREPARED_STATEMENTS:
            config += "max_prepared_statements = 0\n"  # what older PgBouncers and most managed poolers do
        ini.write_text(config)
        (self.dir / "userlist.txt").write_text('"postgres" ""\n')
        if server.user is not None:
            owner = pwd.getpwnam(server.user)
            for path in (self.dir, ini, self.dir / "userlist.txt"):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self.log: list[str] = []
        self._up = threading.Event()
        self.process = subprocess.Popen(
            server.as_owner([binary, str(ini)]), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self._up.wait(timeout=30) or self.process.poll() is not None:
            self.stop()
            raise RuntimeError("pgbouncer did not start: " + "".join(self.log))

    def _read_log(self) -> None:
        """PgBouncer says "process up" once it listens; its log is drained so it never blocks on a full pipe."""
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            if " process up: " in line:
                self._up.set()
        self._up.set()  # it exited: whoever waits finds out from poll()

    def url(self, database: str) -> str:
        """The database through the pooler, saying so as docs/deploy.md tells (`pgbouncer=true`)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}?pgbouncer=true"

    @asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        """A fresh, empty database on the server, reached through the pooler; dropped afterwards."""
        name = await self.server.create_database()
        try:
            yield self.url(name)
        finally:
            await self.server.drop_database(name)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
