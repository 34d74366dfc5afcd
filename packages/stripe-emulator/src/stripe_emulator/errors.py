"""Stripe error bodies and the exception the emulator raises to produce them.

Every refusal in the emulator is a :class:`StripeError`; the dispatcher turns it into Stripe's
wire shape ``{"error": {"type", "code", "message", "param", "doc_url"}}``. Factories below exist
so that each kind of refusal is spelled the same way everywhere.

Codes: the emulator only uses codes from Stripe's published error-code list (the ``code`` enum in
stripe-python 16.1.0) plus ``checkout_not_active_session`` (seen in third-party captures). Where no
code in that list fits (enum values, metadata limits, duplicate ids...) the body has no ``code``,
which is what Stripe's own bodies for such checks look like in third-party captures (UNCONFIRMED).
"""

from __future__ import annotations

from typing import Any

INVALID_REQUEST = "invalid_request_error"


class StripeError(Exception):
    """A Stripe error response: HTTP status plus the ``error`` object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = INVALID_REQUEST,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        saved_for_idempotency: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.code = code
        self.param = param
        self.headers = headers or {}
        # Stripe does not save parameter-validation failures (nor 429s) under an idempotency key:
        # the client may fix the request and retry with the same key.
        self.saved_for_idempotency = saved_for_idempotency

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = "https://docs.stripe.com/error-codes/" + self.code.replace("_", "-")
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


def invalid_param(message: str, param: str | None, code: str | None = None) -> StripeError:
    """A 400 decided from the request parameters alone (never saved under an idempotency key)."""
    return StripeError(400, message, code=code, param=param, saved_for_idempotency=False)


def invalid_state(message: str, *, code: str | None, param: str | None = None) -> StripeError:
    """A 400 that depends on the stored object's state (saved under an idempotency key)."""
    return StripeError(400, message, code=code, param=param)


def parameter_unknown(param: str) -> StripeError:
    return invalid_param(f"Received unknown parameter: {param}", param, "parameter_unknown")


def parameter_missing(param: str) -> StripeError:
    return invalid_param(f"Missing required param: {param}.", param, "parameter_missing")


def parameters_exclusive(param: str, names: list[str]) -> StripeError:
    listed = ", ".join(names)
    return invalid_param(
        f"You may only specify one of these parameters: {listed}.", param, "parameters_exclusive"
    )


def resource_missing(
    object_name: str, object_id: str, param: str, *, status: int = 404
) -> StripeError:
    """Unknown id. 404 when it is the URL's object, 400 when a parameter names it."""
    return StripeError(
        status,
        f"No such {object_name}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def unrecognized_url(method: str, path: str) -> StripeError:
    return StripeError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
    )


def lock_timeout() -> StripeError:
    # Message verbatim from docs.stripe.com/rate-limits. Stripe marks these retryable.
    return StripeError(
        429,
        "This object can't be accessed right now because another API request or Stripe process "
        "currently accessing it. If you see this error intermittently, retry the request. If you "
        "see this error frequently and are making multiple concurrent requests to a single object, "
        "make your requests serially or at a lower rate.",
        code="lock_timeout",
        headers={"Stripe-Should-Retry": "true"},
        saved_for_idempotency=False,
    )


def internal_error() -> StripeError:
    return StripeError(500, "An unknown error occurred in the emulator.", error_type="api_error")
