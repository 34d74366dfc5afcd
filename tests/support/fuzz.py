"""Support for the schemathesis fuzz tests: the real app on a real port (sandbox mode, so the
gateway reaches the embedded Stripe emulator over HTTP), the objects a token holder owns, and
the callers' credentials."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from amount_updater.app import create_app
from amount_updater.catalog.repository import load_catalog
from amount_updater.config import ENV_PREFIX, Settings
from amount_updater.sandbox import SANDBOX_STRIPE_PATH
from tests.support.servers import free_port, serve_in_thread

API_KEY = "fuzz-api-key-0123456789"
TOKEN_SECRET = "f" * 32
CART = {"currency": "usd", "items": [{"product_id": "tshirt"}]}
AUTH_HEADERS = frozenset({"authorization", "x-api-key"})


@dataclass(frozen=True, slots=True)
class Owned:
    """An object created through the API, and the update token the create call answered."""

    id: str
    token: str


# The service's own rate limits (creates per client address, changes per object), switched off
# on the server of the API-key caller and the token holder: they send hundreds of creates from
# one address and of changes to one session and one intent, which must reach the service and
# the emulator instead of stopping at 429. The anonymous caller's server keeps the defaults, so
# 429 answers are still fuzzed. Only fields this version of Settings has are passed (0 disables).
NO_RATE_LIMITS: dict[str, Any] = {
    name: 0
    for name in (
        "rate_limit_creates_per_minute",
        "rate_limit_changes_per_minute",
        "rate_limit_changes_per_hour",
    )
    if name in Settings.model_fields
}


@contextmanager
def sandbox_app_server(workdir: Path, **overrides: Any) -> Iterator[str]:
    """Serve the sandbox-mode app on a free port; yield its base URL.

    Module-scoped fixtures run before conftest's function-scoped `clean_environment`, so the
    same isolation is applied here for the server's whole life: no AMOUNT_UPDATER_* variable and
    no `.env` of the developer reach the Settings (a stray STRIPE_SECRET_KEY would leave
    sandbox mode and call api.stripe.com).
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(ENV_PREFIX):
                patch.delenv(name)
        patch.chdir(workdir)
        port = free_port()
        settings = Settings(
            sandbox=True,
            stripe_api_base=f"http://127.0.0.1:{port}{SANDBOX_STRIPE_PATH}",
            api_keys=[API_KEY],
            token_secret=TOKEN_SECRET,
            **overrides,
        )
        with serve_in_thread(create_app(settings), port=port) as base_url:
            yield base_url


def create_owned(base_url: str, path: str) -> Owned:
    """Create one object with the API itself (anonymous create, as a storefront page does)."""
    response = httpx.post(f"{base_url}{path}", json=CART, timeout=30)
    assert response.status_code == 201, (path, response.status_code, response.text)
    body = response.json()
    return Owned(id=body["id"], token=body["token"])


def catalog_dictionaries(probability: float = 0.5) -> dict[str, Any]:
    """Schemathesis config binding ids and codes to the served (sample) catalog's real ones.

    Random ids match the documented patterns but are almost never in the catalog, so nearly
    every change would stop at 422 `unknown_product`. With these bindings about half the values
    are real, so changes are applied and written to the emulator; the rest stay generated.
    """
    catalog = load_catalog(None)
    values = {
        "products": sorted(catalog.products),
        "shipping_rates": sorted(catalog.shipping),
        "discount_codes": sorted(d.code for d in catalog.discounts.values()),
        "currencies": sorted({c for p in catalog.products.values() for c in p.prices}),
        # Small quantities (0 is valid only where it removes), so adds do not all go over a
        # product's max_quantity at once.
        "quantities": [0, 1, 2],
    }
    bindings = {
        "path.product_id": "products",
        "body.product_id": "products",
        "body.items[*].product_id": "products",
        "body.shipping_rate_id": "shipping_rates",
        "body.code": "discount_codes",
        "body.discount_code": "discount_codes",
        "body.currency": "currencies",
        "query.currency": "currencies",
        "body.quantity": "quantities",
        "body.items[*].quantity": "quantities",
    }
    return {
        "dictionaries": {name: {"values": entries} for name, entries in values.items()},
        "parameters": {
            key: {"dictionary": name, "probability": probability} for key, name in bindings.items()
        },
    }


def drop_credentials(headers: MutableMapping[str, Any]) -> None:
    """Remove any credential generated for a security scheme: each caller sends exactly its
    own."""
    for name in [name for name in headers if name.lower() in AUTH_HEADERS]:
        del headers[name]


_key_numbers = itertools.count()


def fresh_idempotency_keys(headers: MutableMapping[str, Any]) -> None:
    """Replace each generated Idempotency-Key the app would accept by one never used before.

    Generation repeats the same few keys, so most mutating requests would be refused as
    `idempotency_key_reused` (409) before reaching the service. Keys the app must refuse (empty,
    non-ASCII, unprintable, over 255 characters) are sent as generated. The anonymous caller
    keeps every generated key, so reused keys stay fuzzed there.
    """
    for name, value in list(headers.items()):
        if (
            name.lower() == "idempotency-key"
            and isinstance(value, str)
            and 0 < len(value) <= 255
            and value.isascii()
            and value.isprintable()
        ):
            headers[name] = f"fuzz-{next(_key_numbers)}"
