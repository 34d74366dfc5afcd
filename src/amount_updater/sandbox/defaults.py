"""Sandbox mode's defaults: offline, the demo storefront shows the whole flow (the address the
shopper enters -> the shipping rates that serve it -> tax -> total).

`amount-updater serve` in sandbox mode turns on automatic tax (computed by the emulator at its
sandbox rates, :mod:`stripe_emulator.sandbox_tax`) and shipping-address
collection, unless the environment or a .env file sets them. Address collection needs every
shipping rate of the catalog to name the countries it serves; with a catalog whose rates do not,
it stays off rather than refusing to start.
"""

from __future__ import annotations

from amount_updater.catalog.repository import load_catalog
from amount_updater.config import ENV_PREFIX, Settings


def sandbox_environment(settings: Settings) -> dict[str, str]:
    """The environment variables sandbox mode sets (to "true") on top of `settings`, which are
    the settings read from the environment and .env."""
    given = settings.model_fields_set
    defaults: dict[str, str] = {}
    if "automatic_tax" not in given:
        defaults[ENV_PREFIX + "AUTOMATIC_TAX"] = "true"
    if (
        "collect_shipping_address" not in given
        and load_catalog(settings.catalog_path).address_countries is not None
    ):
        defaults[ENV_PREFIX + "COLLECT_SHIPPING_ADDRESS"] = "true"
    return defaults
