"""Checkout Sessions (``mode=payment`` only): create, retrieve, list, list line items, update,
expire, and the emulator's own ``complete`` test helper.

A session past ``expires_at`` turns ``expired`` the next time anything touches it. Create-only
parameters are read in :mod:`.checkout_create`, line items in :mod:`.checkout_line_items`,
shipping and totals in :mod:`.checkout_shipping` (tax, at sandbox rates, in :mod:`.sandbox_tax`).
"""

from __future__ import annotations

from typing import Any

from . import checkout_line_items as line_items
from .call import Call
from .checkout_create import UI_MODES, read_create_options
from .checkout_objects import new_session
from .checkout_shipping import read_collected_information, read_shipping_options, recompute_totals
from .currencies import read_currency
from .errors import invalid_param, invalid_state, resource_missing
from .intent_objects import new_succeeded_intent, render_intent
from .lists import first_page, paginate
from .metadata import merge_metadata
from .params import child, read_enum, read_expand, read_str, reject_unknown, require

# embedded_page and hosted_page do not support server-side line item updates;
# `form` is the documented alternative, so it is allowed (UNCONFIRMED).
LINE_ITEM_UPDATE_UI_MODES = ("elements", "form")
SHIPPING_OPTIONS_UI_MODES = ("elements",)
COLLECTED_INFORMATION_UI_MODES = ("elements", "embedded_page")

CREATE_PARAMS = (
    "mode",
    "ui_mode",
    "currency",
    "line_items",
    "metadata",
    "return_url",
    "success_url",
    "cancel_url",
    "redirect_on_completion",
    "expires_at",
    "client_reference_id",
    "customer",
    "customer_email",
    "locale",
    "automatic_tax",
    "billing_address_collection",
    "shipping_address_collection",
    "shipping_options",
    "permissions",
    "expand",
)
# The GA update params of stripe-python 16.1.0 minus payment_intent_data, which
# is not emulated; anything else (discounts, currency, expires_at, mode...) is unknown.
UPDATE_PARAMS = ("line_items", "metadata", "shipping_options", "collected_information", "expand")
EXPANDABLE = ("line_items", "payment_intent")
# Typed as plain (not nullable) strings in Stripe's spec: left out of the session when unset.
OMITTED_WHEN_UNSET = ("redirect_on_completion", "return_url")


def create_session(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, CREATE_PARAMS)
    expand = read_expand(params, EXPANDABLE)
    mode = read_str(require(params, "mode"), "mode")
    if mode != "payment":
        raise invalid_param(
            f"Invalid mode: the emulator supports only payment mode, not {mode!r}.", "mode"
        )
    ui_mode = "hosted_page"
    if "ui_mode" in params:
        # The pre-dahlia names custom/embedded/hosted fail here like on Stripe (notes, versions).
        ui_mode = read_enum(params["ui_mode"], "ui_mode", UI_MODES)
    entries = line_items.read_line_item_array(require(params, "line_items"))
    items = [
        line_items.build_new_item(entry, child("line_items", i), call.now)
        for i, entry in enumerate(entries)
    ]
    currency = items[0]["currency"]
    if "currency" in params:
        currency = read_currency(params["currency"], "currency")
    for index, item in enumerate(items):
        line_items.check_currency(item, currency, child(child("line_items", index), "price_data"))
    created = int(call.now)
    options = read_create_options(params, ui_mode, created)
    shipping_options: list[dict[str, Any]] = []
    rates: dict[str, dict[str, Any]] = {}
    if "shipping_options" in params:
        shipping_options, rates = read_shipping_options(
            params["shipping_options"],
            currency,
            call.now,
            call.state.shipping_rates,
            clearable=False,
        )
    session = new_session(
        ui_mode=ui_mode,
        currency=currency,
        created=created,
        options=options,
        metadata=merge_metadata({}, params.get("metadata", {}), "metadata"),
        shipping_options=shipping_options,
        items=items,
    )
    session_id = session["id"]
    recompute_totals(session, {**call.state.shipping_rates, **rates})
    call.state.shipping_rates.update(rates)
    call.state.checkout_sessions[session_id] = session
    return render_session(call, session, expand)


def retrieve_session(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, ("expand",))
    expand = read_expand(call.params, EXPANDABLE)
    return render_session(call, _get(call), expand)


def list_line_items(call: Call) -> dict[str, Any]:
    session = _get(call)
    return paginate(
        line_items.render_items(session["line_items"]),
        call.params,
        url=_line_items_url(session),
        item_name="line item",
    )


def update_session(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, UPDATE_PARAMS)
    expand = read_expand(params, EXPANDABLE)
    session = _get(call)
    _require_open(session, "updated")
    changes: dict[str, Any] = {}
    rates: dict[str, dict[str, Any]] = {}
    if "line_items" in params:
        _require_ui_mode(session, LINE_ITEM_UPDATE_UI_MODES, "line_items")
        changes["line_items"] = line_items.apply_update(
            session["line_items"], params["line_items"], session["currency"], call.now
        )
    if "shipping_options" in params:
        _require_ui_mode(session, SHIPPING_OPTIONS_UI_MODES, "shipping_options")
        changes["shipping_options"], rates = read_shipping_options(
            params["shipping_options"],
            session["currency"],
            call.now,
            call.state.shipping_rates,
            clearable=True,
        )
    if "collected_information" in params:
        _require_ui_mode(session, COLLECTED_INFORMATION_UI_MODES, "collected_information")
        changes["collected_information"] = read_collected_information(
            params["collected_information"]
        )
    if "metadata" in params:
        changes["metadata"] = merge_metadata(session["metadata"], params["metadata"], "metadata")
    candidate = {**session, **changes}
    recompute_totals(candidate, {**call.state.shipping_rates, **rates})
    # Only now, with everything validated, does the stored session change.
    session.update(candidate)
    call.state.shipping_rates.update(rates)
    return render_session(call, session, expand)


def expire_session(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, ("expand",))
    expand = read_expand(call.params, EXPANDABLE)
    session = _get(call)
    _require_open(session, "expired")
    session["status"] = "expired"
    return render_session(call, session, expand)


def complete_session(call: Call) -> dict[str, Any]:
    """Emulator-only test helper: the customer paid. Creates the succeeded PaymentIntent."""
    reject_unknown(call.params, ("expand",))
    expand = read_expand(call.params, EXPANDABLE)
    session = _get(call)
    _require_open(session, "completed")
    intent = new_succeeded_intent(session["amount_total"], session["currency"], call.now)
    call.state.payment_intents[intent["id"]] = intent
    session.update(
        status="complete",
        payment_status="paid",
        payment_intent=intent["id"],
        customer_details={
            "address": None,
            "business_name": None,
            "email": session["customer_email"] or "customer@example.com",
            "individual_name": None,
            "name": None,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
    )
    return render_session(call, session, expand)


def render_session(call: Call, session: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    body = {
        key: value
        for key, value in session.items()
        if key != "line_items" and not (key in OMITTED_WHEN_UNSET and value is None)
    }
    if "line_items" in expand:
        body["line_items"] = first_page(
            line_items.render_items(session["line_items"]), _line_items_url(session)
        )
    intent_id = session["payment_intent"]
    if "payment_intent" in expand and intent_id in call.state.payment_intents:
        body["payment_intent"] = render_intent(call.state.payment_intents[intent_id], set())
    return body


def refresh_expiry(session: dict[str, Any], now: float) -> None:
    if session["status"] == "open" and now >= session["expires_at"]:
        session["status"] = "expired"


def _get(call: Call) -> dict[str, Any]:
    session_id = call.path["session"]
    session = call.state.checkout_sessions.get(session_id)
    if session is None:
        raise resource_missing("checkout.session", session_id, "session")
    refresh_expiry(session, call.now)
    return session


def _require_open(session: dict[str, Any], action: str) -> None:
    if session["status"] != "open":
        # Stripe's exact error for a complete/expired session is UNCONFIRMED; this code and
        # message are the ones third-party captures show from Checkout's client API.
        raise invalid_state(
            "This Checkout Session is no longer active. "
            f"It has a status of {session['status']} and cannot be {action}.",
            code="checkout_not_active_session",
        )


def _require_ui_mode(session: dict[str, Any], allowed: tuple[str, ...], param: str) -> None:
    if session["ui_mode"] not in allowed:
        raise invalid_state(
            f"You can't update {param} on a Checkout Session with ui_mode "
            f"`{session['ui_mode']}`; it is only supported with: {', '.join(allowed)}.",
            code=None,
            param=param,
        )


def _line_items_url(session: dict[str, Any]) -> str:
    return f"/v1/checkout/sessions/{session['id']}/line_items"
