"""The Dockerfile read as Docker reads it, enough for the tests: instructions with their continuation lines joined,
split into stages, ENV pairs and the exec-form (JSON) arguments of ENTRYPOINT, CMD and HEALTHCHECK."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.environment import ROOT


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, its arguments)

    def all(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]

    def last(self, instruction: str) -> str:
        found = self.all(instruction)
        assert found, f"no {instruction} in the stage FROM {self.base}"
        return found[-1]

    @property
    def env(self) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for args in self.all("ENV"):
            for word in shlex.split(args):
                key, sep, value = word.partition("=")
                assert sep, f"ENV {args!r}: use the key=value form"
                pairs[key] = value
        return pairs


def instructions(text: str) -> list[tuple[str, str]]:
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    out = []
    for line in logical:
        name, _, args = line.partition(" ")
        out.append((name.upper(), args.strip()))
    return out


def stages(path: Path = ROOT / "Dockerfile") -> tuple[dict[str, str], list[Stage]]:
    """(the ARGs before the first FROM, with their defaults; the stages in order)."""
    args: dict[str, str] = {}
    found: list[Stage] = []
    for name, rest in instructions(path.read_text()):
        if name == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.IGNORECASE)
            assert match, f"FROM {rest!r}"
            found.append(Stage(match.group(1), match.group(2)))
        elif not found:
            assert name == "ARG", f"{name} before the first FROM"
            key, _, value = rest.partition("=")
            args[key] = value
        else:
            found[-1].instructions.append((name, rest))
    return args, found


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form instruction (a shell-form string fails the test)."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), f"not exec form: {args}"
    return value


def healthcheck_command(args: str) -> list[str]:
    """HEALTHCHECK [--options] CMD ["..."] -> the command."""
    _, sep, command = args.partition("CMD ")
    assert sep, f"HEALTHCHECK {args!r} has no CMD"
    return exec_form(command.strip())
