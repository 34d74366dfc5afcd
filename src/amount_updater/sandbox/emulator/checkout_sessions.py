"""Checkout Sessions (``mode=payment`` only): create, retrieve, list line items, update,
expire, and the emulator's own ``complete`` test helper.

A session past ``expires_at`` turns ``expired`` the next time anything touches it.
"""

from __future__ import annotations

from typing import Any

from . import checkout_line_items as line_items
from .call import Call
from .currencies import MINIMUM_CHARGE, format_minor, read_currency
from .errors import invalid_param, invalid_state, resource_missing
from .ids import new_client_secret, new_id
from .lists import first_page, paginate
from .metadata import merge_metadata
from .params import (
    MAX_AMOUNT,
    child,
    read_amount,
    read_dict,
    read_enum,
    read_expand,
    read_int,
    read_list,
    read_str,
    reject_unknown,
    require,
)
from .payment_intents import new_succeeded_intent, render_intent

UI_MODES = ("elements", "embedded_page", "form", "hosted_page")
# `form` is treated like the other embedded modes for URL rules (UNCONFIRMED, the strict reading).
EMBEDDED_UI_MODES = ("elements", "embedded_page", "form")
# embedded_page and hosted_page do not support server-side line item updates (notes §1.3);
# `form` is the documented alternative, so it is allowed (UNCONFIRMED).
LINE_ITEM_UPDATE_UI_MODES = ("elements", "form")
SHIPPING_OPTIONS_UI_MODES = ("elements",)
COLLECTED_INFORMATION_UI_MODES = ("elements", "embedded_page")
REDIRECT_ON_COMPLETION = ("always", "if_required", "never")

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
    "customer_email",
    "expand",
)
# The GA update params of stripe-python 16.1.0 (notes §1.1) minus payment_intent_data, which
# is not emulated; anything else (discounts, currency, expires_at, mode...) is unknown.
UPDATE_PARAMS = ("line_items", "metadata", "shipping_options", "collected_information", "expand")
EXPANDABLE = ("line_items", "payment_intent")

MIN_LIFETIME_S = 30 * 60
MAX_LIFETIME_S = 24 * 60 * 60
MAX_SHIPPING_OPTIONS = 5


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
    urls = _read_urls(params, ui_mode)
    created = int(call.now)
    session_id = new_id("cs_test", 40)
    session: dict[str, Any] = {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": 0,
        "amount_total": 0,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": urls["cancel_url"],
        "client_reference_id": _optional_str(params, "client_reference_id", 200),
        "client_secret": None if ui_mode == "hosted_page" else new_client_secret(session_id),
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": currency,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": None,
        "customer_creation": "if_required",
        "customer_details": None,
        "customer_email": _read_email(params),
        "discounts": [],
        "expires_at": _read_expires_at(params, created),
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": None,
        "metadata": merge_metadata({}, params.get("metadata", {}), "metadata"),
        "mode": "payment",
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "redirect_on_completion": urls["redirect_on_completion"],
        "return_url": urls["return_url"],
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": urls["success_url"],
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": ui_mode,
        "url": f"https://checkout.stripe.com/c/pay/{session_id}"
        if ui_mode == "hosted_page"
        else None,
        "wallet_options": None,
        # Not a Stripe field at this level: the full item list, rendered as a list object.
        "line_items": items,
    }
    _recompute_totals(session)
    call.state.checkout_sessions[session_id] = session
    return render_session(call, session, expand)


def retrieve_session(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, ("expand",))
    expand = read_expand(call.params, EXPANDABLE)
    return render_session(call, _get(call), expand)


def list_line_items(call: Call) -> dict[str, Any]:
    session = _get(call)
    return paginate(
        session["line_items"], call.params, url=_line_items_url(session), item_name="line item"
    )


def update_session(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, UPDATE_PARAMS)
    expand = read_expand(params, EXPANDABLE)
    session = _get(call)
    _require_open(session, "updated")
    changes: dict[str, Any] = {}
    if "line_items" in params:
        _require_ui_mode(session, LINE_ITEM_UPDATE_UI_MODES, "line_items")
        changes["line_items"] = line_items.apply_update(
            session["line_items"], params["line_items"], session["currency"], call.now
        )
    if "shipping_options" in params:
        _require_ui_mode(session, SHIPPING_OPTIONS_UI_MODES, "shipping_options")
        changes["shipping_options"] = _read_shipping_options(
            params["shipping_options"], session["currency"]
        )
    if "collected_information" in params:
        _require_ui_mode(session, COLLECTED_INFORMATION_UI_MODES, "collected_information")
        changes["collected_information"] = _read_collected_information(
            params["collected_information"]
        )
    if "metadata" in params:
        changes["metadata"] = merge_metadata(session["metadata"], params["metadata"], "metadata")
    candidate = {**session, **changes}
    _recompute_totals(candidate)
    # Only now, with everything validated, does the stored session change.
    session.update(candidate)
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
    body = {key: value for key, value in session.items() if key != "line_items"}
    if "line_items" in expand:
        body["line_items"] = first_page(session["line_items"], _line_items_url(session))
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
        # Stripe's exact error for a complete/expired session is UNCONFIRMED (notes §1.8); this
        # code and message are the ones third-party captures show from Checkout's client API.
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


def _recompute_totals(session: dict[str, Any]) -> None:
    subtotal = sum(item["amount_subtotal"] for item in session["line_items"])
    options = session["shipping_options"]
    # Which option is selected after shipping_options is replaced is UNCONFIRMED (notes §1.6):
    # the emulator selects the first one.
    shipping = options[0]["shipping_amount"] if options else 0
    session["shipping_cost"] = (
        {
            "amount_subtotal": shipping,
            "amount_tax": 0,
            "amount_total": shipping,
            "shipping_rate": options[0]["shipping_rate"],
        }
        if options
        else None
    )
    total = subtotal + shipping
    _check_total(total, session["currency"])
    session["amount_subtotal"] = subtotal
    session["amount_total"] = total
    session["total_details"] = {"amount_discount": 0, "amount_shipping": shipping, "amount_tax": 0}


def _check_total(total: int, currency: str) -> None:
    # Stripe refuses payment-mode sessions whose total is under the currency's minimum charge
    # ("The Checkout Session's total amount due must add up to at least ..."); the code and
    # whether updates are checked too are UNCONFIRMED: the emulator checks both, strictly.
    minimum = MINIMUM_CHARGE.get(currency, 1)
    if total < minimum:
        raise invalid_param(
            "The Checkout Session's total amount due must add up to at least "
            f"{format_minor(minimum, currency)}",
            "line_items",
            "amount_too_small",
        )
    if total > MAX_AMOUNT:
        raise invalid_param(
            "The Checkout Session's total amount due must be no more than "
            f"{format_minor(MAX_AMOUNT, currency)}",
            "line_items",
            "amount_too_large",
        )


def _read_urls(params: dict[str, Any], ui_mode: str) -> dict[str, Any]:
    urls: dict[str, Any] = {
        name: _read_url(params[name], name) if name in params else None
        for name in ("success_url", "cancel_url", "return_url")
    }
    redirect = None
    if "redirect_on_completion" in params:
        redirect = read_enum(
            params["redirect_on_completion"], "redirect_on_completion", REDIRECT_ON_COMPLETION
        )
    if ui_mode == "hosted_page":
        for name, value in (
            ("return_url", urls["return_url"]),
            ("redirect_on_completion", redirect),
        ):
            if value is not None:
                raise invalid_param(
                    f"{name} can only be used with ui_mode {', '.join(EMBEDDED_UI_MODES)}.", name
                )
        urls["redirect_on_completion"] = None
        return urls
    for name in ("success_url", "cancel_url"):
        if urls[name] is not None:
            raise invalid_param(f"{name} is not allowed when ui_mode is {ui_mode}.", name)
    redirect = redirect or "always"
    if redirect == "never" and urls["return_url"] is not None:
        # Stripe's behaviour here is UNCONFIRMED; a return_url that can never be used is refused.
        raise invalid_param(
            "return_url cannot be set when redirect_on_completion is never.", "return_url"
        )
    if redirect != "never" and urls["return_url"] is None:
        raise invalid_param(
            f"Missing required param: return_url (required for ui_mode {ui_mode} unless "
            "redirect_on_completion is never).",
            "return_url",
            "parameter_missing",
        )
    urls["redirect_on_completion"] = redirect
    return urls


def _read_url(value: Any, param: str) -> str:
    url = read_str(value, param, max_length=5000)
    if not url.startswith(("https://", "http://")):
        raise invalid_param(f"Not a valid URL: {url}", param, "url_invalid")
    return url


def _read_email(params: dict[str, Any]) -> str | None:
    if "customer_email" not in params:
        return None
    email = read_str(params["customer_email"], "customer_email", max_length=800)
    local, _, domain = email.partition("@")
    if not local or "." not in domain:
        raise invalid_param(f"Invalid email address: {email}", "customer_email", "email_invalid")
    return email


def _read_expires_at(params: dict[str, Any], created: int) -> int:
    if "expires_at" not in params:
        return created + MAX_LIFETIME_S
    expires_at = read_int(params["expires_at"], "expires_at")
    if not created + MIN_LIFETIME_S <= expires_at <= created + MAX_LIFETIME_S:
        raise invalid_param(
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout "
            "Session creation.",
            "expires_at",
        )
    return expires_at


def _optional_str(params: dict[str, Any], name: str, max_length: int) -> str | None:
    return read_str(params[name], name, max_length=max_length) if name in params else None


def _line_items_url(session: dict[str, Any]) -> str:
    return f"/v1/checkout/sessions/{session['id']}/line_items"


def _read_shipping_options(raw: Any, currency: str) -> list[dict[str, Any]]:
    if raw == "":
        return []
    entries = read_list(raw, "shipping_options")
    if len(entries) > MAX_SHIPPING_OPTIONS:
        raise invalid_param(
            f"You can pass at most {MAX_SHIPPING_OPTIONS} shipping_options.", "shipping_options"
        )
    return [
        _read_shipping_option(entry, child("shipping_options", i), currency)
        for i, entry in enumerate(entries)
    ]


def _read_shipping_option(raw: Any, prefix: str, currency: str) -> dict[str, Any]:
    entry = read_dict(raw, prefix)
    reject_unknown(entry, ("shipping_rate", "shipping_rate_data"), prefix)
    if "shipping_rate" in entry:
        # No ShippingRate objects exist in the emulator; only inline shipping_rate_data works.
        raise resource_missing(
            "shipping_rate", str(entry["shipping_rate"]), child(prefix, "shipping_rate"), status=400
        )
    data_prefix = child(prefix, "shipping_rate_data")
    data = read_dict(require(entry, "shipping_rate_data", prefix), data_prefix)
    reject_unknown(
        data,
        (
            "display_name",
            "fixed_amount",
            "type",
            "metadata",
            "delivery_estimate",
            "tax_behavior",
            "tax_code",
        ),
        data_prefix,
    )
    read_str(
        require(data, "display_name", data_prefix),
        child(data_prefix, "display_name"),
        empty_ok=False,
    )
    if "type" in data:
        read_enum(data["type"], child(data_prefix, "type"), ("fixed_amount",))
    if "metadata" in data:
        merge_metadata({}, data["metadata"], child(data_prefix, "metadata"))
    amount_prefix = child(data_prefix, "fixed_amount")
    fixed = read_dict(require(data, "fixed_amount", data_prefix), amount_prefix)
    reject_unknown(fixed, ("amount", "currency", "currency_options"), amount_prefix)
    amount = read_amount(require(fixed, "amount", amount_prefix), child(amount_prefix, "amount"))
    rate_currency = read_currency(
        require(fixed, "currency", amount_prefix), child(amount_prefix, "currency")
    )
    if rate_currency != currency:
        raise invalid_param(
            f"The shipping rate currency ({rate_currency}) must match the Checkout Session "
            f"currency ({currency}).",
            child(amount_prefix, "currency"),
        )
    return {"shipping_amount": amount, "shipping_rate": new_id("shr")}


def _read_collected_information(raw: Any) -> dict[str, Any]:
    info = read_dict(raw, "collected_information")
    reject_unknown(info, ("shipping_details",), "collected_information")
    prefix = "collected_information[shipping_details]"
    details = read_dict(require(info, "shipping_details", "collected_information"), prefix)
    reject_unknown(details, ("name", "address"), prefix)
    name = read_str(require(details, "name", prefix), child(prefix, "name"), empty_ok=False)
    address_prefix = child(prefix, "address")
    address_in = read_dict(require(details, "address", prefix), address_prefix)
    fields = ("city", "country", "line1", "line2", "postal_code", "state")
    reject_unknown(address_in, fields, address_prefix)
    for required in ("country", "line1"):
        require(address_in, required, address_prefix)
    address = {
        field: read_str(address_in[field], child(address_prefix, field))
        if field in address_in
        else None
        for field in fields
    }
    return {
        "business_name": None,
        "individual_name": None,
        "shipping_details": {"address": address, "name": name},
    }
