"""Which requests changed an object, recorded on the Stripe object itself.

A change sent with an `Idempotency-Key` leaves a marker in the object's metadata
(`amount_updater_request`): a hash of the caller's scope, the key and the change. The newest
markers are kept, space-separated, as many as fit Stripe's 500 characters per value. A retry
that finds its own marker there was applied already, whatever other changes landed since, and
is answered with the current cart instead of being applied again. Being on the object, the
history is shared by every replica and survives restarts.

An older object whose value holds one marker (the previous format) reads as a history of one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

HISTORY_KEY = "amount_updater_request"
MARKER_LENGTH = 24  # hex digits: 96 bits
MAX_MARKERS = 20  # 20 markers and 19 spaces: 499 characters, under Stripe's 500
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class Origin:
    """Who asked for a change or a creation, and under which `Idempotency-Key`.

    `scope` names the caller as the service verified it (`api_key:<id>`, `token:<object id>`,
    or `anonymous:<client address>`); keys are unique only within it.
    """

    scope: str
    idempotency_key: str | None = None

    def marker(self, change: object) -> str:
        """The marker this request leaves on the object it changes ("" without a key: a request
        without one cannot be recognised when retried)."""
        if not self.idempotency_key:
            return ""
        material = "\0".join((self.scope, self.idempotency_key, repr(change)))
        return hashlib.sha256(material.encode()).hexdigest()[:MARKER_LENGTH]


def read_history(metadata: Mapping[str, str]) -> tuple[str, ...]:
    """The markers recorded on an object, oldest first; anything that is not a marker is
    ignored (metadata can be edited by anyone with the Stripe key)."""
    value = metadata.get(HISTORY_KEY)
    if not isinstance(value, str):
        return ()
    return tuple(
        token
        for token in value.split(" ")
        if len(token) == MARKER_LENGTH and _HEX.issuperset(token)
    )


def with_markers(history: tuple[str, ...], markers: Iterable[str]) -> tuple[str, ...]:
    """`history` with `markers` added (empty ones skipped), the oldest dropped past the limit."""
    added = tuple(marker for marker in markers if marker and marker not in history)
    return (history + added)[-MAX_MARKERS:]


def history_value(history: tuple[str, ...]) -> str:
    return " ".join(history)
