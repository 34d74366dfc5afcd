"""Stripe's idempotency layer: replay saved responses, refuse reused or in-flight keys.

Rules (docs.stripe.com/api/idempotent_requests): the status and body of the first
request under a key are saved whether it succeeded or failed, except parameter-validation 400s
and 429s; a replay carries ``Idempotent-Replayed: true``; keys are pruned after 24 hours.

A key belongs to the whole account, not to one URL: third-party captures of live responses show
Stripe refusing a key reused on another endpoint ("Keys for idempotent requests can only be used
for the same endpoint they were first used for ..."), so the emulator does the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import StripeError, invalid_param

RETENTION_S = 24 * 60 * 60
MAX_KEY_LENGTH = 255
# Sweeping every expired key on each save would be wasted work; every N saves is plenty.
_SWEEP_EVERY = 1000


@dataclass(frozen=True)
class SavedResponse:
    method: str
    path: str
    fingerprint: str
    status: int
    body: bytes
    headers: dict[str, str]
    request_id: str
    saved_at: float


@dataclass
class IdempotencyCache:
    saved: dict[str, SavedResponse] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)
    _saves_since_sweep: int = 0

    def lookup(self, key: str, now: float) -> SavedResponse | None:
        entry = self.saved.get(key)
        if entry is not None and now - entry.saved_at >= RETENTION_S:
            del self.saved[key]
            return None
        return entry

    def save(self, key: str, response: SavedResponse) -> None:
        self.saved[key] = response
        self._saves_since_sweep += 1
        if self._saves_since_sweep >= _SWEEP_EVERY:
            self._saves_since_sweep = 0
            cutoff = response.saved_at - RETENTION_S
            for stale in [k for k, v in self.saved.items() if v.saved_at <= cutoff]:
                del self.saved[stale]


def fingerprint(params: dict[str, Any]) -> str:
    """Order-insensitive identity of the decoded parameters."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def check_key(key: str) -> None:
    if len(key) > MAX_KEY_LENGTH:
        # Stripe documents the 255-character limit; its exact error is UNCONFIRMED.
        raise invalid_param(
            f"Idempotency keys can be at most {MAX_KEY_LENGTH} characters long, "
            f"but the key provided is {len(key)} characters.",
            None,
        )


def key_in_use(key: str) -> StripeError:
    # 409 + `idempotency_key_in_use` per third-party notes (UNCONFIRMED by a primary source).
    return StripeError(
        409,
        "There is currently another in-progress request using this Idempotency-Key (that "
        "probably means you submitted twice, and the other request is still going through): "
        f"{key}. Please try again later.",
        code="idempotency_key_in_use",
        saved_for_idempotency=False,
    )


def reused_with_other_params(key: str) -> StripeError:
    return StripeError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were first "
        f"used with. Try using a key other than '{key}' if you meant to execute a different "
        "request.",
        error_type="idempotency_error",
        saved_for_idempotency=False,
    )


def reused_on_other_endpoint(key: str, first_path: str, path: str) -> StripeError:
    return StripeError(
        400,
        "Keys for idempotent requests can only be used for the same endpoint they were first "
        f"used for ('{path}' vs '{first_path}'). Try using a key other than '{key}' if you "
        "meant to execute a different request.",
        error_type="idempotency_error",
        saved_for_idempotency=False,
    )
