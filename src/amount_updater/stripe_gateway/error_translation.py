"""Stripe's errors as the service's: a problem with a stable code, and whether a write may have
landed anyway. Stripe's own message is logged, never returned to a caller."""

from __future__ import annotations

import logging
from typing import NoReturn

import httpx
import stripe

from amount_updater.errors import (
    AmountOutOfRange,
    NotFound,
    NotUpdatable,
    ServiceError,
    StripeError,
    StripeRateLimited,
    StripeTimeout,
    StripeUnavailable,
)
from amount_updater.stripe_gateway.wire import AnswerTooLarge

# The gateway's logger: the log lines keep the name operators already filter on.
logger = logging.getLogger("amount_updater.stripe_gateway.gateway")

# Stripe error codes that mean "this object can no longer change". The session one is what
# Stripe's client-side endpoints answer; the server-side code is UNCONFIRMED, so the service
# checks status before writing and this is the fallback for a race with completion.
OUT_OF_RANGE_CODES = frozenset({"amount_too_small", "amount_too_large"})
NOT_UPDATABLE_CODES = frozenset(
    {"checkout_not_active_session", "checkout_succeeded_session", "payment_intent_unexpected_state"}
)


def raise_translated(exc: stripe.StripeError, what: str) -> NoReturn:
    """Raise the service's error for a Stripe error. Stripe's message is logged, never returned."""
    error = exc.error
    code = getattr(error, "code", None) if error is not None else None
    status = exc.http_status
    logger.warning(
        "stripe.error",
        extra={
            "stripe_status": status,
            "stripe_code": code,
            "stripe_request_id": exc.request_id,
            "stripe_error": type(exc).__name__,
        },
    )
    translated: ServiceError
    # A write may have landed when Stripe's answer is missing (the connection failed or timed
    # out after sending), an internal error (Stripe: "treat the outcome as indeterminate"), or
    # 409 (the same idempotency key is still being processed).
    unknown = isinstance(exc, stripe.APIConnectionError) or status == 409 or (status or 0) >= 500
    if isinstance(exc, stripe.APIConnectionError) and isinstance(exc.__cause__, AnswerTooLarge):
        translated = StripeError("Stripe's answer was too large to read.")
    elif isinstance(exc, stripe.APIConnectionError):
        if isinstance(exc.__cause__, httpx.TimeoutException):
            translated = StripeTimeout("Stripe did not answer in time. Try again.")
        else:
            translated = StripeUnavailable("Stripe could not be reached. Try again.")
    elif isinstance(exc, stripe.RateLimitError):
        if code == "lock_timeout":
            translated = StripeUnavailable(
                "Stripe is busy with another change to this object. Try again.",
                headers={"Retry-After": "1"},
            )
        else:
            translated = StripeRateLimited(
                "Stripe is rate limiting this account. Try again shortly.",
                headers={"Retry-After": "2"},
            )
    elif isinstance(exc, stripe.InvalidRequestError) and status == 404:
        translated = NotFound(f"No such {what}.")
    elif isinstance(exc, stripe.InvalidRequestError) and code in NOT_UPDATABLE_CODES:
        translated = NotUpdatable(f"The {what} can no longer change.")
    elif isinstance(exc, stripe.InvalidRequestError) and code in OUT_OF_RANGE_CODES:
        translated = AmountOutOfRange("Stripe refused the amount for this currency.")
    elif isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        logger.error("stripe.auth_rejected", extra={"stripe_status": status})
        translated = StripeError("The service could not authenticate with Stripe.")
    elif status is not None and status >= 500:
        translated = StripeUnavailable("Stripe had an internal error. Try again.")
    elif status == 409:
        translated = StripeUnavailable("Stripe is still processing this change. Try again.")
    else:
        translated = StripeError(f"Stripe refused the {what} request.")
    translated.outcome_unknown = unknown
    raise translated from None
