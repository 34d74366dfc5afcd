"""End-to-end: the real service process (started with the Dockerfile's CMD) against the
stateful Stripe emulator on a real port. No respx here: stripe-python speaks HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from stripe_emulator import EmulatorState, create_emulator_app
from tests.support import spec_checks
from tests.support.recording_asgi import Recorder
from tests.support.servers import serve_in_thread
from tests.support.service_process import running_service

API_KEY = "e2e-api-key-0123456789"

# Every emulator exchange of these tests is checked against Stripe's spec after each test.
emulator_recorder = spec_checks.emulator_recorder
emulator_follows_spec = spec_checks.emulator_follows_spec


@pytest.fixture(scope="module")
def emulator_state() -> EmulatorState:
    return EmulatorState()


@pytest.fixture(scope="module")
def emulator_url(emulator_state: EmulatorState, emulator_recorder: Recorder) -> Iterator[str]:
    with serve_in_thread(emulator_recorder.wrap(create_emulator_app(emulator_state))) as url:
        yield url


@pytest.fixture(scope="module")
def service_url(emulator_url: str, tmp_path_factory) -> Iterator[str]:
    env = {
        "AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_test_e2e",
        "AMOUNT_UPDATER_RETURN_URL": "https://shop.example/checkout/return",
        "AMOUNT_UPDATER_STRIPE_API_BASE": emulator_url,
        "AMOUNT_UPDATER_API_KEYS": API_KEY,
        "AMOUNT_UPDATER_TOKEN_SECRET": "e" * 32,
        "AMOUNT_UPDATER_STRIPE_MAX_RETRIES": "0",
    }
    with running_service(env, tmp_path_factory.mktemp("service")) as url:
        yield url


@pytest.fixture
def api(service_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service_url, timeout=30) as client:
        yield client


@pytest.fixture
def stripe_api(emulator_url: str) -> Iterator[httpx.Client]:
    """Direct access to the emulator, as a shop's own backend (or curl) would have."""
    with httpx.Client(
        base_url=emulator_url, headers={"Authorization": "Bearer sk_test_shop"}, timeout=30
    ) as client:
        yield client
