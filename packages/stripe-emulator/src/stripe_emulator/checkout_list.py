"""``GET /v1/checkout/sessions``: every session, newest first, in Stripe's list shape.

The service's readiness check calls it with ``limit=1``. Filters are the spec's (2026-09-30):
``created`` (a timestamp or ``gt``/``gte``/``lt``/``lte``), ``customer``, ``customer_account``,
``customer_details[email]``, ``payment_intent``, ``payment_link`` and ``status``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .call import Call
from .checkout_sessions import refresh_expiry, render_session
from .lists import paginate
from .params import child, read_dict, read_enum, read_int, read_str, reject_unknown

URL = "/v1/checkout/sessions"
STATUSES = ("complete", "expired", "open")
FILTERS = (
    "created",
    "customer",
    "customer_account",
    "customer_details",
    "payment_intent",
    "payment_link",
    "status",
)
RANGE_OPERATORS: dict[str, Callable[[int, int], bool]] = {
    "gt": lambda value, bound: value > bound,
    "gte": lambda value, bound: value >= bound,
    "lt": lambda value, bound: value < bound,
    "lte": lambda value, bound: value <= bound,
}

Check = Callable[[dict[str, Any]], bool]


def list_sessions(call: Call) -> dict[str, Any]:
    checks = _read_filters(call.params)
    sessions = list(call.state.checkout_sessions.values())
    for session in sessions:
        refresh_expiry(session, call.now)
    # Newest first; sessions created in the same second keep their reverse creation order.
    newest_first = sessions[::-1]
    newest_first.sort(key=lambda session: -session["created"])
    page = [
        render_session(call, session, set())
        for session in newest_first
        if all(check(session) for check in checks)
    ]
    return paginate(page, call.params, url=URL, item_name="checkout.session", filters=FILTERS)


def _read_filters(params: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    for name in ("customer", "customer_account", "payment_intent", "payment_link"):
        if name in params:
            checks.append(_equals(name, read_str(params[name], name, max_length=5000)))
    if "status" in params:
        checks.append(_equals("status", read_enum(params["status"], "status", STATUSES)))
    if "customer_details" in params:
        details = read_dict(params["customer_details"], "customer_details")
        reject_unknown(details, ("email",), "customer_details")
        if "email" in details:
            email = read_str(details["email"], "customer_details[email]", max_length=5000)
            checks.append(lambda session: (session["customer_details"] or {}).get("email") == email)
    if "created" in params:
        checks.extend(_read_created(params["created"]))
    return checks


def _equals(name: str, expected: str) -> Check:
    return lambda session: session.get(name) == expected


def _read_created(raw: Any) -> list[Check]:
    if not isinstance(raw, dict):
        exact = read_int(raw, "created")
        return [lambda session: session["created"] == exact]
    reject_unknown(raw, tuple(RANGE_OPERATORS), "created")
    checks: list[Check] = []
    for operator, value in raw.items():
        bound = read_int(value, child("created", operator))
        checks.append(_created_within(RANGE_OPERATORS[operator], bound))
    return checks


def _created_within(compare: Callable[[int, int], bool], bound: int) -> Check:
    return lambda session: compare(session["created"], bound)
