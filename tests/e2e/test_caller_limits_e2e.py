"""Rate limits by caller class, on the real `serve` process against the Stripe emulator."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from stripe_emulator import EmulatorState, create_emulator_app
from tests.support.servers import serve_in_thread
from tests.support.service_process import running_service

API_KEY = "limits-api-key-0123456789"
CART = {"currency": "usd", "items": [{"product_id": "mug"}]}


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    with serve_in_thread(create_emulator_app(EmulatorState())) as url:
        yield url


def env(emulator_url: str, **limits: str) -> dict[str, str]:
    return {
        "AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_test_limits",
        "AMOUNT_UPDATER_STRIPE_API_BASE": emulator_url,
        "AMOUNT_UPDATER_RETURN_URL": "https://shop.example/return",
        "AMOUNT_UPDATER_API_KEYS": API_KEY,
        "AMOUNT_UPDATER_TOKEN_SECRET": "l" * 32,
        **{f"AMOUNT_UPDATER_RATE_LIMIT_{name.upper()}": value for name, value in limits.items()},
    }


def test_a_shops_backend_creates_200_sessions_a_minute_from_one_address(
    emulator_url: str, tmp_path: Path
):
    # Stripe's test-mode budget (22 calls/s) paces the creations, as it would a real shop's.
    with (
        running_service(env(emulator_url), tmp_path) as url,
        httpx.Client(base_url=url, headers={"X-API-Key": API_KEY}, timeout=30) as api,
        ThreadPoolExecutor(8) as pool,
    ):
        answers = pool.map(lambda _: api.post("/v1/checkout-sessions", json=CART), range(200))
        statuses = [answer.status_code for answer in answers]
    assert statuses == [201] * 200


def test_anonymous_creation_past_its_limit_is_429_with_retry_after(
    emulator_url: str, tmp_path: Path
):
    with running_service(env(emulator_url, creates_per_minute="3"), tmp_path) as url:
        answers = [httpx.post(f"{url}/v1/checkout-sessions", json=CART) for _ in range(4)]
        with_key = httpx.post(
            f"{url}/v1/checkout-sessions", json=CART, headers={"X-API-Key": API_KEY}
        )
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    refused = answers[-1]
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "3 per minute per client address" in refused.json()["detail"]
    assert "AMOUNT_UPDATER_RATE_LIMIT_CREATES_PER_MINUTE" in refused.json()["detail"]
    assert with_key.status_code == 201  # the shop's key is not the browser's limit


def test_token_reads_past_the_per_object_limit_are_429(emulator_url: str, tmp_path: Path):
    limits = env(emulator_url, reads_per_minute="5")
    with running_service(limits, tmp_path) as url:
        first = httpx.post(f"{url}/v1/checkout-sessions", json=CART).json()
        second = httpx.post(f"{url}/v1/checkout-sessions", json=CART).json()

        def read(created: dict[str, str]) -> int:
            return httpx.get(
                f"{url}/v1/checkout-sessions/{created['id']}",
                headers={"Authorization": f"Bearer {created['token']}"},
            ).status_code

        reads = [read(first) for _ in range(6)]
        other_object = read(second)
        readyz = httpx.get(f"{url}/readyz").json()
    assert reads == [200] * 5 + [429]
    assert other_object == 200
    assert readyz["rate_limits"]["token_reads"] == "5 per minute per object"
    assert readyz["rate_limits"]["api_key_requests"] == "100 per second per API key"


def creations_from(url: str, addresses: list[str]) -> list[int]:
    return [
        httpx.post(
            f"{url}/v1/checkout-sessions", json=CART, headers={"X-Forwarded-For": address}
        ).status_code
        for address in addresses
    ]


SPOOFED = ["203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.3"]


def test_forwarded_for_moves_the_anonymous_limit_only_from_a_trusted_proxy(
    emulator_url: str, tmp_path: Path
):
    trusted = {
        **env(emulator_url, creates_per_minute="2"),
        "AMOUNT_UPDATER_TRUSTED_PROXIES": "127.0.0.1",
    }
    with running_service(trusted, tmp_path) as url:
        behind_proxy = creations_from(url, [*SPOOFED, "203.0.113.1"])
    # Each shopper behind the proxy has their own two creations a minute.
    assert behind_proxy == [201, 201, 201, 201, 429]

    untrusted = env(emulator_url, creates_per_minute="2")
    with running_service(untrusted, tmp_path) as url:
        spoofed = creations_from(url, SPOOFED)
    # Nobody vouches for the header: every request counts against the socket's address.
    assert spoofed == [201, 201, 429, 429]
