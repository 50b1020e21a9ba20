"""GitHub App: App auth (JWT -> installation token), pull-request data, findings, reviews, readiness, CLI."""

from skills.github.skill import GitHubSkill, open_skill

__all__ = ["GitHubSkill", "open_skill"]
