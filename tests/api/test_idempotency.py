"""`Idempotency-Key` through the whole app, Stripe mocked at the wire: replay, refusal of a
reused key, requests in flight, caller scoping, refusals that are not stored, and the request
history that stops a change whose answer was lost from being applied twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
import respx
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from amount_updater.config import Settings
from amount_updater.service.changes import AddItem
from amount_updater.service.request_history import Origin
from tests.api.test_checkout_sessions import SESSION_URL, SID, token_for
from tests.api.test_payment_intents import OURS, PID, mock_intent
from tests.api.test_payment_intents import URL as INTENT_URL
from tests.api.test_payment_intents import auth as intent_auth
from tests.conftest import API_KEY, build_app
from tests.support.asgi import disconnecting_after, http_scope
from tests.support.redis_server import RedisServer, running_redis
from tests.support.stripe_objects import NOW, checkout_session, form, payment_intent, product_line

CHANGE_URL = f"/v1/checkout-sessions/{SID}/items"
ADD_MUG = {"product_id": "mug"}


def marker(key: str, object_id: str = SID, product_id: str = "mug") -> str:
    """The marker a token holder's "add one <product>" request with `key` leaves on the object."""
    return Origin(f"token:{object_id}", key).marker(AddItem(product_id, 1))


@pytest.fixture
def session() -> dict:
    return checkout_session(line_items=[product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt")])


def answer_for(session: dict, total: int = 3700) -> httpx.Response:
    return httpx.Response(200, json={**session, "line_items": None, "amount_total": total})


CREATE = {"currency": "usd", "items": [{"product_id": "mug"}]}


def mock_create(stripe_mock: respx.MockRouter) -> respx.Route:
    created = checkout_session(id="cs_test_new", line_items=[product_line("mug", "Mug", 1200)])
    return stripe_mock.post("/v1/checkout/sessions").respond(200, json=created)


def mock_update(stripe_mock: respx.MockRouter, session: dict) -> tuple[respx.Route, respx.Route]:
    read = stripe_mock.get(SESSION_URL).respond(200, json=session)
    write = stripe_mock.post(SESSION_URL).mock(return_value=answer_for(session))
    return read, write


async def add(
    client: httpx.AsyncClient,
    key: str | None,
    body: dict | None = None,
    credentials: dict[str, str] | None = None,
) -> httpx.Response:
    sent = dict(credentials or token_for())
    if key is not None:
        sent["Idempotency-Key"] = key
    return await client.post(CHANGE_URL, json=body or ADD_MUG, headers=sent)


class TestReplay:
    @pytest.mark.asyncio
    async def test_the_same_request_replays_the_first_answer_byte_for_byte(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        read, write = mock_update(stripe_mock, session)

        first = await add(client, "key-1")
        second = await add(client, "key-1")

        assert first.status_code == 200, first.text
        assert "idempotent-replayed" not in first.headers
        assert second.headers["idempotent-replayed"] == "true"
        assert second.status_code == first.status_code
        assert second.content == first.content
        assert second.headers["content-type"] == first.headers["content-type"]
        assert second.headers["content-length"] == str(len(first.content))
        assert (read.call_count, write.call_count) == (1, 1)

    @pytest.mark.asyncio
    async def test_a_created_session_is_replayed_with_its_201(
        self, client, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)
        headers = {"Idempotency-Key": "create-1"}

        first = await client.post("/v1/checkout-sessions", json=CREATE, headers=headers)
        second = await client.post("/v1/checkout-sessions", json=CREATE, headers=headers)

        assert first.status_code == second.status_code == 201
        assert second.content == first.content
        assert second.headers["idempotent-replayed"] == "true"
        assert create.call_count == 1


class TestRefusalsAreNotStored:
    """Only a 2xx answer is stored: a refused request wrote nothing, so its retry runs again."""

    @pytest.mark.asyncio
    async def test_a_409_is_evaluated_again_on_retry(self, client, stripe_mock: respx.MockRouter):
        read = stripe_mock.get(SESSION_URL).respond(200, json=checkout_session(status="complete"))

        first = await add(client, "key-1")
        second = await add(client, "key-1")

        assert first.status_code == second.status_code == 409
        assert second.json()["code"] == "not_updatable"
        assert "idempotent-replayed" not in second.headers
        assert read.call_count == 2

    @pytest.mark.asyncio
    async def test_a_401_then_the_same_request_with_a_valid_token_is_applied(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        _, write = mock_update(stripe_mock, session)

        refused = await add(client, "key-1", credentials={"Authorization": "Bearer whatever"})
        applied = await add(client, "key-1")

        assert refused.status_code == 401
        assert applied.status_code == 200, applied.text
        assert "idempotent-replayed" not in applied.headers
        assert write.call_count == 1

    @pytest.mark.asyncio
    async def test_a_403_then_the_right_token_is_applied(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        _, write = mock_update(stripe_mock, session)
        other_object = token_for(object_id="cs_test_other")

        refused = await add(client, "key-1", credentials=other_object)
        applied = await add(client, "key-1")

        assert refused.status_code == 403
        assert applied.status_code == 200, applied.text
        assert write.call_count == 1

    @pytest.mark.asyncio
    async def test_a_422_then_a_valid_body_under_the_same_key_is_applied(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        _, write = mock_update(stripe_mock, session)

        refused = await add(client, "key-1", {"product_id": "mug", "price": 1})
        applied = await add(client, "key-1")

        assert refused.status_code == 422
        assert applied.status_code == 200, applied.text
        assert write.call_count == 1

    @pytest.mark.asyncio
    async def test_a_429_is_not_stored(self, settings, stripe_mock: respx.MockRouter, session):
        limited = settings.model_copy(update={"rate_limit_changes_per_minute": 1})
        mock_update(stripe_mock, session)
        app = build_app(limited, stripe_mock)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                await add(c, "key-0")
                refused = await add(c, "key-1")
                again = await add(c, "key-1")

        assert refused.status_code == again.status_code == 429
        assert "idempotent-replayed" not in again.headers


class TestReusedKey:
    @pytest.mark.asyncio
    async def test_the_same_key_with_another_body_is_409_without_calling_stripe(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        mock_update(stripe_mock, session)
        await add(client, "key-1")
        calls_before = len(stripe_mock.calls)

        response = await add(client, "key-1", {"product_id": "hoodie"})

        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_key_reused"
        assert len(stripe_mock.calls) == calls_before

    @pytest.mark.asyncio
    async def test_the_same_key_on_another_route_is_409(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        mock_update(stripe_mock, session)
        await add(client, "key-1")
        calls_before = len(stripe_mock.calls)

        response = await client.put(
            f"/v1/checkout-sessions/{SID}/discount",
            json=ADD_MUG,
            headers={**token_for(), "Idempotency-Key": "key-1"},
        )

        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_key_reused"
        assert len(stripe_mock.calls) == calls_before


class TestInFlight:
    @pytest.mark.asyncio
    async def test_a_duplicate_while_the_first_is_in_flight_is_request_in_progress(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        reading, release = asyncio.Event(), asyncio.Event()

        async def slow_read(request: httpx.Request) -> httpx.Response:
            reading.set()
            await release.wait()
            return httpx.Response(200, json=session)

        read = stripe_mock.get(SESSION_URL).mock(side_effect=slow_read)
        write = stripe_mock.post(SESSION_URL).mock(return_value=answer_for(session))

        first_task = asyncio.create_task(add(client, "key-1"))
        try:
            await asyncio.wait_for(reading.wait(), timeout=5)
            duplicate = await add(client, "key-1")
        finally:
            release.set()
            first = await first_task

        assert duplicate.status_code == 409
        assert duplicate.json()["code"] == "request_in_progress"
        assert duplicate.headers["retry-after"] == "1"
        assert first.status_code == 200, first.text
        assert (read.call_count, write.call_count) == (1, 1)

    @pytest.mark.asyncio
    async def test_once_the_first_finishes_the_duplicate_is_a_replay(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        reading, release = asyncio.Event(), asyncio.Event()

        async def slow_read(request: httpx.Request) -> httpx.Response:
            reading.set()
            await release.wait()
            return httpx.Response(200, json=session)

        stripe_mock.get(SESSION_URL).mock(side_effect=slow_read)
        write = stripe_mock.post(SESSION_URL).mock(return_value=answer_for(session))
        first_task = asyncio.create_task(add(client, "key-1"))
        await asyncio.wait_for(reading.wait(), timeout=5)
        release.set()
        first = await first_task

        again = await add(client, "key-1")

        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
        assert write.call_count == 1


class TestScope:
    @pytest.mark.asyncio
    async def test_another_caller_with_the_same_key_is_not_a_replay(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        _, write = mock_update(stripe_mock, session)

        await add(client, "shared-key")
        other = await client.post(
            CHANGE_URL,
            json=ADD_MUG,
            headers={"X-API-Key": API_KEY, "Idempotency-Key": "shared-key"},
        )

        assert other.status_code == 200, other.text
        assert "idempotent-replayed" not in other.headers
        assert write.call_count == 2

    @pytest.mark.asyncio
    async def test_two_tokens_for_one_session_share_its_key_space(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        """The scope is the token's subject (the session), not the token's bytes: a page that
        reloaded with a fresh token for the same session still replays its own request."""
        _, write = mock_update(stripe_mock, session)

        first = await add(client, "shared-key")
        other = await add(client, "shared-key", credentials=token_for(expires_at=NOW + 1800))

        assert other.headers["idempotent-replayed"] == "true"
        assert other.content == first.content
        assert write.call_count == 1

    @pytest.mark.asyncio
    async def test_a_forged_token_with_a_shoppers_key_gets_no_token_for_the_shoppers_session(
        self, client, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        shopper = await client.post(
            "/v1/checkout-sessions", json=CREATE, headers={"Idempotency-Key": "order-1001"}
        )
        forged = await client.post(
            "/v1/checkout-sessions",
            json=CREATE,
            headers={"Idempotency-Key": "order-1001", "Authorization": "Bearer whatever"},
        )

        assert shopper.status_code == 201
        assert forged.status_code == 401
        assert "token" not in forged.json()
        assert "client_secret" not in forged.json()
        assert create.call_count == 1

    @pytest.mark.asyncio
    async def test_an_anonymous_creation_from_another_address_is_another_stripe_request(
        self, app, stripe_mock: respx.MockRouter
    ):
        """Same body, same key, another client: neither our store nor Stripe's idempotency
        replays the first caller's session to the second."""
        create = mock_create(stripe_mock)
        headers = {"Idempotency-Key": "order-1001"}

        async with LifespanManager(app) as manager:
            answers = []
            for address in ("203.0.113.7", "198.51.100.9"):
                transport = httpx.ASGITransport(app=manager.app, client=(address, 4321))
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                    answers.append(
                        await c.post("/v1/checkout-sessions", json=CREATE, headers=headers)
                    )

        assert [a.status_code for a in answers] == [201, 201]
        assert "idempotent-replayed" not in answers[1].headers
        keys = [call.request.headers["idempotency-key"] for call in create.calls]
        assert len(keys) == 2
        assert keys[0] != keys[1]

    @pytest.mark.asyncio
    async def test_a_request_without_the_header_is_never_replayed(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        _, write = mock_update(stripe_mock, session)

        first = await add(client, None)
        second = await add(client, None)

        assert first.status_code == second.status_code == 200
        assert "idempotent-replayed" not in second.headers
        assert write.call_count == 2

    @pytest.mark.asyncio
    async def test_get_requests_ignore_the_header(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        read = stripe_mock.get(SESSION_URL).respond(200, json=session)
        headers = {**token_for(), "Idempotency-Key": "key-1"}

        first = await client.get(f"/v1/checkout-sessions/{SID}", headers=headers)
        second = await client.get(f"/v1/checkout-sessions/{SID}", headers=headers)

        assert first.status_code == second.status_code == 200
        assert "idempotent-replayed" not in second.headers
        assert read.call_count == 2


class TestKeyShape:
    @pytest.mark.asyncio
    async def test_a_key_longer_than_255_characters_is_422(
        self, client, stripe_mock: respx.MockRouter
    ):
        response = await add(client, "k" * 256)

        assert response.status_code == 422
        assert response.json()["code"] == "invalid_request"
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_a_key_of_255_characters_is_accepted(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        mock_update(stripe_mock, session)
        response = await add(client, "k" * 255)
        assert response.status_code == 200, response.text

    @pytest.mark.asyncio
    async def test_an_empty_key_is_422(self, client, stripe_mock: respx.MockRouter):
        response = await add(client, "")

        assert response.status_code == 422
        assert response.json()["code"] == "invalid_request"
        assert not stripe_mock.calls


class TestServerErrorsAreNotStored:
    @pytest.mark.asyncio
    async def test_a_503_is_not_stored_and_the_retry_first_settles_the_write(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        """A 5xx write may have landed: the retry first sends that very write again (Stripe
        replays it if it landed), then reads the session and decides."""
        read = stripe_mock.get(SESSION_URL).respond(200, json=session)
        write = stripe_mock.post(SESSION_URL).mock(
            side_effect=[
                httpx.Response(503, json={"error": {"type": "api_error"}}),
                answer_for(session),
                answer_for(session),
            ]
        )

        failed = await add(client, "key-1")
        retried = await add(client, "key-1")

        assert failed.status_code == 503
        assert failed.json()["code"] == "stripe_unavailable"
        assert retried.status_code == 200, retried.text
        assert "idempotent-replayed" not in retried.headers
        calls = [
            (c.request.method, c.request.headers.get("idempotency-key")) for c in stripe_mock.calls
        ]
        first_key = write.calls[0].request.headers["idempotency-key"]
        assert calls[:3] == [("GET", None), ("POST", first_key), ("POST", first_key)]
        assert write.calls[1].request.content == write.calls[0].request.content
        assert read.call_count == 2

    @pytest.mark.asyncio
    async def test_an_unhandled_exception_is_not_stored(
        self, app, stripe_mock: respx.MockRouter, session
    ):
        stripe_mock.get(SESSION_URL).mock(
            side_effect=[
                httpx.Response(200, json={"object": "checkout.session"}),  # no id: parsing fails
                httpx.Response(200, json=session),
            ]
        )
        stripe_mock.post(SESSION_URL).mock(return_value=answer_for(session))

        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                failed = await add(c, "key-1")
                retried = await add(c, "key-1")

        assert failed.status_code == 500
        assert retried.status_code == 200, retried.text
        assert "idempotent-replayed" not in retried.headers

    @pytest.mark.asyncio
    async def test_a_body_cut_short_by_a_disconnect_is_not_recorded(
        self, app, stripe_mock: respx.MockRouter, session
    ):
        read, write = mock_update(stripe_mock, session)
        body = b'{"product_id": "mug"}'
        headers = [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"idempotency-key", b"key-1"),
            *((k.lower().encode(), v.encode()) for k, v in token_for().items()),
        ]
        receive = disconnecting_after(body[:10])

        async def send(message: dict) -> None:
            return None

        scope = http_scope("POST", CHANGE_URL, headers)
        async with LifespanManager(app) as manager:
            await manager.app({**scope, "state": manager._state}, receive, send)
            assert not read.called
            assert not write.called
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                retried = await add(c, "key-1")

        # The whole body, sent again with the same key, is applied, not refused as another
        # request under that key.
        assert retried.status_code == 200, retried.text
        assert "idempotent-replayed" not in retried.headers
        assert write.call_count == 1


class TestLostAnswer:
    """A change that reached Stripe carries its request marker; the retry must not repeat it."""

    @pytest.mark.asyncio
    async def test_a_change_writes_the_marker_of_its_key(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        _, write = mock_update(stripe_mock, session)

        await add(client, "key-1")

        sent = form(write.calls.last.request.content)
        assert sent["metadata[amount_updater_request]"] == marker("key-1")

    @pytest.mark.asyncio
    async def test_a_session_already_carrying_the_marker_is_not_changed_again(
        self, client, stripe_mock: respx.MockRouter
    ):
        landed = checkout_session(
            line_items=[
                product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt"),
                product_line("mug", "Mug", 1200, 1, id="li_mug"),
            ],
            metadata={"amount_updater_rev": "2", "amount_updater_request": marker("key-1")},
        )
        _, write = mock_update(stripe_mock, landed)

        response = await add(client, "key-1")

        assert response.status_code == 200, response.text
        assert write.call_count == 0
        cart = response.json()
        assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [
            ("tshirt", 1),
            ("mug", 1),
        ]
        assert cart["amount_total"] == landed["amount_total"]

    @pytest.mark.asyncio
    async def test_the_marker_of_another_key_does_not_stop_a_change(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        session["metadata"] = {"amount_updater_request": marker("key-0")}
        _, write = mock_update(stripe_mock, session)

        response = await add(client, "key-1")

        assert response.status_code == 200, response.text
        assert write.call_count == 1

    @pytest.mark.asyncio
    async def test_a_write_whose_answer_was_lost_is_not_applied_twice_on_retry(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        landed = checkout_session(
            line_items=[
                product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt"),
                product_line("mug", "Mug", 1200, 1, id="li_mug"),
            ],
            metadata={"amount_updater_rev": "1", "amount_updater_request": marker("k")},
        )
        stripe_mock.get(SESSION_URL).mock(
            side_effect=[httpx.Response(200, json=session), httpx.Response(200, json=landed)]
        )
        # The write lands but its answer is lost; sent again with the same key, Stripe replays it.
        write = stripe_mock.post(SESSION_URL).mock(
            side_effect=[httpx.ReadTimeout("answer lost"), answer_for(landed)]
        )

        lost = await add(client, "k")
        retried = await add(client, "k")

        assert lost.status_code == 504
        assert retried.status_code == 200, retried.text
        assert write.call_count == 2  # the lost write, then the same write to settle it
        first, settle = (call.request for call in write.calls)
        assert settle.headers["idempotency-key"] == first.headers["idempotency-key"]
        assert settle.content == first.content
        assert [i["product_id"] for i in retried.json()["items"]] == ["tshirt", "mug"]

    @pytest.mark.asyncio
    async def test_another_callers_change_with_the_same_key_is_still_applied(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        state = {"session": session}

        def write(request: httpx.Request) -> httpx.Response:
            sent = form(request.content)
            metadata = {k[9:-1]: v for k, v in sent.items() if k.startswith("metadata[")}
            state["session"] = {**state["session"], "metadata": metadata}
            return answer_for(state["session"])

        stripe_mock.get(SESSION_URL).mock(
            side_effect=lambda request: httpx.Response(200, json=state["session"])
        )
        update = stripe_mock.post(SESSION_URL).mock(side_effect=write)

        await add(client, "add-once")  # the shopper's browser, with its token
        other = await client.post(  # the shop's server, with its API key and its own change
            CHANGE_URL,
            json={"product_id": "hoodie"},
            headers={"X-API-Key": API_KEY, "Idempotency-Key": "add-once"},
        )

        assert other.status_code == 200, other.text
        assert update.call_count == 2

    @pytest.mark.asyncio
    async def test_a_payment_intent_already_carrying_the_marker_is_not_changed_again(
        self, client, stripe_mock: respx.MockRouter
    ):
        intent = payment_intent(
            amount=5000,
            metadata={**OURS, "amount_updater_request": marker("key-1", PID, "tshirt")},
        )
        write = mock_intent(stripe_mock, intent)

        response = await client.post(
            f"/v1/payment-intents/{PID}/items",
            json={"product_id": "tshirt"},
            headers={**intent_auth(), "Idempotency-Key": "key-1"},
        )

        assert response.status_code == 200, response.text
        assert write.call_count == 0
        assert response.json()["amount_total"] == 5000
        assert stripe_mock.get(INTENT_URL).called


class TestWithRedis:
    """With `redis_url`, replicas share the store: a retry may reach any of them."""

    @pytest.fixture
    def redis_server(self, tmp_path) -> Iterator[RedisServer]:
        with running_redis(tmp_path) as server:
            yield server

    @pytest.fixture
    def settings(self, settings: Settings, redis_server: RedisServer) -> Settings:
        return settings.model_copy(update={"redis_url": SecretStr(redis_server.url)})

    @pytest_asyncio.fixture
    async def replica_b(
        self, settings: Settings, stripe_mock: respx.MockRouter
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = build_app(settings, stripe_mock)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as b:
                yield b

    @pytest.mark.asyncio
    async def test_an_answer_from_one_replica_is_replayed_by_another(
        self, client, replica_b, stripe_mock: respx.MockRouter, session
    ):
        _, write = mock_update(stripe_mock, session)

        first = await add(client, "key-1")
        second = await add(replica_b, "key-1")

        assert second.headers["idempotent-replayed"] == "true"
        assert second.content == first.content
        assert write.call_count == 1

    @pytest.mark.asyncio
    async def test_redis_down_is_503_and_stripe_is_not_called(
        self, client, redis_server: RedisServer, stripe_mock: respx.MockRouter, session
    ):
        mock_update(stripe_mock, session)
        redis_server.stop()

        response = await add(client, "key-1")

        assert response.status_code == 503
        assert response.json()["code"] == "coordination_unavailable"
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_redis_down_without_a_key_is_503_from_the_lock(
        self, client, redis_server: RedisServer, stripe_mock: respx.MockRouter, session
    ):
        mock_update(stripe_mock, session)
        redis_server.stop()

        response = await add(client, None)

        assert response.status_code == 503
        assert response.json()["code"] == "coordination_unavailable"
        assert not stripe_mock.calls
