"""OpenAPI declarations of the problems each route can answer with."""

from __future__ import annotations

from typing import Any

from amount_updater.api.answers import Problem
from amount_updater.problems import MEDIA_TYPE

_DESCRIPTIONS = {
    400: "invalid_signature: the Stripe-Signature header is missing or does not match; "
    "invalid_event: the signed event's object is not one this service reads",
    401: "unauthenticated: no valid token or API key",
    403: "forbidden: the token is for another object",
    404: "not_found",
    409: "not_updatable: the object can no longer change; cart_unreadable: the cart recorded "
    "on the object cannot be read (PUT .../cart replaces it); idempotency_key_reused; "
    "request_in_progress",
    413: "payload_too_large",
    415: "unsupported_media_type: send the body as application/json",
    422: "invalid_request, unknown_product, unknown_shipping_rate, invalid_discount_code, "
    "quantity_limit_exceeded, currency_not_supported, too_many_line_items, amount_out_of_range, "
    "cart_empty, invalid_return_url, return_url_required",
    429: "rate_limited: a limit of this caller's class, or Stripe's, is spent; the detail names "
    "it; see Retry-After",
    502: "stripe_error: Stripe refused the request",
    503: "stripe_unavailable: Stripe unreachable or busy; object_busy: too many queued changes; "
    "coordination_unavailable: Redis unreachable (nothing was changed); "
    "overloaded: this instance has too many requests in progress (see Retry-After); "
    "webhooks_not_configured",
    504: "stripe_timeout: no answer within the request budget; retry with the same key",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each listed status documented as a Problem."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


CLIENT = (413, 415, 422)
STRIPE = (429, 502, 503, 504)
READ = (401, 403, 404, *CLIENT, *STRIPE)
CHANGE = (401, 403, 404, 409, *CLIENT, *STRIPE)
