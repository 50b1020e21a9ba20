"""What `make test` needs beyond Python: the servers the tests start on free ports of their own.

    python3 scripts/test_deps.py         # `make test-deps`, and the first step of `make test`

- Prometheus (Debian `prometheus`): the Grafana client's test against a real Prometheus;
- PostgreSQL (`postgresql`: initdb and pg_ctl, and under root the `postgres` user they run as): the storage suites
  on the second backend and the two-replica tests;
- PgBouncer (`pgbouncer`): the storage suites through a transaction-mode pooler.

Run as root on a machine with apt-get, it installs the missing packages and stops the services the packages start
(the tests start their own). Otherwise it prints one line naming the command to run and exits 1, so no test fails
or skips later for want of a binary. Standard library only: it runs before the virtualenv exists.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Sequence

# Debian package -> the executables the tests look for (tests/support/pg_server.py, test_prometheus_real.py)
PACKAGES: dict[str, tuple[str, ...]] = {
    "prometheus": ("prometheus",),
    "postgresql": ("initdb", "pg_ctl"),
    "pgbouncer": ("pgbouncer",),
}
# Where Debian puts what is not on a user's PATH: PostgreSQL's server binaries and PgBouncer.
EXTRA_DIRS = ("/usr/lib/postgresql/*/bin", "/usr/sbin", "/usr/bin")
INSTALL_HINT = "sudo make test-deps"


def search_path(environ_path: str | None = None, extra: Sequence[str] = EXTRA_DIRS) -> str:
    dirs = (environ_path if environ_path is not None else os.environ.get("PATH", "")).split(os.pathsep)
    for pattern in extra:
        dirs.extend(sorted(glob.glob(pattern), reverse=True))
    return os.pathsep.join(d for d in dirs if d)


def missing_packages(path: str, *, root: bool, has_user: bool) -> list[str]:
    """The Debian packages whose executables are not found on `path`; under root PostgreSQL also needs its user."""
    missing = [pkg for pkg, bins in PACKAGES.items() if not all(shutil.which(b, path=path) for b in bins)]
    if root and "postgresql" not in missing and not has_user:
        missing.append("postgresql")
    return sorted(missing, key=list(PACKAGES).index)


def advice(missing: Sequence[str]) -> str:
    """The one line for someone who cannot install as this user."""
    names = " ".join(missing)
    return (
        f"make test needs {names} (the tests start their own servers on free ports): run `{INSTALL_HINT}` "
        f"(Debian/Ubuntu: apt-get install {names}; elsewhere your package manager's), then `make test` again"
    )


def _postgres_user() -> bool:
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return True


def install(missing: Sequence[str]) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    # The packages may start system services (Prometheus on 9090, a cluster on 5432, PgBouncer on 6432).
    if shutil.which("systemctl"):
        for service in missing:
            subprocess.run(["systemctl", "stop", service], check=False, capture_output=True)


def main() -> int:
    root = os.geteuid() == 0
    missing = missing_packages(search_path(), root=root, has_user=_postgres_user())
    if not missing:
        return 0
    if root and shutil.which("apt-get"):
        print(f"make test: installing {' '.join(missing)} (apt-get)", file=sys.stderr)
        install(missing)
        still = missing_packages(search_path(), root=root, has_user=_postgres_user())
        if not still:
            return 0
        missing = still
    print(advice(missing), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
