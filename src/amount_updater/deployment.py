"""What a start refuses and what it warns about, decided before the port is bound.

A refusal is a SettingsError (one line naming the setting; `serve` exits 2 with it); a warning
is a line the start logs and goes on.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Literal

from amount_updater.catalog.models import Catalog
from amount_updater.config import ENV_PREFIX, Settings, SettingsError

StripeMode = Literal["live", "test", "sandbox"]
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")

NO_KEY = (
    f"{ENV_PREFIX}STRIPE_SECRET_KEY is not set: set it to your Stripe secret key, or run "
    f"`amount-updater serve --sandbox` ({ENV_PREFIX}SANDBOX=true) to try the service against "
    "its embedded Stripe emulator"
)


def stripe_mode(settings: Settings) -> StripeMode:
    """Which Stripe the service talks to; SettingsError when the settings do not say."""
    key = settings.stripe_secret_key
    if settings.sandbox:
        if key is not None:
            raise SettingsError(
                f"{ENV_PREFIX}SANDBOX: sandbox mode emulates Stripe, so it takes no Stripe key; "
                f"unset {ENV_PREFIX}STRIPE_SECRET_KEY or the sandbox"
            )
        if find_spec("stripe_emulator") is None:
            raise SettingsError(
                f"{ENV_PREFIX}SANDBOX: the Stripe emulator is not installed; install the"
                " sandbox extra (pip install -e packages/stripe-emulator -e '.[sandbox]', or"
                " `make install`)"
            )
        return "sandbox"
    if key is None:
        raise SettingsError(NO_KEY)
    return "live" if key.get_secret_value().startswith(LIVE_KEY_PREFIXES) else "test"


def check_start(settings: Settings, *, workers: int = 1) -> list[str]:
    """Refuse a start that is unsafe with real money; the warnings for one that may go ahead."""
    mode = stripe_mode(settings)
    if mode == "live" and settings.catalog_path is None:
        raise SettingsError(
            f"{ENV_PREFIX}CATALOG_PATH: a live Stripe key needs your own catalog; the bundled "
            "sample catalog is for trying the service out"
        )
    if settings.token_secret is None and mode == "live":
        raise SettingsError(
            f"{ENV_PREFIX}TOKEN_SECRET: a live Stripe key needs a fixed token secret, or every "
            "restart ends the shoppers' tokens (`openssl rand -hex 32`)"
        )
    if settings.token_secret is None and workers > 1:
        raise SettingsError(
            f"{ENV_PREFIX}TOKEN_SECRET: {workers} workers need one shared token secret, or a "
            "token minted by one is refused by another (`openssl rand -hex 32`)"
        )
    warnings = []
    if settings.catalog_path is None and mode == "test":
        warnings.append(
            f"{ENV_PREFIX}CATALOG_PATH is not set: selling the bundled sample catalog "
            "(amount_updater/catalog/sample.toml); set it to your own catalog"
        )
    if settings.token_secret is None and mode != "sandbox":
        warnings.append(
            f"{ENV_PREFIX}TOKEN_SECRET is not set: a random one is used, so tokens end when "
            "the process does"
        )
    if settings.stripe_publishable_key is not None:
        publishable_live = settings.stripe_publishable_key.startswith("pk_live_")
        if mode == "sandbox" or publishable_live != (mode == "live"):
            raise SettingsError(
                f"{ENV_PREFIX}STRIPE_PUBLISHABLE_KEY: its mode does not match the secret key's "
                f"({mode})"
            )
    return warnings


def check_catalog(settings: Settings, catalog: Catalog) -> None:
    """Refuse settings the catalog cannot honour."""
    if settings.collect_shipping_address and catalog.address_countries is None:
        worldwide = sorted(rate.id for rate in catalog.shipping.values() if not rate.countries)
        raise SettingsError(
            f"{ENV_PREFIX}COLLECT_SHIPPING_ADDRESS: every shipping rate must list the"
            " countries it serves (Stripe collects addresses in those only); without"
            f" countries: {', '.join(worldwide) or 'no shipping rates at all'}"
        )


def demo_storefront_key(settings: Settings) -> str | None:
    """The publishable key the demo storefront runs Stripe.js with: test mode only."""
    key = settings.stripe_publishable_key
    return key if key is not None and key.startswith("pk_test_") else None
