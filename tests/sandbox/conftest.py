"""Fixtures: a fresh EmulatorState per test, a movable clock, an in-process httpx client and
(for SDK tests) the emulator served over real HTTP to stripe-python's StripeClient."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
import stripe

from stripe_emulator import EmulatorState, create_emulator_app
from tests.support import spec_checks
from tests.support.recording_asgi import Recorder
from tests.support.servers import serve_in_thread

from .helpers import FakeClock

API_KEY = "sk_test_emulator"

# Every emulator exchange of these tests is checked against Stripe's spec after each test.
emulator_recorder = spec_checks.emulator_recorder
emulator_follows_spec = spec_checks.emulator_follows_spec


@pytest.fixture
def state() -> EmulatorState:
    return EmulatorState()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture
async def http(
    state: EmulatorState, clock: FakeClock, emulator_recorder: Recorder
) -> AsyncIterator[httpx.AsyncClient]:
    """An authenticated client talking to the emulator in-process (no sockets)."""
    app = emulator_recorder.wrap(create_emulator_app(state, clock=clock))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://emulator",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as client:
        yield client


@pytest.fixture
def server_url(
    state: EmulatorState, clock: FakeClock, emulator_recorder: Recorder
) -> Iterator[str]:
    with serve_in_thread(emulator_recorder.wrap(create_emulator_app(state, clock=clock))) as url:
        yield url


@pytest_asyncio.fixture
async def sdk(server_url: str) -> AsyncIterator[stripe.StripeClient]:
    """stripe-python 16.1's StripeClient pointed at the emulator, as the service builds it."""
    http_client = stripe.HTTPXClient()
    yield stripe.StripeClient(
        API_KEY,
        http_client=http_client,
        base_addresses={"api": server_url},
        max_network_retries=0,
    )
    await http_client.close_async()
