"""`make test` obtains the servers the tests start (scripts/test_deps.py), or stops with one line naming the command."""

from __future__ import annotations

import re
from pathlib import Path

from scripts.test_deps import INSTALL_HINT, PACKAGES, advice, missing_packages, search_path
from tests.support.environment import ROOT


def _bin_dir(tmp_path: Path, names: list[str]) -> str:
    for name in names:
        exe = tmp_path / name
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    return str(tmp_path)


def test_nothing_found_names_every_package(tmp_path: Path) -> None:
    assert missing_packages(str(tmp_path), root=False, has_user=False) == ["prometheus", "postgresql", "pgbouncer"]


def test_everything_found_needs_nothing(tmp_path: Path) -> None:
    path = _bin_dir(tmp_path, [b for bins in PACKAGES.values() for b in bins])
    assert missing_packages(path, root=False, has_user=False) == []
    assert missing_packages(path, root=True, has_user=True) == []


def test_under_root_postgresql_also_needs_its_user(tmp_path: Path) -> None:
    """The tests run initdb as `postgres` under root; Debian's package creates that user."""
    path = _bin_dir(tmp_path, [b for bins in PACKAGES.values() for b in bins])
    assert missing_packages(path, root=True, has_user=False) == ["postgresql"]


def test_half_of_postgresql_is_not_postgresql(tmp_path: Path) -> None:
    path = _bin_dir(tmp_path, ["prometheus", "pgbouncer", "initdb"])
    assert missing_packages(path, root=False, has_user=True) == ["postgresql"]


def test_debian_server_directories_are_searched(tmp_path: Path) -> None:
    pg_bin = tmp_path / "lib" / "postgresql" / "15" / "bin"
    pg_bin.mkdir(parents=True)
    _bin_dir(pg_bin, ["initdb", "pg_ctl"])
    path = search_path("", extra=[str(tmp_path / "lib" / "postgresql" / "*" / "bin")])
    assert missing_packages(path, root=False, has_user=True) == ["prometheus", "pgbouncer"]


def test_the_advice_is_one_line_with_the_command() -> None:
    line = advice(["prometheus", "pgbouncer"])
    assert "\n" not in line
    assert f"`{INSTALL_HINT}`" in line and "apt-get install prometheus pgbouncer" in line


def test_make_test_obtains_them_first_and_ci_runs_make_test() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: test-deps\b", makefile, re.M)
    assert re.search(r"^test-deps:\n\t@?\$\(PYTHON\) scripts/test_deps.py$", makefile, re.M)
    assert INSTALL_HINT == "sudo make test-deps"
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
