"""Through the whole app, Stripe mocked at the wire: changes that queue on one session are
applied with one read and one write; cart reads are answered from the last read or write for a
moment; past the admission limit a request waits, then gets 503 `overloaded`."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import pytest_asyncio
import respx
from asgi_lifespan import LifespanManager

from amount_updater.config import Settings
from tests.api.test_checkout_sessions import SESSION_URL, SID, token_for
from tests.conftest import build_app
from tests.support.stripe_objects import checkout_session, line_items_sent, product_line

CART_URL = f"/v1/checkout-sessions/{SID}"


def session() -> dict:
    return checkout_session(line_items=[product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt")])


def answer() -> httpx.Response:
    return httpx.Response(200, json={**session(), "line_items": None, "amount_total": 9999})


def hold_the_first_read(
    stripe_mock: respx.MockRouter,
) -> tuple[asyncio.Event, asyncio.Event, respx.Route]:
    """The session's first read waits (`first_read` set) until `release` is set."""
    first_read, release = asyncio.Event(), asyncio.Event()

    async def read(request: httpx.Request) -> httpx.Response:
        if not first_read.is_set():
            first_read.set()
            await release.wait()
        return httpx.Response(200, json=session())

    return first_read, release, stripe_mock.get(SESSION_URL).mock(side_effect=read)


@pytest_asyncio.fixture
async def client_with(stripe_mock: respx.MockRouter, settings: Settings):
    """A client for an app built with `settings` changed by the given fields."""
    managers: list[LifespanManager] = []

    async def build(**changes: object) -> httpx.AsyncClient:
        app = build_app(settings.model_copy(update=changes), stripe_mock)
        manager = LifespanManager(app)
        await manager.__aenter__()
        managers.append(manager)
        transport = httpx.ASGITransport(app=manager.app)
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    yield build
    for manager in managers:
        await manager.__aexit__(None, None, None)


class TestBatches:
    @pytest.mark.asyncio
    async def test_changes_queued_during_a_write_share_one_read_and_one_write(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        first_read, release, reads = hold_the_first_read(stripe_mock)
        writes = stripe_mock.post(SESSION_URL).mock(return_value=answer())

        async def add(product: str) -> httpx.Response:
            return await client.post(
                f"{CART_URL}/items", json={"product_id": product}, headers=token_for()
            )

        first = asyncio.create_task(add("mug"))
        await first_read.wait()
        queued = [asyncio.create_task(add(p)) for p in ("hoodie", "stickers", "gift_wrap")]
        await asyncio.sleep(0.05)
        release.set()
        answers = await asyncio.gather(first, *queued)

        assert [a.status_code for a in answers] == [200] * 4
        assert (reads.call_count, writes.call_count) == (2, 2)  # two batches: 1 and 3 changes
        sent = [
            line.get("[metadata][product_id]")
            for line in line_items_sent(writes.calls[1].request.content)
        ]
        assert {"hoodie", "stickers", "gift_wrap"} <= set(sent)
        # Every caller of the batch is answered with the cart as it now stands.
        assert answers[1].json() == answers[2].json() == answers[3].json()
        exposition = (await client.get("/metrics")).text
        assert "amount_updater_change_batch_size_count 2.0" in exposition
        assert "amount_updater_change_batch_size_sum 4.0" in exposition

    @pytest.mark.asyncio
    async def test_a_change_that_fails_its_checks_fails_alone_in_its_batch(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        first_read, release, _ = hold_the_first_read(stripe_mock)
        writes = stripe_mock.post(SESSION_URL).mock(return_value=answer())

        async def add(product: str, quantity: int = 1) -> httpx.Response:
            return await client.post(
                f"{CART_URL}/items",
                json={"product_id": product, "quantity": quantity},
                headers=token_for(),
            )

        first = asyncio.create_task(add("mug"))
        await first_read.wait()
        too_many = asyncio.create_task(add("tshirt", 50))  # over the T-shirt's limit of 10
        fine = asyncio.create_task(add("hoodie"))
        await asyncio.sleep(0.05)
        release.set()

        assert (await first).status_code == 200
        refused = await too_many
        assert refused.status_code == 422
        assert refused.json()["code"] == "quantity_limit_exceeded"
        assert (await fine).status_code == 200
        last = line_items_sent(writes.calls[-1].request.content)
        assert "hoodie" in [line.get("[metadata][product_id]") for line in last]
        assert all(line.get("[quantity]") != "51" for line in last)


class TestRecentReads:
    @pytest.mark.asyncio
    async def test_a_read_right_after_a_read_is_answered_without_stripe(
        self, client_with, stripe_mock: respx.MockRouter
    ):
        reads = stripe_mock.get(SESSION_URL).respond(200, json=session())
        client = await client_with(cart_read_cache_s=2.0)

        first = await client.get(CART_URL, headers=token_for())
        second = await client.get(CART_URL, headers=token_for())

        assert first.status_code == second.status_code == 200
        assert second.json() == first.json()
        assert reads.call_count == 1

    @pytest.mark.asyncio
    async def test_cache_control_no_cache_reads_stripe_now(
        self, client_with, stripe_mock: respx.MockRouter
    ):
        reads = stripe_mock.get(SESSION_URL).respond(200, json=session())
        client = await client_with(cart_read_cache_s=2.0)

        await client.get(CART_URL, headers=token_for())
        await client.get(CART_URL, headers={**token_for(), "Cache-Control": "no-cache"})

        assert reads.call_count == 2

    @pytest.mark.asyncio
    async def test_a_read_after_a_change_shows_the_change_without_a_stripe_read(
        self, client_with, stripe_mock: respx.MockRouter
    ):
        reads = stripe_mock.get(SESSION_URL).respond(200, json=session())
        stripe_mock.post(SESSION_URL).mock(return_value=answer())
        client = await client_with(cart_read_cache_s=2.0)

        changed = await client.post(
            f"{CART_URL}/items", json={"product_id": "mug"}, headers=token_for()
        )
        read = await client.get(CART_URL, headers=token_for())

        assert read.json() == changed.json()
        assert read.json()["amount_total"] == 9999
        assert reads.call_count == 1  # the change's own read only

    @pytest.mark.asyncio
    async def test_a_change_always_reads_stripe(self, client_with, stripe_mock: respx.MockRouter):
        reads = stripe_mock.get(SESSION_URL).respond(200, json=session())
        stripe_mock.post(SESSION_URL).mock(return_value=answer())
        client = await client_with(cart_read_cache_s=2.0)

        await client.get(CART_URL, headers=token_for())
        await client.post(f"{CART_URL}/items", json={"product_id": "mug"}, headers=token_for())

        assert reads.call_count == 2


class TestAdmission:
    @pytest.mark.asyncio
    async def test_past_the_limit_a_request_waits_then_gets_503_overloaded(
        self, client_with, stripe_mock: respx.MockRouter
    ):
        inside, release = asyncio.Event(), asyncio.Event()

        async def slow_read(request: httpx.Request) -> httpx.Response:
            inside.set()
            await release.wait()
            return httpx.Response(200, json=session())

        stripe_mock.get(SESSION_URL).mock(side_effect=slow_read)
        client = await client_with(max_active_requests=1, request_budget_s=1.5)

        holder = asyncio.create_task(client.get(CART_URL, headers=token_for()))
        await inside.wait()
        refused = await client.get(CART_URL, headers=token_for())
        health = await client.get("/healthz")  # never queued
        release.set()
        held = await holder

        assert refused.status_code == 503
        assert refused.json()["code"] == "overloaded"
        assert refused.headers["retry-after"] == "1"
        assert health.status_code == 200
        assert held.status_code == 200
        exposition = (await client.get("/metrics")).text
        assert "amount_updater_overloaded_total 1.0" in exposition
        assert "amount_updater_admission_limit 1.0" in exposition

    @pytest.mark.asyncio
    async def test_a_request_that_waits_for_a_slot_in_time_is_served(
        self, client_with, stripe_mock: respx.MockRouter
    ):
        inside, release = asyncio.Event(), asyncio.Event()

        async def slow_read(request: httpx.Request) -> httpx.Response:
            if not inside.is_set():
                inside.set()
                await release.wait()
            return httpx.Response(200, json=session())

        stripe_mock.get(SESSION_URL).mock(side_effect=slow_read)
        client = await client_with(max_active_requests=1)

        holder = asyncio.create_task(client.get(CART_URL, headers=token_for()))
        await inside.wait()
        waiter = asyncio.create_task(client.get(CART_URL, headers=token_for()))
        await asyncio.sleep(0.1)
        release.set()

        assert (await holder).status_code == 200
        assert (await waiter).status_code == 200
        exposition = (await client.get("/metrics")).text
        assert "amount_updater_admission_waits_total 1.0" in exposition
