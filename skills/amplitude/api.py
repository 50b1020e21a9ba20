"""What the tools and the readiness check need of AmplitudeSkill.

skill.py builds the tools and runs the readiness check, so it imports them; they take any object of this shape
and never import the skill back. Dependencies point one way: api <- tools, readiness <- skill.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from skills.amplitude.client import AmplitudeClient
    from storage.instrumentation import InstrumentationPR


class AmplitudeProject(Protocol):
    region: str
    base_url: str
    today: Callable[[], date]
    now: Callable[[], datetime]

    @property
    def configured(self) -> bool: ...

    @property
    def client(self) -> AmplitudeClient: ...

    def missing_variables(self) -> list[str]: ...

    def key_sources(self) -> list[str]: ...

    async def instrumented(self) -> InstrumentationPR | None: ...
