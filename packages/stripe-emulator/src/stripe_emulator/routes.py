"""The emulator's URL table: which handler serves which Stripe endpoint, and what it locks."""

from __future__ import annotations

from dataclasses import dataclass

from . import checkout_list
from . import checkout_sessions as sessions
from . import payment_intents as intents
from .call import Handler


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    handler: Handler
    # Path parameter naming the object a write locks (None: nothing to lock, e.g. a create).
    lock_param: str | None = None


SESSION = "/v1/checkout/sessions/{session}"
INTENT = "/v1/payment_intents/{intent}"

ROUTES = (
    RouteSpec("POST", "/v1/checkout/sessions", sessions.create_session),
    RouteSpec("GET", "/v1/checkout/sessions", checkout_list.list_sessions),
    RouteSpec("GET", SESSION, sessions.retrieve_session),
    RouteSpec("POST", SESSION, sessions.update_session, "session"),
    RouteSpec("GET", SESSION + "/line_items", sessions.list_line_items),
    RouteSpec("POST", SESSION + "/expire", sessions.expire_session, "session"),
    # Not a Stripe endpoint: lets tests and the demo storefront "pay" a session.
    RouteSpec(
        "POST",
        "/v1/test_helpers/checkout/sessions/{session}/complete",
        sessions.complete_session,
        "session",
    ),
    RouteSpec("POST", "/v1/payment_intents", intents.create_intent),
    RouteSpec("GET", INTENT, intents.retrieve_intent),
    RouteSpec("POST", INTENT, intents.update_intent, "intent"),
    RouteSpec("GET", INTENT + "/amount_details_line_items", intents.list_amount_details_line_items),
    RouteSpec("POST", INTENT + "/confirm", intents.confirm_intent, "intent"),
    RouteSpec("POST", INTENT + "/cancel", intents.cancel_intent, "intent"),
    # Not a Stripe endpoint: puts a PaymentIntent in any status to test status guards.
    RouteSpec(
        "POST",
        "/v1/test_helpers/payment_intents/{intent}/set_status",
        intents.set_status,
        "intent",
    ),
)
