"""PaymentIntents: create, retrieve, update, confirm, cancel, and the emulator's own
``set_status`` test helper.

Amount-changing updates follow Stripe's status guard and ``amount_details``
arithmetic; confirmation always succeeds (any ``pm_…`` id is a working card).
"""

from __future__ import annotations

from typing import Any

from .amount_details import check_arithmetic, line_items_url, merge_amount_details
from .call import Call
from .currencies import check_charge_amount, read_currency
from .errors import invalid_state, parameters_exclusive, resource_missing
from .intent_objects import enter_status, new_intent, render_intent
from .lists import paginate
from .metadata import merge_metadata
from .params import (
    child,
    read_bool,
    read_dict,
    read_enum,
    read_expand,
    read_int,
    read_list,
    read_str,
    reject_unknown,
    require,
)

STATUSES = (
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "succeeded",
    "canceled",
)
AMOUNT_UPDATABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation")
CANCELABLE = (
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "requires_capture",
)
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")

CREATE_PARAMS = (
    "amount",
    "currency",
    "metadata",
    "description",
    "automatic_payment_methods",
    "payment_method_types",
    "capture_method",
    "amount_details",
    "expand",
)
UPDATE_PARAMS = ("amount", "currency", "metadata", "description", "amount_details", "expand")
# Fields that change what will be charged, guarded by AMOUNT_UPDATABLE.
AMOUNT_FIELDS = ("amount", "currency", "amount_details")
EXPANDABLE = ("amount_details.line_items",)
UNEXPECTED_STATE = "payment_intent_unexpected_state"


def create_intent(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, CREATE_PARAMS)
    expand = read_expand(params, EXPANDABLE)
    amount = read_int(require(params, "amount"), "amount", minimum=1)
    currency = read_currency(require(params, "currency"), "currency")
    check_charge_amount(amount, currency, "amount")
    payment_method_types, automatic = _read_payment_method_config(params)
    intent = new_intent(amount, currency, call.now)
    intent.update(
        automatic_payment_methods=automatic,
        capture_method=read_enum(params["capture_method"], "capture_method", CAPTURE_METHODS)
        if "capture_method" in params
        else "automatic_async",
        description=_read_description(params),
        metadata=merge_metadata({}, params.get("metadata", {}), "metadata"),
        payment_method_types=payment_method_types,
    )
    if "amount_details" in params:
        details, enforce = merge_amount_details({}, params["amount_details"])
        check_arithmetic(details, amount, enforce=enforce)
        intent["amount_details"] = details
    call.state.payment_intents[intent["id"]] = intent
    return render_intent(intent, expand)


def retrieve_intent(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, ("expand",))
    expand = read_expand(call.params, EXPANDABLE)
    return render_intent(_get(call), expand)


def list_amount_details_line_items(call: Call) -> dict[str, Any]:
    intent = _get(call)
    lines = intent["amount_details"].get("line_items", [])
    return paginate(lines, call.params, url=line_items_url(intent), item_name="line item")


def update_intent(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, UPDATE_PARAMS)
    expand = read_expand(params, EXPANDABLE)
    intent = _get(call)
    status = intent["status"]
    if status == "canceled":
        raise invalid_state(
            "This PaymentIntent could not be updated because it has a status of canceled.",
            code=UNEXPECTED_STATE,
        )
    for field in AMOUNT_FIELDS:
        if field in params and status not in AMOUNT_UPDATABLE:
            # Message as observed live for `amount`; the code for this case is
            # UNCONFIRMED. currency and amount_details are guarded the same way (strict).
            raise invalid_state(
                f"This PaymentIntent's {field} could not be updated because it has a status of "
                f"{status}. You may only update the {field} of a PaymentIntent with one of the "
                "following statuses: requires_payment_method, requires_confirmation, "
                "requires_action.",
                code=UNEXPECTED_STATE,
                param=field,
            )
    changes: dict[str, Any] = {}
    if "amount" in params:
        changes["amount"] = read_int(params["amount"], "amount", minimum=1)
    if "currency" in params:
        changes["currency"] = read_currency(params["currency"], "currency")
    if "description" in params:
        changes["description"] = _read_description(params)
    if "metadata" in params:
        changes["metadata"] = merge_metadata(intent["metadata"], params["metadata"], "metadata")
    amount = changes.get("amount", intent["amount"])
    currency = changes.get("currency", intent["currency"])
    if "amount" in params or "currency" in params:
        check_charge_amount(amount, currency, "amount")
    if "amount" in params or "amount_details" in params:
        # An amount-only update is checked against the stored line items too (Stripe's docs,
        # UNCONFIRMED live: the strict reading).
        details, enforce = intent["amount_details"], True
        if "amount_details" in params:
            details, enforce = merge_amount_details(details, params["amount_details"])
        else:
            details = dict(details)
        check_arithmetic(details, amount, enforce=enforce)
        changes["amount_details"] = details
    if (
        "amount" in changes
        and status == "requires_action"
        and changes["amount"] != intent["amount"]
    ):
        # Whether an amount change abandons an in-flight authentication is UNCONFIRMED;
        # the emulator abandons it, so the payment has to be confirmed again.
        changes.update(status="requires_confirmation", next_action=None)
    intent.update(changes)
    return render_intent(intent, expand)


def confirm_intent(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, ("payment_method", "return_url", "expand"))
    expand = read_expand(params, EXPANDABLE)
    intent = _get(call)
    if intent["status"] not in CONFIRMABLE:
        raise invalid_state(
            f"You cannot confirm this PaymentIntent because it has a status of {intent['status']}.",
            code=UNEXPECTED_STATE,
        )
    payment_method = intent["payment_method"]
    if "payment_method" in params:
        payment_method = read_str(params["payment_method"], "payment_method")
        if not payment_method.startswith("pm_"):
            raise resource_missing("PaymentMethod", payment_method, "payment_method", status=400)
    if "return_url" in params:
        read_str(params["return_url"], "return_url")
    if payment_method is None:
        raise invalid_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "Pass a payment_method (any pm_… id works in the emulator).",
            code=UNEXPECTED_STATE,
            param="payment_method",
        )
    intent["payment_method"] = payment_method
    enter_status(
        intent,
        "requires_capture" if intent["capture_method"] == "manual" else "succeeded",
        call.now,
    )
    return render_intent(intent, expand)


def cancel_intent(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, ("cancellation_reason", "expand"))
    expand = read_expand(params, EXPANDABLE)
    reason = None
    if "cancellation_reason" in params:
        reason = read_enum(
            params["cancellation_reason"], "cancellation_reason", CANCELLATION_REASONS
        )
    intent = _get(call)
    if intent["status"] not in CANCELABLE:
        raise invalid_state(
            f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. "
            "Only a PaymentIntent with one of the following statuses may be canceled: "
            f"{', '.join(CANCELABLE)}.",
            code=UNEXPECTED_STATE,
        )
    enter_status(intent, "canceled", call.now)
    intent["cancellation_reason"] = reason
    return render_intent(intent, expand)


def set_status(call: Call) -> dict[str, Any]:
    """Emulator-only test helper: force any status (and its side fields)."""
    params = call.params
    reject_unknown(params, ("status", "expand"))
    expand = read_expand(params, EXPANDABLE)
    status = read_enum(require(params, "status"), "status", STATUSES)
    intent = _get(call)
    if status not in ("requires_payment_method",) and intent["payment_method"] is None:
        intent["payment_method"] = "pm_card_visa"
    enter_status(intent, status, call.now)
    return render_intent(intent, expand)


def _get(call: Call) -> dict[str, Any]:
    intent_id = call.path["intent"]
    intent = call.state.payment_intents.get(intent_id)
    if intent is None:
        raise resource_missing("payment_intent", intent_id, "intent")
    return intent


def _read_description(params: dict[str, Any]) -> str | None:
    if "description" not in params or params["description"] == "":
        return None
    return read_str(params["description"], "description", max_length=1000)


def _read_payment_method_config(
    params: dict[str, Any],
) -> tuple[list[str], dict[str, Any] | None]:
    """``payment_method_types`` and ``automatic_payment_methods``; automatic is the default."""
    automatic: dict[str, Any] | None = {"allow_redirects": "always", "enabled": True}
    if "automatic_payment_methods" in params:
        prefix = "automatic_payment_methods"
        config = read_dict(params[prefix], prefix)
        reject_unknown(config, ("enabled", "allow_redirects"), prefix)
        enabled = read_bool(require(config, "enabled", prefix), child(prefix, "enabled"))
        redirects = "always"
        if "allow_redirects" in config:
            redirects = read_enum(
                config["allow_redirects"], child(prefix, "allow_redirects"), ("always", "never")
            )
        automatic = {"allow_redirects": redirects, "enabled": enabled} if enabled else None
    if "payment_method_types" not in params:
        return ["card"], automatic
    if automatic is not None and "automatic_payment_methods" in params:
        raise parameters_exclusive(
            "payment_method_types", ["automatic_payment_methods", "payment_method_types"]
        )
    types = [
        read_str(value, child("payment_method_types", i), empty_ok=False)
        for i, value in enumerate(read_list(params["payment_method_types"], "payment_method_types"))
    ]
    return types, None
