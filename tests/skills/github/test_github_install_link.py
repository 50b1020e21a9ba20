"""The App's install link: github.com's `/apps/<slug>` or GitHub Enterprise Server's `/github-apps/<slug>`, derived
from GITHUB_API_URL (https://api.github.com, or https://HOST/api/v3 on GHES), with the signed `?state=` kept."""

from __future__ import annotations

import pytest

from settings import Settings
from skills.github.skill import GitHubSkill


def skill(**env: str) -> GitHubSkill:
    return GitHubSkill(Settings.from_env({"GITHUB_APP_SLUG": "sitrep-test", **env}))


def test_github_com_links_to_apps_on_github_com() -> None:
    assert skill().install_url() == "https://github.com/apps/sitrep-test/installations/new"
    assert skill().install_url("n0nce.s1g") == "https://github.com/apps/sitrep-test/installations/new?state=n0nce.s1g"


@pytest.mark.parametrize("api_url", ["https://ghe.mochacare.example/api/v3", "https://ghe.mochacare.example/api/v3/"])
def test_enterprise_server_links_to_github_apps_on_its_own_host(api_url: str) -> None:
    ghes = skill(GITHUB_API_URL=api_url)
    assert ghes.install_url() == "https://ghe.mochacare.example/github-apps/sitrep-test/installations/new"
    assert ghes.install_url("n0nce.s1g") == (
        "https://ghe.mochacare.example/github-apps/sitrep-test/installations/new?state=n0nce.s1g"
    )


def test_enterprise_server_keeps_its_scheme_and_port() -> None:
    ghes = skill(GITHUB_API_URL="http://10.0.0.5:8080/api/v3")
    assert ghes.install_url() == "http://10.0.0.5:8080/github-apps/sitrep-test/installations/new"


def test_no_slug_no_link() -> None:
    assert GitHubSkill(Settings.from_env({"GITHUB_API_URL": "https://ghe.example/api/v3"})).install_url() is None
