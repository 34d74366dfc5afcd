"""Exactly once, when answers are lost: the real service processes against the stateful emulator
(with a real redis-server for replicas), reproducing each fault the review found.

The held write: the stand-in keeps a change's write to Stripe until the test lets it land, so
it lands after the service answered 504 (its budget ran out while the write was in flight) or
after the replica that sent it was killed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from stripe_emulator import EmulatorState, create_emulator_app
from tests.support.faulty_stripe import FaultPlan, FaultyStripe
from tests.support.redis_server import RedisServer, running_redis
from tests.support.servers import serve_in_thread
from tests.support.service_process import running_service, service_process

API_KEY = "e2e-api-key-0123456789"
BUDGET_S = 2.0
WEBHOOK_SECRET = "whsec_e2e_0123456789abcdef"


@pytest.fixture
def emulator() -> Iterator[tuple[str, EmulatorState, FaultPlan]]:
    state, plan = EmulatorState(), FaultPlan()
    with serve_in_thread(FaultyStripe(create_emulator_app(state), plan)) as url:
        yield url, state, plan
        plan.release_write.set()  # never leave a held write behind


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running_redis(tmp_path) as server:
        yield server


def env(stripe_url: str, **extra: str) -> dict[str, str]:
    return {
        "AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_test_e2e",
        "AMOUNT_UPDATER_RETURN_URL": "https://shop.example/checkout/return",
        "AMOUNT_UPDATER_STRIPE_API_BASE": stripe_url,
        "AMOUNT_UPDATER_API_KEYS": API_KEY,
        "AMOUNT_UPDATER_TOKEN_SECRET": "x" * 32,
        # The budget runs out while a write is in flight: the service's own HTTP timeout is
        # longer and it does not retry by itself, so the write's fate is unknown to it.
        "AMOUNT_UPDATER_REQUEST_BUDGET_S": str(BUDGET_S),
        "AMOUNT_UPDATER_STRIPE_TIMEOUT_S": "8",
        "AMOUNT_UPDATER_STRIPE_MAX_RETRIES": "0",
        **extra,
    }


KIND_PATHS = {"session": "/v1/checkout-sessions", "intent": "/v1/payment-intents"}


def create(url: str, kind: str) -> tuple[str, dict[str, str]]:
    response = httpx.post(
        f"{url}{KIND_PATHS[kind]}",
        json={"currency": "usd", "items": [{"product_id": "tshirt"}]},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], {"Authorization": f"Bearer {body['token']}"}


def add(url: str, kind: str, object_id: str, auth: dict[str, str], product: str, key: str):
    return httpx.post(
        f"{url}{KIND_PATHS[kind]}/{object_id}/items",
        json={"product_id": product},
        headers={**auth, "Idempotency-Key": key},
        timeout=20,
    )


def quantities(state: EmulatorState, kind: str, object_id: str) -> dict[str, int]:
    """What the Stripe stand-in holds, per catalog product."""
    if kind == "session":
        counts: dict[str, int] = {}
        for item in state.checkout_sessions[object_id]["line_items"]:
            product = item["metadata"].get("product_id")
            if product:
                counts[product] = counts.get(product, 0) + item["quantity"]
        return counts
    cart = state.payment_intents[object_id]["metadata"]["amount_updater_cart"]
    return {p: int(q) for p, _, q in (entry.partition(":") for entry in cart.split(","))}


def lose_the_answer_of(plan: FaultPlan, send) -> httpx.Response:
    """Send a change whose write is held at Stripe; the service answers 504 meanwhile."""
    plan.hold_next_write = True
    answer = send()
    assert plan.write_held.is_set(), answer.text
    return answer


class TestLostAnswerWithAnInterleavedChange:
    """A change D is answered 504 while its write is still on its way; another change F lands;
    D is retried with its key. D must apply once, and F must not be lost."""

    @pytest.mark.parametrize("kind", ["session", "intent"])
    def test_d_lands_before_f_and_its_retry_does_not_apply_it_again(
        self, emulator, tmp_path, kind: str
    ):
        stripe_url, state, plan = emulator
        with running_service(env(stripe_url), tmp_path) as url:
            object_id, auth = create(url, kind)
            d = lose_the_answer_of(plan, lambda: add(url, kind, object_id, auth, "stickers", "kD"))
            plan.release_write.set()
            assert plan.write_landed.wait(10)  # D has landed at Stripe
            f = add(url, kind, object_id, auth, "mug", "kF")
            retried = add(url, kind, object_id, auth, "stickers", "kD")

        assert d.status_code == 504
        assert d.json()["code"] == "stripe_timeout"
        assert f.status_code == 200, f.text
        assert retried.status_code == 200, retried.text
        assert quantities(state, kind, object_id) == {"tshirt": 1, "stickers": 1, "mug": 1}
        assert {i["product_id"]: i["quantity"] for i in retried.json()["items"]} == {
            "tshirt": 1,
            "stickers": 1,
            "mug": 1,
        }

    @pytest.mark.parametrize("kind", ["session", "intent"])
    def test_d_lands_after_f_read_the_object_and_nothing_is_lost(
        self, emulator, tmp_path, kind: str
    ):
        """F comes while D's write is still held: F first settles D (sends D's very write
        again, which Stripe runs), then applies itself; D's first attempt then lands as a
        replay and changes nothing."""
        stripe_url, state, plan = emulator
        with running_service(env(stripe_url), tmp_path) as url:
            object_id, auth = create(url, kind)
            d = lose_the_answer_of(plan, lambda: add(url, kind, object_id, auth, "stickers", "kD"))
            f = add(url, kind, object_id, auth, "mug", "kF")
            plan.release_write.set()
            assert plan.write_landed.wait(10)
            retried = add(url, kind, object_id, auth, "stickers", "kD")

        assert d.status_code == 504
        assert f.status_code == 200, f.text
        assert retried.status_code == 200, retried.text
        assert quantities(state, kind, object_id) == {"tshirt": 1, "stickers": 1, "mug": 1}

    def test_across_two_replicas_sharing_redis(self, emulator, tmp_path, redis_server):
        stripe_url, state, plan = emulator
        shared = env(stripe_url, AMOUNT_UPDATER_REDIS_URL=redis_server.url)
        with running_service(shared, tmp_path) as one, running_service(shared, tmp_path) as two:
            object_id, auth = create(one, "session")
            d = lose_the_answer_of(
                plan, lambda: add(one, "session", object_id, auth, "stickers", "kD")
            )
            f = add(two, "session", object_id, auth, "mug", "kF")
            plan.release_write.set()
            assert plan.write_landed.wait(10)
            retried = add(two, "session", object_id, auth, "stickers", "kD")

        assert d.status_code == 504
        assert (f.status_code, retried.status_code) == (200, 200), (f.text, retried.text)
        assert quantities(state, "session", object_id) == {"tshirt": 1, "stickers": 1, "mug": 1}

    def test_a_replica_killed_mid_write(self, emulator, tmp_path, redis_server):
        """The replica dies with the write in flight and the object's lock held; the write
        lands; another change and the client's retry go to the surviving replica."""
        stripe_url, state, plan = emulator
        shared = env(stripe_url, AMOUNT_UPDATER_REDIS_URL=redis_server.url)
        with (
            service_process(shared, tmp_path, log_name="one.log") as one,
            running_service(shared, tmp_path, log_name="two.log") as two,
        ):
            object_id, auth = create(one.url, "session")
            plan.hold_next_write = True
            with httpx.Client(timeout=20) as client:
                pending = client.build_request(
                    "POST",
                    f"{one.url}/v1/checkout-sessions/{object_id}/items",
                    json={"product_id": "stickers"},
                    headers={**auth, "Idempotency-Key": "kD"},
                )
                sender = asyncio.new_event_loop()
                try:
                    future = sender.run_in_executor(None, client.send, pending)
                    assert plan.write_held.wait(10)
                    one.kill()
                    plan.release_write.set()
                    assert plan.write_landed.wait(10)
                    with pytest.raises(httpx.TransportError):
                        sender.run_until_complete(future)
                finally:
                    sender.close()
            time.sleep(BUDGET_S)  # the dead replica's lock lease runs out
            f = add(two, "session", object_id, auth, "mug", "kF")
            # kD stays "in progress" until the dead replica's hold on it runs out: the client
            # does as the 409 says, and retries after Retry-After.
            retried = add(two, "session", object_id, auth, "stickers", "kD")
            deadline = time.monotonic() + 10
            while retried.status_code == 409 and time.monotonic() < deadline:
                assert retried.json()["code"] == "request_in_progress"
                time.sleep(int(retried.headers["retry-after"]))
                retried = add(two, "session", object_id, auth, "stickers", "kD")

        assert (f.status_code, retried.status_code) == (200, 200), (f.text, retried.text)
        assert quantities(state, "session", object_id) == {"tshirt": 1, "stickers": 1, "mug": 1}


class TestScopes:
    def test_a_forged_token_with_a_shoppers_key_gets_nothing(self, emulator, tmp_path):
        stripe_url, state, _ = emulator
        body = {"currency": "usd", "items": [{"product_id": "tshirt"}]}
        with running_service(env(stripe_url), tmp_path) as url:
            shopper = httpx.post(
                f"{url}/v1/checkout-sessions", json=body, headers={"Idempotency-Key": "order-1001"}
            )
            forged = httpx.post(
                f"{url}/v1/checkout-sessions",
                json=body,
                headers={"Idempotency-Key": "order-1001", "Authorization": "Bearer whatever"},
            )

        assert shopper.status_code == 201
        assert forged.status_code == 401
        assert forged.json()["code"] == "unauthenticated"
        assert len(state.checkout_sessions) == 1

    def test_the_same_key_from_another_address_is_another_session(self, emulator, tmp_path):
        stripe_url, state, _ = emulator
        body = {"currency": "usd", "items": [{"product_id": "tshirt"}]}
        headers = {"Idempotency-Key": "order-1001"}
        with running_service(env(stripe_url), tmp_path) as url:
            shopper = httpx.post(f"{url}/v1/checkout-sessions", json=body, headers=headers)
            # Another machine: the same loopback service, reached from another source address.
            transport = httpx.HTTPTransport(local_address="127.0.0.2")
            with httpx.Client(transport=transport) as elsewhere:
                other = elsewhere.post(f"{url}/v1/checkout-sessions", json=body, headers=headers)

        assert (shopper.status_code, other.status_code) == (201, 201)
        assert "idempotent-replayed" not in other.headers
        assert other.json()["id"] != shopper.json()["id"]
        assert other.json()["token"] != shopper.json()["token"]
        assert len(state.checkout_sessions) == 2

    def test_a_401_is_not_replayed_to_the_same_request_that_then_verifies(
        self, emulator, tmp_path, redis_server
    ):
        """A rolling deploy: the shop's new API key reaches one replica before the other. The
        request refused by the first (401) and sent again to the second, with the same key and
        the same headers, is applied: a refusal is never stored under a key."""
        stripe_url, state, _ = emulator
        new_key = "shop-new-api-key-0123456789"
        old_env = env(stripe_url, AMOUNT_UPDATER_REDIS_URL=redis_server.url)
        new_env = {**old_env, "AMOUNT_UPDATER_API_KEYS": f"{API_KEY},{new_key}"}
        with running_service(old_env, tmp_path) as old, running_service(new_env, tmp_path) as new:
            session_id, _ = create(old, "session")
            shop = {"X-API-Key": new_key}
            refused = add(old, "session", session_id, shop, "mug", "k1")
            applied = add(new, "session", session_id, shop, "mug", "k1")

        assert refused.status_code == 401
        assert applied.status_code == 200, applied.text
        assert "idempotent-replayed" not in applied.headers
        assert quantities(state, "session", session_id) == {"tshirt": 1, "mug": 1}


class TestRedisUnderLoad:
    def test_a_burst_of_400_changes_over_two_replicas_is_served(
        self, emulator, tmp_path, redis_server
    ):
        stripe_url, state, _ = emulator
        shared = env(
            stripe_url,
            AMOUNT_UPDATER_REDIS_URL=redis_server.url,
            AMOUNT_UPDATER_REQUEST_BUDGET_S="15",
            AMOUNT_UPDATER_RATE_LIMIT_CREATES_PER_MINUTE="0",
            # What is measured is Redis under the burst, not Stripe's rate budget (which the
            # emulator does not enforce, and the flash-sale benchmark measures).
            AMOUNT_UPDATER_STRIPE_REQUESTS_PER_SECOND="0",
            AMOUNT_UPDATER_STRIPE_ENDPOINT_REQUESTS_PER_SECOND="0",
        )
        with running_service(shared, tmp_path) as one, running_service(shared, tmp_path) as two:
            sessions = [create(one, "session") for _ in range(100)]

            async def burst() -> list[httpx.Response]:
                limits = httpx.Limits(max_connections=400)
                async with httpx.AsyncClient(timeout=30, limits=limits) as client:
                    return await asyncio.gather(
                        *(
                            client.post(
                                f"{(one, two)[n % 2]}/v1/checkout-sessions/{sid}/items",
                                json={"product_id": product},
                                headers=auth,
                            )
                            for n, (sid, auth) in enumerate(sessions)
                            for product in ("mug", "stickers", "gift_wrap", "warranty")
                        )
                    )

            answers = asyncio.run(burst())

        statuses = [a.status_code for a in answers]
        assert statuses == [200] * 400, {s: statuses.count(s) for s in set(statuses)}
        for sid, _ in sessions:
            assert quantities(state, "session", sid) == {
                "tshirt": 1,
                "mug": 1,
                "stickers": 1,
                "gift_wrap": 1,
                "warranty": 1,
            }

    def test_a_lock_whose_release_failed_while_redis_was_paused_frees_the_object_soon(
        self, emulator, tmp_path, redis_server
    ):
        """Redis pauses for 4 s just as a change finishes: its lock release fails. The next
        change to the object is served once Redis is back, not after a long lease."""
        stripe_url, state, plan = emulator
        shared = env(
            stripe_url,
            AMOUNT_UPDATER_REDIS_URL=redis_server.url,
            AMOUNT_UPDATER_REQUEST_BUDGET_S="15",
        )
        admin = redis.Redis.from_url(redis_server.url)
        with running_service(shared, tmp_path) as url:
            session_id, auth = create(url, "session")
            plan.hold_next_write = True
            with httpx.Client(timeout=30) as client:
                loop = asyncio.new_event_loop()
                try:
                    first = loop.run_in_executor(
                        None,
                        lambda: client.post(
                            f"{url}/v1/checkout-sessions/{session_id}/items",
                            json={"product_id": "mug"},
                            headers=auth,
                        ),
                    )
                    assert plan.write_held.wait(10)
                    admin.execute_command("CLIENT", "PAUSE", "4000")
                    plan.release_write.set()
                    first_answer = loop.run_until_complete(first)
                finally:
                    loop.close()
            started = time.monotonic()
            second = add(url, "session", session_id, auth, "stickers", "k2")
            waited = time.monotonic() - started
        admin.close()

        assert first_answer.status_code == 200, first_answer.text
        assert second.status_code == 200, second.text
        assert waited < 8
        assert quantities(state, "session", session_id) == {"tshirt": 1, "mug": 1, "stickers": 1}


class TestUntrustedStripeData:
    def test_bad_cart_metadata_is_409_and_put_cart_repairs_it(self, emulator, tmp_path):
        stripe_url, state, _ = emulator
        # Reads straight from Stripe: the edit below is made behind the service's back.
        service_env = env(stripe_url, AMOUNT_UPDATER_CART_READ_CACHE_S="0")
        with running_service(service_env, tmp_path) as url:
            intent_id, auth = create(url, "intent")
            edited = httpx.post(  # the shop's own tooling edits the metadata by hand
                f"{stripe_url}/v1/payment_intents/{intent_id}",
                data={"metadata[amount_updater_cart]": "tshirt:\u00b2"},
                headers={"Authorization": "Bearer sk_test_shop"},
            )
            read = httpx.get(f"{url}/v1/payment-intents/{intent_id}", headers=auth)
            change = add(url, "intent", intent_id, auth, "mug", "k1")
            repaired = httpx.put(
                f"{url}/v1/payment-intents/{intent_id}/cart",
                json={"items": [{"product_id": "mug", "quantity": 2}]},
                headers=auth,
            )
            after = httpx.get(f"{url}/v1/payment-intents/{intent_id}", headers=auth)

        assert edited.status_code == 200, edited.text
        assert (read.status_code, read.json()["code"]) == (409, "cart_unreadable")
        assert (change.status_code, change.json()["code"]) == (409, "cart_unreadable")
        assert repaired.status_code == 200, repaired.text
        assert after.status_code == 200
        assert state.payment_intents[intent_id]["amount"] == 2400
        assert quantities(state, "intent", intent_id) == {"mug": 2}

    def test_a_signed_webhook_whose_object_has_no_id_is_400(self, emulator, tmp_path):
        stripe_url, _, _ = emulator
        payload = json.dumps(
            {
                "id": "evt_e2e_1",
                "object": "event",
                "type": "payment_intent.succeeded",
                "data": {"object": {"object": "payment_intent", "amount_received": 100}},
            }
        )
        signed_at = int(time.time())
        mac = hmac.new(WEBHOOK_SECRET.encode(), f"{signed_at}.{payload}".encode(), hashlib.sha256)
        service_env = env(stripe_url, AMOUNT_UPDATER_STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
        with running_service(service_env, tmp_path) as url:
            response = httpx.post(
                f"{url}/v1/webhooks/stripe",
                content=payload,
                headers={
                    "Content-Type": "application/json",
                    "Stripe-Signature": f"t={signed_at},v1={mac.hexdigest()}",
                },
            )

        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_event"
