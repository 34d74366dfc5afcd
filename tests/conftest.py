from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
import respx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from amount_updater.app import create_app
from amount_updater.config import Settings
from tests.support.spec_checks import exempt, fail_on, gateway_call_violations
from tests.support.stripe_objects import NOW

STRIPE = "https://api.stripe.com"
API_KEY = "test-api-key-0123456789"
TOKEN_SECRET = "t" * 32
# The shop's page Stripe brings a shopper back to after a redirect-based payment method.
RETURN_URL = "https://shop.example/checkout/return"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No AMOUNT_UPDATER_* variable or .env file of the developer's leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("AMOUNT_UPDATER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings() -> Settings:
    return Settings(
        stripe_secret_key="sk_test_unit",  # type: ignore[arg-type]
        stripe_api_base=STRIPE,
        stripe_max_retries=0,
        token_secret=TOKEN_SECRET,  # type: ignore[arg-type]
        api_keys=[API_KEY],
        return_url=RETURN_URL,  # type: ignore[arg-type]
        # Every cart read reaches (the mocked) Stripe, so tests see each call; the cache of
        # recent reads has tests of its own.
        cart_read_cache_s=0,
        # Stripe's rate budget too (tests/stripe_gateway/test_rate_budget.py).
        stripe_requests_per_second=0,
        stripe_endpoint_requests_per_second=0,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stripe_spec_exempt(reason): the test sends Stripe requests off Stripe's spec on purpose;"
        " they are not checked against it (tests/support/spec_checks.py)",
    )


@pytest.fixture
def stripe_mock(request: pytest.FixtureRequest) -> Iterator[respx.MockRouter]:
    """Stripe at the wire: respx's router, plugged in as the gateway's httpx transport. After
    the test, every request it got is checked against Stripe's spec (tests/support/stripe_spec)."""
    router = respx.MockRouter(base_url=STRIPE, assert_all_called=False)
    yield router
    if not exempt(request.node):
        fail_on(gateway_call_violations(router.calls), "Requests to Stripe")


def build_app(settings: Settings, stripe_mock: respx.MockRouter) -> FastAPI:
    """The app as `serve` builds it, its clock frozen at NOW, talking to `stripe_mock`."""
    return create_app(
        settings,
        clock=lambda: float(NOW),
        stripe_transport=httpx.MockTransport(stripe_mock.async_handler),
    )


@pytest.fixture
def app(settings: Settings, stripe_mock: respx.MockRouter) -> FastAPI:
    return build_app(settings, stripe_mock)


@pytest_asyncio.fixture
async def client(app: FastAPI, stripe_mock: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
