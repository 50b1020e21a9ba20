"""`.env.example` lists every setting of settings.py, and nothing else, each under a one-line comment that ends
with its default; every variable is commented out with no value, so a copy changes nothing until one is filled in
(`docker run --env-file` would set an empty SITREP_HTTP_HOST over the image's 0.0.0.0, which reads as unset)."""

from __future__ import annotations

import re
from typing import Any

from settings import Settings
from tests.support.environment import ROOT

VARIABLE = re.compile(r"^#?([A-Z][A-Z0-9_]*)=(.*)$")
DEFAULT = re.compile(r"^# \S.* \(default: (.+)\)$")


def settings_defaults() -> dict[str, Any]:
    return {str(info.validation_alias): info.default for info in Settings.model_fields.values()}


def shown(default: Any) -> str:
    if default is None:
        return "unset"
    if default == ():
        return "none"
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def example() -> dict[str, tuple[str, str]]:
    """name -> (value, the comment line above it)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    found: dict[str, tuple[str, str]] = {}
    for i, line in enumerate(lines):
        match = VARIABLE.match(line)
        if match:
            assert match.group(1) not in found, f"{match.group(1)} is listed twice"
            found[match.group(1)] = (match.group(2), lines[i - 1] if i else "")
    return found


def test_every_setting_is_listed_and_nothing_else() -> None:
    assert sorted(example()) == sorted(settings_defaults())


def test_each_has_a_one_line_comment_with_its_default() -> None:
    defaults = settings_defaults()
    for name, (_, comment) in example().items():
        match = DEFAULT.match(comment)
        assert match, f"{name}: the line above it must be '# <what it is> (default: <default>)', not {comment!r}"
        assert match.group(1) == shown(defaults[name]), f"{name}: default {match.group(1)!r} in .env.example"


def test_every_variable_is_commented_out_without_a_value() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    assigned = [line for line in lines if VARIABLE.match(line) and not re.fullmatch(r"#[A-Z][A-Z0-9_]*=", line)]
    assert assigned == []
    assert Settings.from_env({name: "" for name in example()}) == Settings.from_env({})
