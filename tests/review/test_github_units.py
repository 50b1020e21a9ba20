"""Pure parts of the GitHub skill: Next.js routes, diff hunks, findings, the patch budget, the review body."""

from __future__ import annotations

from review.findings import apply_edits, find
from review.gather import PullRequestData, budget_patches, parse_pr_url
from review.render import MAX_BODY_CHARS, bound_body, inline_comments
from skills.github.diff import parse_diff
from skills.nextjs import route_for
from tests.fakes.github_repo import added_patch
from tests.support.github_world import ROUTE_FILE, ROUTE_TS

DIFF = """diff --git a/lib/a.ts b/lib/a.ts
index 1..2 100644
--- a/lib/a.ts
+++ b/lib/a.ts
@@ -10,4 +10,5 @@ export function a() {
 const x = 1;
-const y = 2;
+const y = 3;
+const z = 4;
 return x;
 }
diff --git a/pages/api/users/[uid].ts b/pages/api/users/[uid].ts
new file mode 100644
--- /dev/null
+++ b/pages/api/users/[uid].ts
@@ -0,0 +1,2 @@
+export default function handler(req, res) {
+}
"""


def test_nextjs_file_paths_map_to_routes() -> None:
    cases = {
        "app/api/agents/[id]/run/route.ts": "/api/agents/<id>/run",
        "src/app/api/health/route.js": "/api/health",
        "pages/api/users/[uid].ts": "/api/users/<uid>",
        "pages/api/items/index.ts": "/api/items",
        "app/(dashboard)/settings/page.tsx": "/settings",
        "pages/api/files/[...path].ts": "/api/files/<path>",
    }
    for file, display in cases.items():
        route = route_for(file)
        assert route is not None and route.display == display, file
    assert route_for("lib/agents.ts") is None
    run = route_for("app/api/agents/[id]/run/route.ts")
    assert run is not None and run.matches('"path":"/api/agents/8f3k2/run"') and not run.matches("/api/agents/run")
    catch_all = route_for("pages/api/files/[...path].ts")
    assert catch_all is not None and catch_all.matches("/api/files/a/b/c ")


def test_diff_hunks_give_commentable_lines() -> None:
    a, b = parse_diff(DIFF)
    assert (a.path, a.status, b.path, b.status) == ("lib/a.ts", "modified", "pages/api/users/[uid].ts", "added")
    assert a.added == {11: "const y = 3;", 12: "const z = 4;"} and a.commentable == {10, 11, 12, 13, 14}
    assert 15 not in a.commentable and (a.additions, a.deletions) == (2, 1)
    assert b.commentable == {1, 2}


def pr_with(files: dict[str, str]) -> PullRequestData:
    diff = "".join(
        f"diff --git a/{p} b/{p}\nnew file mode 100644\n--- /dev/null\n+++ b/{p}\n{added_patch(c)}\n"
        for p, c in files.items()
    )
    return PullRequestData("o/r", 1, "t", "", "dev", "u", "h" * 40, "f", "o/r", "main", False, parse_diff(diff), "diff")


def test_findings_for_an_untracked_route_and_their_edits() -> None:
    pr = pr_with({ROUTE_FILE: ROUTE_TS, "lib/x.ts": "try { a() } catch (e) {}\n"})
    findings = find(pr)
    kinds = sorted((f.kind, f.path) for f in findings)
    assert kinds == [("error-handling", "lib/x.ts"), ("tracking", ROUTE_FILE)]
    tracking = next(f for f in findings if f.kind == "tracking")
    patched = apply_edits(ROUTE_TS, list(tracking.edits))
    assert patched.startswith("import { track } from '@amplitude/analytics-node';\nimport { NextResponse }")
    assert (
        "  } catch (err) {\n    track('API Error', { endpoint: new URL(req.url).pathname, status_code: 500" in patched
    )
    assert find(pr_with({ROUTE_FILE: patched})) == []  # once tracked, no finding


def test_agent_invocation_outside_a_route_gets_agent_started() -> None:
    code = "export async function go(agentId) {\n  const r = await runAgent(agentId);\n  return r;\n}\n"
    [finding] = find(pr_with({"lib/jobs.ts": code}))
    assert any("track('Agent Started', { agent_id: agentId }" in line for e in finding.edits for line in e.lines)


def test_inline_comments_only_on_lines_inside_hunks() -> None:
    pr = pr_with({ROUTE_FILE: ROUTE_TS})
    findings = find(pr)
    comments = inline_comments(pr, findings, suggestions=True)
    fp = pr.file(ROUTE_FILE)
    assert comments and fp is not None and all(c["line"] in fp.commentable for c in comments)
    pr.files[0].commentable.clear()
    assert inline_comments(pr, findings, suggestions=True) == []


def test_budget_keeps_routes_first_and_lists_the_rest() -> None:
    files = {f"lib/gen{i}.ts": "x\n" * 400 for i in range(20)}
    files[ROUTE_FILE] = ROUTE_TS
    files["package-lock.json"] = "{}\n" * 1000
    pr = pr_with(files)
    b = budget_patches(pr.files, budget_tokens=2000)
    assert b.included[0].path == ROUTE_FILE
    assert "package-lock.json" in [f.path for f in b.listed]
    assert b.tokens <= 2000 and len(b.included) + len(b.listed) == 22


def test_body_is_bounded_and_urls_parse() -> None:
    assert len(bound_body("x" * 100_000)) <= MAX_BODY_CHARS < 65_536
    assert parse_pr_url("see <https://github.com/mochacare/web/pull/12|PR>") == ("mochacare/web", 12)
    assert parse_pr_url("https://ghe.corp/api/v3/x") is None
