"""A pull request reviewed end to end against the fake GitHub and Grafana: production context with links, one
review per head, the 406 and 422 fallbacks, the coding subagent in suggest and commit modes."""

from __future__ import annotations

from pathlib import Path

from review.pipeline import review_pull
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.github_repo import PullFile, added_patch
from tests.support.github_world import INSTALLATION, REPO, ROUTE_FILE, TIMEOUTS, github_world, route_pull_files


async def test_rule_based_review_cites_production_errors_with_links(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        pr = w.github.add_pull(REPO, 7, route_pull_files(), title="Run agents with a timeout")
        out = await review_pull(w.services, await w.team(), REPO, 7, head_sha=pr.head_sha, notify=w.notify)
        assert out.status == "posted", out.reason
        [review] = w.github.repo(REPO).reviews
        assert review["commit_id"] == pr.head_sha
        body = review["body"]
        assert "`/api/agents/<id>/run`" in body
        assert f"{TIMEOUTS} error lines in the last 24 h" in body
        assert "top pattern `TimeoutError: agent <*> exceeded " in body and f"({TIMEOUTS}×)" in body
        assert f"{w.grafana.url}/explore?" in body
        assert "emits none of the tracking plan's events" in body
        assert out.planner == "rules"
        assert w.notes and w.notes[0][0] == "C0PRNOTES" and review["html_url"] in w.notes[0][1]


async def test_review_cites_amplitude_api_errors_of_the_touched_route(tmp_path: Path) -> None:
    async with FakeAmplitude() as amp:
        for i, n in enumerate((4, 3)):
            amp.add_events("API Error", amp.today, n, endpoint=f"/api/agents/agent-{i}/run", status_code=500)
        amp.add_events("API Error", amp.today, 9, endpoint="/api/agents/list", status_code=500)
        async with github_world(tmp_path, amplitude=amp) as w:
            pr = w.github.add_pull(REPO, 16, route_pull_files())
            out = await review_pull(w.services, await w.team(), REPO, 16, head_sha=pr.head_sha)
            assert out.status == "posted", out.reason
            body = w.github.repo(REPO).reviews[0]["body"]
            assert "Amplitude `API Error`: 7 in 7 days ([Amplitude](https://" in body


async def test_a_head_is_reviewed_once_and_forced_review_runs_again(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        pr = w.github.add_pull(REPO, 8, route_pull_files())
        team = await w.team()
        first = await review_pull(w.services, team, REPO, 8, head_sha=pr.head_sha)
        again = await review_pull(w.services, team, REPO, 8, head_sha=pr.head_sha)
        forced = await review_pull(w.services, team, REPO, 8, forced_by="comment:1")
        assert (first.status, again.status, forced.status) == ("posted", "skipped", "posted")
        assert len(w.github.repo(REPO).reviews) == 2


async def test_unrouted_repo_is_ignored(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        w.github.add_pull("mochacare/other", 1, route_pull_files())
        out = await review_pull(w.services, await w.team(), "mochacare/other", 1, head_sha="abc")
        assert out.status == "skipped" and "not routed" in out.reason
        assert not w.github.seen("GET", "/repos/mochacare/other")


async def test_diff_too_large_falls_back_to_the_files_list(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        w.github.diff_too_large = True
        pr = w.github.add_pull(REPO, 9, route_pull_files())
        out = await review_pull(w.services, await w.team(), REPO, 9, head_sha=pr.head_sha)
        assert out.status == "posted", out.reason
        assert [s.status for s in w.github.seen("GET", "/pulls/9") if "diff" in s.headers.get("Accept", "")] == [406]
        assert w.github.seen("GET", "/pulls/9/files")
        assert "read the files list" in w.github.repo(REPO).reviews[0]["body"]


async def test_review_with_a_line_outside_the_diff_is_posted_again_without_inline_comments(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        await w.services.storage.config.patch("default", {"agents": {"coding": {"enabled": True}}}, "test")
        pr = w.github.add_pull(REPO, 10, route_pull_files())
        # force-pushed between reading and posting: GitHub no longer has those lines in the diff
        w.github.repo(REPO).pulls[10].files_at_post = [PullFile(ROUTE_FILE, "@@ -0,0 +1,1 @@\n+x", content="x")]
        out = await review_pull(w.services, await w.team(), REPO, 10, head_sha=pr.head_sha)
        assert out.status == "posted" and out.fell_back and out.inline == 0
        posts = w.github.seen("POST", "/pulls/10/reviews")
        assert [p.status for p in posts] == [422, 200]
        assert posts[0].json()["comments"] and "comments" not in posts[1].json()
        assert "(422)" in w.github.repo(REPO).reviews[0]["body"]


async def test_suggest_mode_puts_a_track_call_in_a_suggestion_block(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        await w.services.storage.config.patch("default", {"agents": {"coding": {"enabled": True}}}, "test")
        pr = w.github.add_pull(REPO, 11, route_pull_files())
        out = await review_pull(w.services, await w.team(), REPO, 11, head_sha=pr.head_sha)
        assert out.status == "posted" and out.inline >= 1
        comments = w.github.repo(REPO).reviews[0]["comments"]
        blocks = [c["body"] for c in comments if "```suggestion" in c["body"]]
        assert any("track('API Error'" in b and "} catch (err) {" in b for b in blocks)
        assert any("import { track } from '@amplitude/analytics-node';" in b for b in blocks)
        assert all(c["path"] == ROUTE_FILE for c in comments)


async def test_commit_mode_pushes_one_commit_to_the_head_branch(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        await w.services.storage.config.patch(
            "default", {"agents": {"coding": {"enabled": True, "mode": "commit"}}}, "t"
        )
        pr = w.github.add_pull(REPO, 12, route_pull_files())
        repo = w.github.repo(REPO)
        main_before, head = repo.refs.get("main"), pr.head_sha
        out = await review_pull(w.services, await w.team(), REPO, 12, head_sha=head)
        assert out.status == "posted" and out.pushed
        assert repo.refs["feature-12"] == out.pushed and repo.refs.get("main") == main_before
        commit = repo.objects[out.pushed]
        assert commit["parents"] == [head]
        [blob] = [o for o in repo.objects.values() if o["type"] == "blob"]
        assert "track('API Error'" in blob["content"] and blob["content"].startswith("import { track }")
        assert f"pushed {out.pushed[:7]} to `feature-12`" in repo.reviews[0]["body"]
        assert not any("```suggestion" in c["body"] for c in repo.reviews[0]["comments"])
        # the synchronize that sitrep's own commit causes is not reviewed again
        again = await review_pull(w.services, await w.team(), REPO, 12, head_sha=out.pushed)
        assert again.status == "skipped" and len(repo.reviews) == 1


async def test_commit_mode_never_pushes_to_the_default_branch_or_a_fork(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        await w.services.storage.config.patch(
            "default", {"agents": {"coding": {"enabled": True, "mode": "commit"}}}, "t"
        )
        repo = w.github.repo(REPO)
        repo.refs["main"] = "0" * 40
        pr = w.github.add_pull(REPO, 13, route_pull_files(), head_ref="main")
        out = await review_pull(w.services, await w.team(), REPO, 13, head_sha=pr.head_sha)
        assert out.status == "posted" and out.pushed is None
        assert "never pushes there" in repo.reviews[-1]["body"]
        fork = w.github.add_pull(REPO, 14, route_pull_files(), fork=True)
        out = await review_pull(w.services, await w.team(), REPO, 14, head_sha=fork.head_sha)
        assert out.pushed is None and "fork" in repo.reviews[-1]["body"]
        assert not w.github.seen("PATCH", "/git/refs/")


async def test_installation_token_is_minted_once_and_reused(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        pr = w.github.add_pull(REPO, 15, route_pull_files())
        await review_pull(w.services, await w.team(), REPO, 15, head_sha=pr.head_sha)
        assert len(w.github.seen("POST", f"/app/installations/{INSTALLATION}/access_tokens")) == 1


def test_added_patch_helper_numbers_lines() -> None:
    assert added_patch("a\nb\n") == "@@ -0,0 +1,2 @@\n+a\n+b"


async def test_commit_mode_skips_when_the_head_moved_meanwhile(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        await w.services.storage.config.patch(
            "default", {"agents": {"coding": {"enabled": True, "mode": "commit"}}}, "t"
        )
        pr = w.github.add_pull(REPO, 17, route_pull_files())
        head = pr.head_sha
        moved: list[str] = []

        def push_after_diff(seen: object) -> None:  # after the PR was read: the default-branch lookup
            if not moved and getattr(seen, "path", "") == f"/repos/{REPO}":
                moved.append(w.github.push_to_pull(REPO, 17))

        w.github.hooks.append(push_after_diff)
        out = await review_pull(w.services, await w.team(), REPO, 17, head_sha=head)
        assert moved and out.status == "posted" and out.pushed is None
        assert "moved since this review started" in w.github.repo(REPO).reviews[0]["body"]
        assert not w.github.seen("POST", "/git/blobs")


async def test_an_event_for_a_head_that_already_moved_is_skipped(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        pr = w.github.add_pull(REPO, 18, route_pull_files())
        old = pr.head_sha
        new = w.github.push_to_pull(REPO, 18)
        team = await w.team()
        stale = await review_pull(w.services, team, REPO, 18, head_sha=old)
        assert stale.status == "skipped" and "moved" in stale.reason
        fresh = await review_pull(w.services, team, REPO, 18, head_sha=new)
        assert fresh.status == "posted"
        assert [r["commit_id"] for r in w.github.repo(REPO).reviews] == [new]


def _histogram(g: object, route: str, p95_seconds: float) -> None:
    """http_request_duration_seconds buckets for one route over 26 h: 95 % of requests under `p95_seconds` * 1.2
    (the bucket just above it), so histogram_quantile(0.95, …) lands inside that bucket."""
    import time

    from tests.fakes.grafana import FakeGrafana

    assert isinstance(g, FakeGrafana)
    now = time.time()
    times = [now - 120 * i for i in range(26 * 30, -1, -1)]
    les = ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")
    for le in les:
        share = (
            1.0 if le == "+Inf" or float(le) >= p95_seconds * 1.2 else (0.9 if float(le) >= p95_seconds / 2 else 0.0)
        )
        g.add_series(
            {"__name__": "http_request_duration_seconds_bucket", "le": le, "route": route},
            [(t, round(share * 10 * (t - times[0]), 3)) for t in times],
        )


async def test_review_cites_the_p95_latency_of_the_touched_route(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        _histogram(w.grafana, "/api/agents/[id]/run", 0.8)  # the touched route: 95 % under 1 s
        _histogram(w.grafana, "/api/users/[id]", 0.04)  # another route, far faster: must not be the one cited
        pr = w.github.add_pull(REPO, 21, route_pull_files())
        out = await review_pull(w.services, await w.team(), REPO, 21, head_sha=pr.head_sha)
        assert out.status == "posted", out.reason
        body = w.github.repo(REPO).reviews[0]["body"]
        line = next(ln for ln in body.splitlines() if "`/api/agents/<id>/run`" in ln)
        # 90 % of requests at or under 0.5 s, all under 1 s: p95 = 0.5 + (1 - 0.5) * (0.95 - 0.9) / 0.1 = 0.75 s
        assert "p95 latency 750 ms ([Grafana Explore](" in line, line
        link = line.split("p95 latency 750 ms ([Grafana Explore](", 1)[1].split(")", 1)[0]
        assert link.startswith(f"{w.grafana.url}/explore?")
        assert "histogram_quantile" in link and "run" in link
