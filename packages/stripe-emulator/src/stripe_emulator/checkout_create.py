"""Create-only Checkout Session parameters: URLs and redirects per ``ui_mode``, customer,
expiry, locale, permissions, address collection and automatic tax.

Rules come from the descriptions in Stripe's OpenAPI spec (2026-09-30) and stripe-python
16.1.0's docstrings; where Stripe's behaviour is only documented, or not even that, the comment
says UNCONFIRMED.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid_param, parameters_exclusive, resource_missing
from .params import (
    child,
    read_bool,
    read_dict,
    read_enum,
    read_int,
    read_list,
    read_str,
    reject_unknown,
    require,
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


UI_MODES = ("elements", "embedded_page", "form", "hosted_page")
# "This parameter is not allowed if ui_mode is `embedded_page` or `elements`" (success_url and
# cancel_url in the spec). `form` is not named, so it may have them.
NO_SUCCESS_URL_UI_MODES = ("elements", "embedded_page")
# return_url "Applies to Checkout Sessions with ui_mode: embedded_page or ui_mode: elements";
# `form` is an embedded surface too and keeps it (UNCONFIRMED). Refused on hosted_page.
RETURN_URL_UI_MODES = ("elements", "embedded_page", "form")
# redirect_on_completion: "This parameter applies to ui_mode: embedded_page ... Defaults to
# `always`." `form` keeps the embedded page's rules (UNCONFIRMED).
REDIRECT_UI_MODES = ("embedded_page", "form")
REDIRECT_ON_COMPLETION = ("always", "if_required", "never")
# permissions: "Can only be set when creating `embedded_page` or `elements` sessions."
PERMISSIONS_UI_MODES = ("elements", "embedded_page")
BILLING_ADDRESS_COLLECTION = ("auto", "required")
SHIPPING_DETAILS_PERMISSIONS = ("client_only", "server_only")
LOCALES = _words(
    """
    auto bg cs da de el en en-GB es es-419 et fi fil fr fr-CA hi-IN hr hu id it ja ko lt lv ms mt
    nb nl pl pt pt-BR ro ru sk sl sv th tr vi zh zh-HK zh-TW
    """
)
# shipping_address_collection[allowed_countries] (stripe-python 16.1.0's enum).
COUNTRIES = frozenset(
    _words(
        """
    AC AD AE AF AG AI AL AM AO AQ AR AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CD CF CG CH CI CK CL CM CN CO CR CV CW CY CZ DE DJ DK DM DO DZ EC EE EG EH ER
    ES ET FI FJ FK FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HN HR HT HU ID
    IE IL IM IN IO IQ IS IT JE JM JO JP KE KG KH KI KM KN KR KW KY KZ LA LB LC LI LK LR LS LT LU LV
    LY MA MC MD ME MF MG MK ML MM MN MO MQ MR MS MT MU MV MW MX MY MZ NA NC NE NG NI NL NO NP NR NU
    NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SZ TA TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG US UY UZ VA
    VC VE VG VN VU WF WS XK YE YT ZA ZM ZW ZZ
    """
    )
)
MIN_LIFETIME_S = 30 * 60
MAX_LIFETIME_S = 24 * 60 * 60


def read_create_options(params: dict[str, Any], ui_mode: str, created: int) -> dict[str, Any]:
    """The session fields that only create parameters decide."""
    customer, email = _read_customer(params)
    return {
        **_read_urls(params, ui_mode),
        "automatic_tax": _read_automatic_tax(params),
        "billing_address_collection": _optional_enum(
            params, "billing_address_collection", BILLING_ADDRESS_COLLECTION
        ),
        "client_reference_id": read_str(
            params["client_reference_id"], "client_reference_id", max_length=200
        )
        if "client_reference_id" in params
        else None,
        "customer": customer,
        "customer_email": email,
        "expires_at": _read_expires_at(params, created),
        "locale": _optional_enum(params, "locale", LOCALES),
        "permissions": _read_permissions(params, ui_mode),
        "shipping_address_collection": _read_shipping_address_collection(params),
    }


def _read_urls(params: dict[str, Any], ui_mode: str) -> dict[str, Any]:
    urls: dict[str, Any] = {
        name: _read_url(params[name], name) if name in params else None
        for name in ("success_url", "cancel_url", "return_url")
    }
    for name in ("success_url", "cancel_url"):
        if urls[name] is not None and ui_mode in NO_SUCCESS_URL_UI_MODES:
            raise invalid_param(f"{name} is not allowed when ui_mode is {ui_mode}.", name)
    if urls["return_url"] is not None and ui_mode not in RETURN_URL_UI_MODES:
        # Stripe's refusal here is UNCONFIRMED (the spec only says where return_url applies).
        raise invalid_param(
            f"return_url can only be used with ui_mode {', '.join(RETURN_URL_UI_MODES)}.",
            "return_url",
        )
    redirect = None
    if "redirect_on_completion" in params:
        redirect = read_enum(
            params["redirect_on_completion"], "redirect_on_completion", REDIRECT_ON_COMPLETION
        )
        if ui_mode not in REDIRECT_UI_MODES:
            # Stripe documents redirect_on_completion for embedded_page only; that it refuses
            # it elsewhere (elements, hosted_page), and with this error shape, is UNCONFIRMED.
            raise invalid_param(
                "redirect_on_completion can only be used with ui_mode "
                f"{', '.join(REDIRECT_UI_MODES)}, not {ui_mode}.",
                "redirect_on_completion",
            )
    if ui_mode in REDIRECT_UI_MODES:
        redirect = redirect or "always"
        if redirect == "never" and urls["return_url"] is not None:
            # Stripe's behaviour here is UNCONFIRMED; a return_url that can never be used is
            # refused.
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
    # On elements, return_url "is required if ... redirect-based payment methods are enabled on
    # the session"; the emulator's sessions offer cards only, so it stays optional there.
    # Unset, return_url and redirect_on_completion are left out of the session (not null).
    urls["redirect_on_completion"] = redirect
    return urls


def _read_url(value: Any, param: str) -> str:
    url = read_str(value, param, max_length=5000)
    if not url.startswith(("https://", "http://")):
        raise invalid_param(f"Not a valid URL: {url}", param, "url_invalid")
    return url


def _read_customer(params: dict[str, Any]) -> tuple[str | None, str | None]:
    customer = None
    if "customer" in params:
        customer = read_str(params["customer"], "customer", max_length=5000)
        # No Customer objects exist in the emulator: any cus_ id is taken as an existing one.
        if not customer.startswith("cus_"):
            raise resource_missing("customer", customer, "customer", status=400)
    email = None
    if "customer_email" in params:
        if customer is not None:
            # Stripe takes the email from the Customer; refusing both together is UNCONFIRMED
            # (third-party reports of "You may only specify one of these parameters").
            raise parameters_exclusive("customer_email", ["customer", "customer_email"])
        email = read_str(params["customer_email"], "customer_email", max_length=800)
        local, _, domain = email.partition("@")
        if not local or "." not in domain:
            raise invalid_param(
                f"Invalid email address: {email}", "customer_email", "email_invalid"
            )
    return customer, email


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


def _optional_enum(params: dict[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
    return read_enum(params[name], name, choices) if name in params else None


def _read_permissions(params: dict[str, Any], ui_mode: str) -> dict[str, Any] | None:
    if "permissions" not in params:
        return None
    if ui_mode not in PERMISSIONS_UI_MODES:
        # The error's shape is UNCONFIRMED.
        raise invalid_param(
            f"permissions can only be set with ui_mode {', '.join(PERMISSIONS_UI_MODES)}.",
            "permissions",
        )
    permissions = read_dict(params["permissions"], "permissions")
    reject_unknown(permissions, ("update_shipping_details",), "permissions")
    value = None
    if "update_shipping_details" in permissions:
        value = read_enum(
            permissions["update_shipping_details"],
            "permissions[update_shipping_details]",
            SHIPPING_DETAILS_PERMISSIONS,
        )
    return {"update_shipping_details": value}


def _read_shipping_address_collection(params: dict[str, Any]) -> dict[str, Any] | None:
    name = "shipping_address_collection"
    if name not in params:
        return None
    collection = read_dict(params[name], name)
    reject_unknown(collection, ("allowed_countries",), name)
    prefix = child(name, "allowed_countries")
    countries = read_list(require(collection, "allowed_countries", name), prefix)
    for index, country in enumerate(countries):
        if not isinstance(country, str) or country not in COUNTRIES:
            raise invalid_param(
                f"Invalid {child(prefix, index)}: must be a supported two-letter country code "
                "(ISO 3166-1 alpha-2, upper case).",
                child(prefix, index),
            )
    return {"allowed_countries": countries}


def _read_automatic_tax(params: dict[str, Any]) -> dict[str, Any]:
    disabled = {"enabled": False, "liability": None, "provider": None, "status": None}
    if "automatic_tax" not in params:
        return disabled
    config = read_dict(params["automatic_tax"], "automatic_tax")
    # liability (tax liability of a connected account) is not emulated.
    reject_unknown(config, ("enabled",), "automatic_tax")
    if not read_bool(require(config, "enabled", "automatic_tax"), "automatic_tax[enabled]"):
        return disabled
    # The liability and provider Stripe reports for an account's own automatic tax are
    # UNCONFIRMED; the status is set from the session's address by recompute_totals.
    return {
        "enabled": True,
        "liability": {"type": "self"},
        "provider": "stripe",
        "status": "requires_location_inputs",
    }
