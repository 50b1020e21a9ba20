"""`GitHubApp`: what the readiness check and the tools need of the skill, so they never import the skill back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from settings import Settings
    from skills.github.client import GitHubClient
    from storage.github import GitHubStore, InstallationLink


class GitHubApp(Protocol):
    settings: Settings
    repos: list[str]
    link: InstallationLink | None
    store: GitHubStore | None

    @property
    def configured(self) -> bool: ...

    @property
    def webhook_mode(self) -> bool: ...

    @property
    def client(self) -> GitHubClient: ...

    @property
    def installation_id(self) -> int: ...

    def missing_variables(self) -> list[str]: ...
