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
from tests.support.stripe_objects import NOW

STRIPE = "https://api.stripe.com"
API_KEY = "test-api-key-0123456789"
TOKEN_SECRET = "t" * 32


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
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings, clock=lambda: float(NOW))


@pytest.fixture
def stripe_mock() -> Iterator[respx.MockRouter]:
    # Mocked at the httpx client, whatever transport sits under it (the service's own HTTP/1.1
    # transport). That also catches the tests' own ASGI clients: a second router lets every host
    # but Stripe's through.
    with (
        respx.mock(using="httpx", assert_all_called=False) as others,
        respx.mock(base_url=STRIPE, assert_all_called=False, using="httpx") as router,
    ):
        others.route(host__regex=r"^(?!api\.stripe\.com$)").pass_through()
        yield router


@pytest_asyncio.fixture
async def client(app: FastAPI, stripe_mock: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
