"""The service's own errors. Each maps to one RFC 9457 problem with a stable `code`.

    ServiceError                      (status, code, title)
    ├── InvalidSignature              400 invalid_signature
    ├── InvalidEvent                  400 invalid_event
    ├── Unauthenticated               401 unauthenticated
    ├── Forbidden                     403 forbidden
    ├── NotFound                      404 not_found
    ├── NotUpdatable                  409 not_updatable
    ├── CartUnreadable                409 cart_unreadable
    ├── PayloadTooLarge               413 payload_too_large
    ├── InvalidRequest                422 invalid_request
    │   ├── UnknownProduct            422 unknown_product
    │   ├── UnknownShippingRate       422 unknown_shipping_rate
    │   ├── InvalidDiscountCode       422 invalid_discount_code
    │   ├── QuantityLimitExceeded     422 quantity_limit_exceeded
    │   ├── CurrencyNotSupported      422 currency_not_supported
    │   ├── TooManyLineItems          422 too_many_line_items
    │   └── AmountOutOfRange          422 amount_out_of_range
    ├── IdempotencyKeyReused          409 idempotency_key_reused
    ├── RequestInProgress             409 request_in_progress
    ├── RateLimited                   429 rate_limited
    │   └── StripeRateLimited         429 rate_limited
    ├── StripeError                   502 stripe_error
    ├── StripeUnavailable             503 stripe_unavailable
    ├── ObjectBusy                    503 object_busy
    ├── CoordinationUnavailable       503 coordination_unavailable
    ├── Overloaded                    503 overloaded
    ├── WebhooksNotConfigured         503 webhooks_not_configured
    └── StripeTimeout                 504 stripe_timeout

Stripe's own exceptions never travel past the gateway: it raises these instead, with a detail
written here, never Stripe's message (which can echo parameters back). An error raised for a
write whose fate at Stripe is unknown (a timeout or a 5xx after it was sent) carries
`outcome_unknown=True`: the change workflow then settles that write before the object changes
again.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}
        self.outcome_unknown = outcome_unknown


class InvalidSignature(ServiceError):
    status, code, title = 400, "invalid_signature", "Webhook signature missing or invalid"


class InvalidEvent(ServiceError):
    status, code, title = 400, "invalid_event", "Signed payload is not an event this service reads"


class Unauthenticated(ServiceError):
    status, code, title = 401, "unauthenticated", "Authentication required"


class Forbidden(ServiceError):
    status, code, title = 403, "forbidden", "Not allowed for this object"


class NotFound(ServiceError):
    status, code, title = 404, "not_found", "Not found"


class NotUpdatable(ServiceError):
    status, code, title = 409, "not_updatable", "The object can no longer change"


class CartUnreadable(ServiceError):
    status, code, title = 409, "cart_unreadable", "The cart recorded on the object is unreadable"


class PayloadTooLarge(ServiceError):
    status, code, title = 413, "payload_too_large", "Request body too large"


class InvalidRequest(ServiceError):
    status, code, title = 422, "invalid_request", "Invalid request"


class UnknownProduct(InvalidRequest):
    code, title = "unknown_product", "Unknown product"


class UnknownShippingRate(InvalidRequest):
    code, title = "unknown_shipping_rate", "Unknown shipping rate"


class InvalidDiscountCode(InvalidRequest):
    code, title = "invalid_discount_code", "Discount code not valid for this cart"


class QuantityLimitExceeded(InvalidRequest):
    code, title = "quantity_limit_exceeded", "Quantity limit exceeded"


class CurrencyNotSupported(InvalidRequest):
    code, title = "currency_not_supported", "Currency not supported"


class TooManyLineItems(InvalidRequest):
    code, title = "too_many_line_items", "Too many line items"


class AmountOutOfRange(InvalidRequest):
    code, title = "amount_out_of_range", "Amount outside Stripe's limits for the currency"


class CountryNotServed(InvalidRequest):
    code, title = "country_not_served", "No shipping rate serves that country"


class CartEmpty(InvalidRequest):
    code, title = "cart_empty", "A cart needs at least one item"


class InvalidReturnUrl(InvalidRequest):
    code, title = "invalid_return_url", "return_url is not on an allowed origin"


class ReturnUrlRequired(InvalidRequest):
    code, title = "return_url_required", "No return URL for the session"


class IdempotencyKeyReused(ServiceError):
    status, code, title = 409, "idempotency_key_reused", "Idempotency-Key used for another request"


class RequestInProgress(ServiceError):
    status, code, title = 409, "request_in_progress", "A request with this key is in progress"


class ObjectBusy(ServiceError):
    status, code, title = 503, "object_busy", "Other changes to this object are still queued"


class CoordinationUnavailable(ServiceError):
    status, code, title = 503, "coordination_unavailable", "Redis (locks, idempotency) unreachable"


class Overloaded(ServiceError):
    status, code, title = 503, "overloaded", "Too many requests in progress"


class RateLimited(ServiceError):
    status, code, title = 429, "rate_limited", "Too many requests"


class WebhooksNotConfigured(ServiceError):
    status, code, title = 503, "webhooks_not_configured", "No webhook signing secret configured"


class StripeRateLimited(RateLimited):
    title = "Too many requests to Stripe"


class StripeError(ServiceError):
    status, code, title = 502, "stripe_error", "Stripe refused the request"


class StripeUnavailable(ServiceError):
    status, code, title = 503, "stripe_unavailable", "Stripe is unavailable"


class StripeTimeout(ServiceError):
    status, code, title = 504, "stripe_timeout", "Stripe did not answer in time"
