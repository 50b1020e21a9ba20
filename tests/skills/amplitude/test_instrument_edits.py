"""The rule-based instrumentation on single files: each handler shape and formatting gets its tracking call at the
right statement, nothing else moves, and every result parses; the init module and package.json edits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from skills.amplitude.instrument.plan import make_plan
from skills.amplitude.instrument.scaffold import PackageJsonError, add_dependency, init_module, is_ours
from skills.amplitude.instrument.scan import Entry, Snapshot
from skills.amplitude.instrument.syntax import check, language_of


def planned(files: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(the changed files' new text, the plan's left-alone lines) for a repository of these files."""
    files = {"package.json": '{"dependencies": {"next": "14"}}', **files}
    entries = {p: Entry(p, "sha-" + p, len(c)) for p, c in files.items()}
    snap = Snapshot("o/r", "main", "c" * 40, "t" * 40, entries, files=dict(files), next_found=True)
    plan = make_plan(snap)
    for change in plan.changes:
        if language := language_of(change.path):
            assert check(change.after.encode(), language) == [], change.path
    return {c.path: c.after for c in plan.changes if c.before is not None}, plan.left_alone


def test_a_wrapped_arrow_handler_in_the_app_router() -> None:
    source = (
        "import { withAuth } from '@/lib/auth';\n\n"
        "export const GET = withAuth(async (req: Request) => {\n"
        "  const ok = await check(req);\n"
        "  if (!ok) {\n"
        "    return new Response('forbidden', { status: 403 });\n"
        "  }\n"
        "  return Response.json({ ok });\n"
        "});\n"
    )
    after, _ = planned({"src/app/api/me/route.ts": source})
    assert after["src/app/api/me/route.ts"] == (
        "import { withAuth } from '@/lib/auth';\n"
        "import { trackApiError } from '../../../lib/amplitude';\n\n"
        "export const GET = withAuth(async (req: Request) => {\n"
        "  const ok = await check(req);\n"
        "  if (!ok) {\n"
        "    await trackApiError('/api/me', 403);\n"
        "    return new Response('forbidden', { status: 403 });\n"
        "  }\n"
        "  return Response.json({ ok });\n"
        "});\n"
    )


def test_caught_throws_and_nested_functions_are_not_the_handlers_exits() -> None:
    source = (
        "export function POST(req) {\n"
        "  const items = [1].map((x) => { return Response.json({}, { status: 500 }); });\n"
        "  try {\n"
        "    throw new Error('handled below');\n"
        "  } catch (error) {\n"
        "    throw error;\n"
        "  }\n"
        "}\n"
    )
    after, _ = planned({"app/api/items/route.js": source})
    edited = after["app/api/items/route.js"]
    assert edited.count("trackApiError('") == 1  # the rethrow: not the map callback, nor the throw caught below
    assert "    void trackApiError('/api/items', 500, error);\n    throw error;" in edited  # not async: not awaited


def test_commonjs_files_require_the_helpers() -> None:
    source = "const llm = require('./llm');\n\nasync function runAgent(agentId) {\n  return llm(agentId);\n}\n"
    after, _ = planned({"lib/runner.js": source + "module.exports = { runAgent };\n"})
    assert after["lib/runner.js"] == (
        "const llm = require('./llm');\nconst { trackAgentRun } = require('./amplitude');\n\n"
        "async function runAgent(agentId) {\n"
        "  return trackAgentRun({ agentId, agentType: 'runAgent' }, async () => {\n"
        "    return llm(agentId);\n"
        "  });\n"
        "}\nmodule.exports = { runAgent };\n"
    )


def test_an_awaited_agent_from_a_library_is_wrapped_where_it_is_called() -> None:
    source = "export async function POST(req) {\n  const out = await agent.run(await req.text());\n"
    source += "  return Response.json(out);\n}\n"
    after, _ = planned({"app/api/chat/route.js": source})
    assert (
        "  const out = await trackAgentRun({ agentType: 'agent.run' }, () => agent.run(await req.text()));\n"
        in after["app/api/chat/route.js"]
    )


def test_files_the_plan_must_not_touch() -> None:
    client = "'use client';\nexport async function runAgent(id) { return id }\n"
    edge = "export const runtime = 'edge';\nexport async function GET() { return new Response('', { status: 500 }) }\n"
    sync = "export function runAgent(agentId) { return agentId }\n"
    after, left = planned({"app/c.tsx": client, "app/api/edge/route.ts": edge, "lib/sync.ts": sync})
    assert after == {}
    assert any("Edge runtime" in line for line in left)


def test_runner_bodies_on_one_line_are_wrapped_in_place() -> None:
    source = "export async function runAgent(agentId: string) { const r = await go(agentId); return r }\n"
    after, _ = planned({"lib/agent.ts": source})
    assert after["lib/agent.ts"].endswith(
        "export async function runAgent(agentId: string) { return trackAgentRun({ agentId, agentType: 'runAgent' }, "
        "async () => { const r = await go(agentId); return r }); }\n"
    )


def test_the_init_module_parses_and_reads_the_key_from_the_environment() -> None:
    for language, region in (("typescript", "us"), ("javascript", "eu")):
        code = init_module(language, region)
        assert check(code.encode(), language) == []
        assert "process.env.AMPLITUDE_API_KEY" in code and is_ours(code)
        assert ("serverZone: 'EU'" in code) is (region == "eu")
    assert ": unknown" not in init_module("javascript")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('{"name": "x"}', '{"name": "x",\n  "dependencies": {\n    "@amplitude/analytics-node": "^1.5.0"\n  }}'),
        ('{\n\t"dependencies": {}\n}', '{\n\t"dependencies": {\n\t\t"@amplitude/analytics-node": "^1.5.0"\n\t}\n}'),
        ('{"dependencies": {"zod": "3"}}', '{"dependencies": {"@amplitude/analytics-node": "^1.5.0", "zod": "3"}}'),
        ('{"dependencies": {"@a/b": "1"}}', '{"dependencies": {"@a/b": "1", "@amplitude/analytics-node": "^1.5.0"}}'),
    ],
)
def test_package_json_gains_the_sdk_in_place(before: str, after: str) -> None:
    edited = add_dependency(before)
    assert edited.added and edited.after == after
    assert json.loads(edited.after)["dependencies"]["@amplitude/analytics-node"] == "^1.5.0"


def test_package_json_already_with_the_sdk_or_unreadable() -> None:
    present = '{"devDependencies": {"@amplitude/analytics-node": "1.3.0"}}'
    assert add_dependency(present).after == present and not add_dependency(present).added
    with pytest.raises(PackageJsonError):
        add_dependency("{not json")
    with pytest.raises(PackageJsonError):
        add_dependency("[]")


@pytest.mark.e2e
def test_the_grammars_load_at_the_first_parse_not_at_start_up() -> None:
    code = "import sys, app, bot.slack, skills.amplitude.instrument.points; print('tree_sitter' in sys.modules)"
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"
    parsed = "from skills.amplitude.instrument.syntax import check; import sys; check(b'1', 'typescript');"
    out = subprocess.run(
        [sys.executable, "-c", parsed + "print('tree_sitter' in sys.modules)"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == "True"
