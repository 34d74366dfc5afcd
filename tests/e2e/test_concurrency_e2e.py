"""No lost and no doubled change, whatever the concurrency, retries or Stripe faults: the real
service processes against the stateful emulator, with a real redis-server for replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stripe_emulator import EmulatorState, create_emulator_app
from tests.support.faulty_stripe import FaultPlan, FaultyStripe
from tests.support.redis_server import RedisServer, running_redis
from tests.support.servers import serve_in_thread
from tests.support.service_process import running_service

API_KEY = "e2e-api-key-0123456789"
PRODUCTS = [f"p{n:02d}" for n in range(1, 31)]


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    """Thirty add-on-like products, so thirty different adds can race on one session."""
    entries = [
        f'[products.{pid}]\nname = "Product {pid}"\nprices = {{ usd = {100 + n} }}\n'
        for n, pid in enumerate(PRODUCTS)
    ]
    path = tmp_path / "catalog.toml"
    path.write_text(
        "\n".join(['[products.base]\nname = "Base"\nprices = { usd = 1000 }\n', *entries])
    )
    return path


@pytest.fixture
def emulator() -> Iterator[tuple[str, EmulatorState, FaultPlan]]:
    state, plan = EmulatorState(), FaultPlan()
    # A little latency inside the emulator's per-object write lock, so that unserialized
    # writes would overlap (and Stripe would answer 429 lock_timeout, or drop a change).
    app = FaultyStripe(create_emulator_app(state, write_latency_s=0.005), plan)
    with serve_in_thread(app) as url:
        yield url, state, plan


def service_env(stripe_url: str, catalog: Path, **extra: str) -> dict[str, str]:
    return {
        "AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_test_e2e",
        "AMOUNT_UPDATER_RETURN_URL": "https://shop.example/checkout/return",
        "AMOUNT_UPDATER_STRIPE_API_BASE": stripe_url,
        "AMOUNT_UPDATER_API_KEYS": API_KEY,
        "AMOUNT_UPDATER_TOKEN_SECRET": "c" * 32,
        "AMOUNT_UPDATER_CATALOG_PATH": str(catalog),
        **extra,
    }


def create_session(url: str) -> str:
    created = httpx.post(
        f"{url}/v1/checkout-sessions",
        json={"currency": "usd", "items": [{"product_id": "base"}]},
        headers={"X-API-Key": API_KEY},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def add_all(urls: list[str], session_id: str) -> list[httpx.Response]:
    """One request per product, all at once, spread over the replicas."""
    async with httpx.AsyncClient(timeout=20, headers={"X-API-Key": API_KEY}) as client:
        return await asyncio.gather(
            *(
                client.post(
                    f"{urls[n % len(urls)]}/v1/checkout-sessions/{session_id}/items",
                    json={"product_id": pid},
                )
                for n, pid in enumerate(PRODUCTS)
            )
        )


def test_thirty_concurrent_adds_through_one_process_all_land(emulator, catalog_file, tmp_path):
    stripe_url, state, _ = emulator
    with running_service(service_env(stripe_url, catalog_file), tmp_path) as url:
        session_id = create_session(url)
        responses = asyncio.run(add_all([url], session_id))

    assert [r.status_code for r in responses] == [200] * 30, [r.text for r in responses]
    items = state.checkout_sessions[session_id]["line_items"]
    assert len(items) == 31
    assert {li["metadata"].get("product_id") for li in items} == {"base", *PRODUCTS}


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running_redis(tmp_path) as server:
        yield server


def test_thirty_concurrent_adds_through_two_replicas_sharing_redis_all_land(
    emulator, catalog_file, tmp_path, redis_server
):
    stripe_url, state, _ = emulator
    env = service_env(stripe_url, catalog_file, AMOUNT_UPDATER_REDIS_URL=redis_server.url)
    with running_service(env, tmp_path) as first, running_service(env, tmp_path) as second:
        session_id = create_session(first)
        responses = asyncio.run(add_all([first, second], session_id))

    assert [r.status_code for r in responses] == [200] * 30, [r.text for r in responses]
    assert len(state.checkout_sessions[session_id]["line_items"]) == 31


def test_a_replayed_idempotency_key_changes_nothing_even_on_the_other_replica(
    emulator, catalog_file, tmp_path, redis_server
):
    stripe_url, state, _ = emulator
    env = service_env(stripe_url, catalog_file, AMOUNT_UPDATER_REDIS_URL=redis_server.url)
    with running_service(env, tmp_path) as first, running_service(env, tmp_path) as second:
        session_id = create_session(first)
        headers = {"X-API-Key": API_KEY, "Idempotency-Key": "add-p01-once"}
        path = f"/v1/checkout-sessions/{session_id}/items"
        original = httpx.post(f"{first}{path}", json={"product_id": "p01"}, headers=headers)
        writes = state.write_count
        same = httpx.post(f"{first}{path}", json={"product_id": "p01"}, headers=headers)
        other_replica = httpx.post(f"{second}{path}", json={"product_id": "p01"}, headers=headers)
        reused = httpx.post(f"{second}{path}", json={"product_id": "p02"}, headers=headers)

    assert original.status_code == 200, original.text
    for replay in (same, other_replica):
        assert replay.status_code == 200
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.content == original.content
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_key_reused"
    assert state.write_count == writes
    products = [
        li["metadata"]["product_id"] for li in state.checkout_sessions[session_id]["line_items"]
    ]
    assert products == ["base", "p01"]


def test_a_write_whose_answer_was_lost_lands_exactly_once(emulator, catalog_file, tmp_path):
    stripe_url, state, plan = emulator
    env = service_env(
        stripe_url,
        catalog_file,
        AMOUNT_UPDATER_STRIPE_TIMEOUT_S="1",
        AMOUNT_UPDATER_STRIPE_MAX_RETRIES="2",
    )
    with running_service(env, tmp_path) as url:
        session_id = create_session(url)
        plan.lose_next_write_answer = True
        # 20 s: what Stripe.js's runServerUpdate gives the server.
        response = httpx.post(
            f"{url}/v1/checkout-sessions/{session_id}/items",
            json={"product_id": "p07"},
            headers={"X-API-Key": API_KEY},
            timeout=20,
        )

    assert plan.lost_answers == 1
    assert response.status_code == 200, response.text
    products = [
        li["metadata"]["product_id"] for li in state.checkout_sessions[session_id]["line_items"]
    ]
    assert products == ["base", "p07"]
    assert response.json()["amount_total"] == state.checkout_sessions[session_id]["amount_total"]


def test_a_caller_retry_after_a_lost_answer_does_not_apply_the_change_twice(
    emulator, catalog_file, tmp_path
):
    stripe_url, state, plan = emulator
    env = service_env(
        stripe_url,
        catalog_file,
        AMOUNT_UPDATER_STRIPE_TIMEOUT_S="1",
        AMOUNT_UPDATER_STRIPE_MAX_RETRIES="0",  # the service gives up: the caller retries
    )
    with running_service(env, tmp_path) as url:
        session_id = create_session(url)
        plan.lose_next_write_answer = True
        headers = {"X-API-Key": API_KEY, "Idempotency-Key": "add-p09"}
        path = f"{url}/v1/checkout-sessions/{session_id}/items"
        first = httpx.post(path, json={"product_id": "p09"}, headers=headers, timeout=20)
        retry = httpx.post(path, json={"product_id": "p09"}, headers=headers, timeout=20)

    assert first.status_code == 504
    assert retry.status_code == 200, retry.text
    products = [
        li["metadata"]["product_id"] for li in state.checkout_sessions[session_id]["line_items"]
    ]
    assert products == ["base", "p09"]


def test_a_hanging_stripe_yields_504_within_the_budget(emulator, catalog_file, tmp_path):
    stripe_url, state, plan = emulator
    env = service_env(
        stripe_url,
        catalog_file,
        AMOUNT_UPDATER_STRIPE_TIMEOUT_S="1",
        AMOUNT_UPDATER_REQUEST_BUDGET_S="2",
    )
    with running_service(env, tmp_path) as url:
        session_id = create_session(url)
        writes = state.write_count
        plan.hang = True
        response = httpx.post(
            f"{url}/v1/checkout-sessions/{session_id}/items",
            json={"product_id": "p03"},
            headers={"X-API-Key": API_KEY},
            timeout=20,  # the storefront's own limit; the service must answer before it
        )
        plan.hang = False

    assert response.status_code == 504
    assert response.json()["code"] == "stripe_timeout"
    assert state.write_count == writes


def test_redis_stopped_mid_run_yields_503_and_never_an_unlocked_write(
    emulator, catalog_file, tmp_path, redis_server
):
    stripe_url, state, _ = emulator
    env = service_env(stripe_url, catalog_file, AMOUNT_UPDATER_REDIS_URL=redis_server.url)
    with running_service(env, tmp_path) as url:
        session_id = create_session(url)
        path = f"{url}/v1/checkout-sessions/{session_id}/items"
        before = httpx.post(path, json={"product_id": "p01"}, headers={"X-API-Key": API_KEY})
        redis_server.stop()
        writes = state.write_count
        during = httpx.post(path, json={"product_id": "p02"}, headers={"X-API-Key": API_KEY})
        ready = httpx.get(f"{url}/readyz")

    assert before.status_code == 200, before.text
    assert during.status_code == 503
    assert during.json()["code"] == "coordination_unavailable"
    assert state.write_count == writes
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"] == "unreachable"
