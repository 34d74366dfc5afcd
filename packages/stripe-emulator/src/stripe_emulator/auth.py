"""API-key authentication: any test-mode secret or restricted key is accepted.

Stripe takes the key as ``Authorization: Bearer <key>`` or as the HTTP Basic username
(``curl -u sk_test_…:``). Missing or non-test keys get Stripe's 401 ``invalid_request_error``.
"""

from __future__ import annotations

import base64
import binascii

from .errors import StripeError

TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")

_MISSING_MESSAGE = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


def authenticate(authorization: str | None) -> str:
    """Return the API key, or raise Stripe's 401."""
    key = _key_from_header(authorization or "")
    if not key:
        raise StripeError(401, _MISSING_MESSAGE, saved_for_idempotency=False)
    if not key.startswith(TEST_KEY_PREFIXES) or len(key) == len("sk_test_"):
        # Stripe's 401 for a bad key has no `code` in captured bodies (UNCONFIRMED); live keys
        # are refused too, since the emulator is test mode only.
        raise StripeError(
            401,
            f"Invalid API Key provided: {_masked(key)}. The Stripe emulator accepts only "
            "test-mode keys (sk_test_… or rk_test_…).",
            saved_for_idempotency=False,
        )
    return key


def _key_from_header(header: str) -> str:
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[0]
    return ""


def _masked(key: str) -> str:
    prefix_end = key.find("_", key.find("_") + 1) + 1 if key.count("_") >= 2 else 0
    return key[:prefix_end] + "*" * 4 + key[-4:]
