"""GitHub App: App auth (JWT -> installation token), the REST client, webhook parsing, diffs, readiness, the
agent's tools and a CLI. The pull-request review built on it is review/."""

from skills.github.skill import GitHubSkill, open_skill

__all__ = ["GitHubSkill", "open_skill"]
