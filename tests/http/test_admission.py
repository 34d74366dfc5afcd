"""Admission: at most N requests that call Stripe at work at once; the rest queue in arrival
order, and a request that cannot start in time is refused with 503 `overloaded`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

import httpx
import pytest
import respx
import uvloop

from amount_updater.config import Settings
from amount_updater.http.admission import Admission, Overloaded, queue_wait_s
from tests.api.test_checkout_sessions import SESSION_URL, SID, token_for
from tests.support.stripe_objects import checkout_session, product_line

CHANGE_URL = f"/v1/checkout-sessions/{SID}/items"
BUDGET_S = 0.6  # the wait limit is a third of it


class TestAdmission:
    @pytest.mark.asyncio
    async def test_a_free_slot_is_taken_without_waiting(self):
        waits: list[None] = []
        admission = Admission(2, max_wait_s=1, on_wait=lambda: waits.append(None))
        await admission.enter()
        await admission.enter()
        assert waits == []

    @pytest.mark.asyncio
    async def test_queued_requests_enter_in_arrival_order(self):
        waits: list[None] = []
        admission = Admission(1, max_wait_s=5, on_wait=lambda: waits.append(None))
        await admission.enter()
        entered: list[int] = []

        async def request(number: int) -> None:
            await admission.enter()
            entered.append(number)
            await asyncio.sleep(0)
            admission.leave()

        queued = [asyncio.create_task(request(n)) for n in range(5)]
        await asyncio.sleep(0.01)
        assert entered == []
        admission.leave()
        await asyncio.gather(*queued)
        assert entered == [0, 1, 2, 3, 4]
        assert len(waits) == 5

    @pytest.mark.asyncio
    async def test_no_slot_within_the_wait_limit_is_overloaded_and_takes_no_slot(self):
        admission = Admission(1, max_wait_s=0.05, on_wait=lambda: None)
        await admission.enter()
        with pytest.raises(Overloaded):
            await admission.enter()
        admission.leave()
        await asyncio.wait_for(admission.enter(), 0.1)  # the refused request left nothing held

    def test_a_limit_below_one_is_refused(self):
        with pytest.raises(ValueError, match="at least 1"):
            Admission(0, max_wait_s=1, on_wait=lambda: None)

    @pytest.mark.asyncio
    async def test_a_slot_granted_to_a_request_cancelled_before_it_ran_is_given_back(self):
        admission = Admission(1, max_wait_s=5, on_wait=lambda: None)
        await admission.enter()
        waiting = asyncio.create_task(admission.enter())
        await asyncio.sleep(0.01)
        admission.leave()  # the slot goes to the waiting request...
        waiting.cancel()  # ...which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert admission.active == 0
        await asyncio.wait_for(admission.enter(), 0.1)

    @pytest.mark.asyncio
    async def test_a_cancelled_waiter_is_passed_over_for_the_next_one(self):
        admission = Admission(1, max_wait_s=5, on_wait=lambda: None)
        await admission.enter()
        gone = asyncio.create_task(admission.enter())
        next_one = asyncio.create_task(admission.enter())
        await asyncio.sleep(0.01)
        gone.cancel()
        await asyncio.sleep(0.01)
        admission.leave()
        await asyncio.wait_for(next_one, 0.1)
        assert admission.active == 1


# A limit that starts at 1 and rises one at a time while requests queue; lag never stops it.
RISING = {"floor": 1, "start": 1, "step": 1, "target_lag_s": 0.5}


def _adaptive(ceiling: int, **options: Any) -> tuple[Admission, list[int]]:
    """An adaptive gate (lag timer every 10 ms unless given) and every limit it sets, in order."""
    limits: list[int] = []
    admission = Admission(
        ceiling,
        max_wait_s=5,
        on_wait=lambda: None,
        on_limit=limits.append,
        **{"interval_s": 0.01, **options},
    )
    return admission, limits


class TestAdaptiveLimit:
    """Between its floor and its ceiling, the limit follows the event loop's lag."""

    @pytest.mark.asyncio
    async def test_while_requests_queue_and_the_loop_keeps_up_the_limit_rises_and_admits_them(
        self,
    ):
        admission, limits = _adaptive(4, **RISING)
        await admission.enter()
        queued = [asyncio.create_task(admission.enter()) for _ in range(3)]
        await asyncio.wait_for(asyncio.gather(*queued), 2)  # no slot was given back
        assert admission.active == 4
        assert limits == [1, 2, 3, 4]

    @pytest.mark.asyncio
    async def test_without_a_queue_the_limit_stays(self):
        admission, limits = _adaptive(4, floor=1, start=2)
        await admission.enter()
        await asyncio.sleep(0.1)
        assert limits == [2]

    @pytest.mark.asyncio
    async def test_when_the_loop_lags_the_limit_falls_to_its_floor_and_no_lower(self):
        admission, limits = _adaptive(20, floor=17, target_lag_s=0.005)
        await admission.enter()
        for _ in range(5):
            time.sleep(0.03)  # CPU work that holds the loop: the lag timer runs late
            await asyncio.sleep(0.02)
        assert limits == [20, 18, 17]  # a tenth at a time (at least one), down to the floor
        assert admission.limit == 17

    @pytest.mark.asyncio
    async def test_a_lowered_limit_admits_no_one_until_the_active_fall_below_it(self):
        admission, _ = _adaptive(2, floor=1, interval_s=0.05, target_lag_s=0.005)
        await admission.enter()
        await admission.enter()
        time.sleep(0.08)
        await asyncio.sleep(0.001)  # the lag timer, late, runs now; the next one is 50 ms away
        assert admission.limit == 1
        waiting = asyncio.create_task(admission.enter())
        await asyncio.sleep(0)
        admission.leave()  # 1 active: still at the limit
        await asyncio.sleep(0)
        assert not waiting.done()
        admission.leave()
        await asyncio.wait_for(waiting, 0.1)

    @pytest.mark.parametrize("loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop])
    def test_a_loop_busy_for_whole_passes_reads_as_lagging_on_either_loop(self, loop_factory):
        # uvloop runs due timers before the callbacks already queued: the lag is read from a
        # callback queued by the timer, which waits for the whole pass.
        async def busy_passes() -> list[int]:
            admission, limits = _adaptive(20, floor=10, interval_s=0.1, target_lag_s=0.04)
            await admission.enter()
            for _ in range(15):
                time.sleep(0.06)  # each pass of the loop takes 60 ms
                await asyncio.sleep(0)
            return limits

        with asyncio.Runner(loop_factory=loop_factory) as runner:
            limits = runner.run(busy_passes())
        assert len(limits) > 1
        assert limits[-1] < 20

    @pytest.mark.asyncio
    async def test_the_timer_stops_when_idle_and_starts_again_with_the_next_request(self):
        admission, limits = _adaptive(8, **RISING)
        await admission.enter()
        assert admission.measuring
        admission.leave()
        await asyncio.sleep(0.05)
        assert not admission.measuring
        await admission.enter()
        assert admission.measuring
        queued = asyncio.create_task(admission.enter())
        await asyncio.wait_for(queued, 2)  # admitted by a rise of the limit
        assert limits == [1, 2]

    def test_one_admission_serves_a_second_event_loop(self):
        admission, _ = _adaptive(8, **RISING)

        async def one_queued_request() -> None:
            await admission.enter()
            await asyncio.wait_for(admission.enter(), 2)  # needs the limit to rise
            admission.leave()
            admission.leave()

        asyncio.run(one_queued_request())
        asyncio.run(one_queued_request())
        assert admission.limit >= 2

    @pytest.mark.asyncio
    async def test_a_slot_that_comes_as_the_wait_runs_out_is_taken(self):
        admission = Admission(1, max_wait_s=0.05, on_wait=lambda: None)
        await admission.enter()
        waiting = asyncio.create_task(admission.enter())
        await asyncio.sleep(0)  # it queues, with 50 ms to wait from about now
        loop = asyncio.get_running_loop()
        start = loop.time()
        # The loop is held past the end of the wait, so the slot given back at 45 ms and the
        # end of the wait at 50 ms are both handled in the same pass, the slot first.
        loop.call_at(start + 0.03, time.sleep, 0.03)
        loop.call_at(start + 0.045, admission.leave)
        await asyncio.sleep(0.1)
        assert waiting.done()
        assert waiting.exception() is None
        assert admission.active == 1

    def test_a_floor_above_the_ceiling_is_refused(self):
        with pytest.raises(ValueError, match="floor at most the ceiling"):
            Admission(2, floor=3, max_wait_s=1, on_wait=lambda: None)


@pytest.mark.parametrize(("budget_s", "wait_s"), [(15, 4), (9, 3), (0.6, 0.2), (19, 0.1)])
def test_the_queue_wait_and_the_budget_stay_within_what_stripe_js_waits(budget_s, wait_s):
    assert queue_wait_s(budget_s) == pytest.approx(wait_s)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_active_requests": 1, "request_budget_s": BUDGET_S})


@pytest.fixture
def held_stripe(
    stripe_mock: respx.MockRouter,
) -> tuple[asyncio.Event, asyncio.Event, list[httpx.Request]]:
    """Stripe's GET answers only once `release` is set; `reached` tells that a request got there,
    and the list holds every GET that did (respx counts a call only once it is answered)."""
    reached, release = asyncio.Event(), asyncio.Event()
    reads: list[httpx.Request] = []
    session = checkout_session(line_items=[product_line("tshirt", "T-shirt", 2500, 1, id="li_1")])

    async def held(request: httpx.Request) -> httpx.Response:
        reads.append(request)
        reached.set()
        await release.wait()
        return httpx.Response(200, json=session)

    stripe_mock.get(SESSION_URL).mock(side_effect=held)
    stripe_mock.post(SESSION_URL).respond(200, json={**session, "line_items": None})
    return reached, release, reads


def _add_a_mug(client: httpx.AsyncClient) -> Coroutine[Any, Any, httpx.Response]:
    return client.post(CHANGE_URL, json={"product_id": "mug"}, headers=token_for())


async def _first_holding_stripe(
    client: httpx.AsyncClient, reached: asyncio.Event
) -> asyncio.Task[httpx.Response]:
    """A change sent in the background, once it holds the only slot (it waits at Stripe)."""
    first = asyncio.create_task(_add_a_mug(client))
    await asyncio.wait_for(reached.wait(), 2)
    return first


class TestThroughTheApp:
    @pytest.mark.asyncio
    async def test_a_request_that_cannot_start_in_time_is_503_overloaded_and_reaches_no_stripe(
        self, client: httpx.AsyncClient, held_stripe
    ):
        reached, release, reads = held_stripe
        first = await _first_holding_stripe(client, reached)

        second = await _add_a_mug(client)

        assert second.status_code == 503, second.text
        assert second.headers["content-type"] == "application/problem+json"
        assert second.headers["retry-after"] == "1"
        assert second.headers["x-request-id"]
        assert second.json()["code"] == "overloaded"
        assert len(reads) == 1  # only the first request reached Stripe
        release.set()
        assert (await first).status_code == 200
        metrics = await client.get("/metrics")
        assert "amount_updater_admission_waits_total 1.0" in metrics.text
        assert "amount_updater_overloaded_total 1.0" in metrics.text

    @pytest.mark.asyncio
    async def test_a_queued_request_runs_when_the_slot_frees(
        self, client: httpx.AsyncClient, held_stripe
    ):
        reached, release, reads = held_stripe
        first = await _first_holding_stripe(client, reached)
        second = asyncio.create_task(_add_a_mug(client))
        await asyncio.sleep(0.05)
        assert len(reads) == 1  # the second is queued, not at work
        release.set()
        assert (await first).status_code == 200
        assert (await second).status_code == 200
        assert len(reads) == 2

    @pytest.mark.asyncio
    async def test_routes_that_do_not_call_stripe_are_never_queued(
        self, client: httpx.AsyncClient, held_stripe
    ):
        reached, release, _ = held_stripe
        first = await _first_holding_stripe(client, reached)
        for path in ("/healthz", "/v1/catalog", "/metrics"):
            response = await asyncio.wait_for(client.get(path), BUDGET_S / 6)
            assert response.status_code == 200, path
        quote = await client.post(
            "/v1/quotes", json={"currency": "usd", "items": [{"product_id": "mug"}]}
        )
        assert quote.status_code == 200, quote.text
        release.set()
        assert (await first).status_code == 200


class TestDefaults:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        fields = Settings.model_fields
        return settings.model_copy(
            update={
                name: fields[name].default
                for name in ("max_active_requests", "min_active_requests")
            }
        )

    @pytest.mark.asyncio
    async def test_the_limit_starts_at_128_and_is_exported(self, client: httpx.AsyncClient):
        metrics = await client.get("/metrics")
        assert "amount_updater_admission_limit 128.0" in metrics.text


class TestUnlimited:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"max_active_requests": 0})

    @pytest.mark.asyncio
    async def test_with_no_limit_concurrent_requests_all_reach_stripe(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        in_stripe, release = [], asyncio.Event()
        session = checkout_session(line_items=[product_line("tshirt", "T-shirt", 2500, 1)])

        async def held(request: httpx.Request) -> httpx.Response:
            in_stripe.append(request.url.path)
            await release.wait()
            return httpx.Response(200, json=session)

        ids = [f"cs_test_u{n}" for n in range(3)]
        for sid in ids:
            stripe_mock.get(f"/v1/checkout/sessions/{sid}").mock(side_effect=held)
        reads = [
            asyncio.create_task(client.get(f"/v1/checkout-sessions/{sid}", headers=token_for(sid)))
            for sid in ids
        ]
        for _ in range(100):
            if len(in_stripe) == 3:
                break
            await asyncio.sleep(0.01)
        assert len(in_stripe) == 3
        release.set()
        await asyncio.gather(*reads)


class TestSlowBodies:
    """A request takes a slot only once its whole body has arrived."""

    @staticmethod
    def scope() -> dict[str, object]:
        return {
            "type": "http",
            "method": "POST",
            "path": CHANGE_URL,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
        }

    @pytest.mark.asyncio
    async def test_a_client_still_sending_its_body_holds_no_slot(self):
        from amount_updater.http.edge import EdgeMiddleware
        from amount_updater.observability.metrics import Metrics

        seen: list[bytes] = []

        async def app(scope, receive, send) -> None:
            message = await receive()
            seen.append(message["body"])
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})

        admission = Admission(1, max_wait_s=0.2, on_wait=lambda: None)
        edge = EdgeMiddleware(app, metrics=Metrics(), max_body_bytes=1024, admission=admission)
        never = asyncio.Event()

        async def trickling() -> dict[str, object]:
            await never.wait()
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def whole() -> dict[str, object]:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        statuses: list[int] = []

        async def send(message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        slow = asyncio.create_task(edge(self.scope(), trickling, send))
        await asyncio.sleep(0.01)
        await asyncio.wait_for(edge(self.scope(), whole, send), 1)
        assert statuses == [200]
        assert seen == [b"{}"]  # the app read the body the edge had buffered
        slow.cancel()
