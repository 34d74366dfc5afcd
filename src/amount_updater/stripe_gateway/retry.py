"""When to retry a Stripe call, and after how long.

Retried: connection errors and timeouts, 409 (an idempotent request still in flight), 429
(`lock_timeout`: another write to the same object; or Stripe's rate limiter, which the
service's own budget normally keeps away), and 5xx; Stripe's `Stripe-Should-Retry` header
overrides the status either way. Not retried: every other 4xx. Delays grow exponentially with
jitter, or follow Stripe's `Retry-After`; the gateway starts no retry that could not end within
the request budget.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import stripe


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int
    base_delay_s: float = 0.25
    max_delay_s: float = 2.0

    def delay(self, error: stripe.StripeError, attempt: int) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None: do not retry."""
        if attempt >= self.max_retries or not _retryable(error):
            return None
        retry_after = _retry_after(error)
        if retry_after is not None:
            return retry_after  # Stripe's own word; the gateway checks it against the budget
        backoff: float = min(self.base_delay_s * 2.0**attempt, self.max_delay_s)
        return backoff * random.uniform(0.5, 1.0)


def _retryable(error: stripe.StripeError) -> bool:
    if isinstance(error, stripe.APIConnectionError):
        return bool(error.should_retry)
    headers = error.headers or {}
    should_retry = headers.get("stripe-should-retry") or headers.get("Stripe-Should-Retry")
    if should_retry in ("true", "false"):
        return should_retry == "true"
    status = error.http_status or 0
    return status in (409, 429) or status >= 500


def _retry_after(error: stripe.StripeError) -> float | None:
    headers = error.headers or {}
    value = headers.get("retry-after") or headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
