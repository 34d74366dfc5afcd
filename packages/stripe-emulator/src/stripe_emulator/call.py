"""What a route handler receives: the state, the decoded parameters and the time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .state import EmulatorState


@dataclass(frozen=True)
class Call:
    state: EmulatorState
    params: dict[str, Any]
    path: Mapping[str, str]
    now: float


# A handler validates, mutates the state atomically (no awaits) and returns the response body.
Handler = Callable[[Call], dict[str, Any]]
