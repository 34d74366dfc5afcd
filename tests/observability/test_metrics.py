"""GET /metrics after a short, realistic run: every metric family the service exports, with
labels that name route templates and Stripe operations (never an object id), in a registry of
the app's own."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
import prometheus_client
import pytest
import pytest_asyncio
import respx
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families

from amount_updater.config import Settings
from tests.api.test_checkout_sessions import token_for
from tests.api.test_rate_limits import freeze_rate_windows
from tests.api.test_webhooks import WEBHOOK_SECRET, deliver, event, paid_intent, with_settings
from tests.conftest import build_app
from tests.support.stripe_objects import checkout_session, product_line

CART = {"currency": "usd", "items": [{"product_id": "tshirt"}]}
SID = "cs_test_a1"
BUSY = "cs_test_busy"


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Exposition:
    content_type: str
    text: str

    @property
    def samples(self) -> list[Sample]:
        return [
            Sample(s.name, dict(s.labels), s.value)
            for family in text_string_to_metric_families(self.text)
            for s in family.samples
        ]

    def value(self, name: str, **labels: str) -> float | None:
        found = [s.value for s in self.samples if s.name == name and s.labels == labels]
        assert len(found) <= 1
        return found[0] if found else None

    def label_sets(self, name: str) -> list[dict[str, str]]:
        return [s.labels for s in self.samples if s.name == name]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_settings(
        settings,
        stripe_max_retries=1,
        rate_limit_creates_per_minute=1,
        stripe_webhook_secret=WEBHOOK_SECRET,
    )


def session(sid: str) -> dict:
    return checkout_session(
        id=sid, line_items=[product_line("tshirt", "T-shirt", 2500, 1, id=f"li_{sid}")]
    )


def updated(sid: str, total: int = 3700) -> httpx.Response:
    return httpx.Response(200, json={**session(sid), "line_items": None, "amount_total": total})


async def wait_for_lock_wait(client: httpx.AsyncClient) -> None:
    """Until the second change has queued behind the first (it counts itself as it queues)."""
    deadline = time.monotonic() + 5
    while "amount_updater_lock_waits_total 1.0" not in (await client.get("/metrics")).text:
        assert time.monotonic() < deadline, "the second change never queued"
        await asyncio.sleep(0.01)


async def two_changes_at_once(client: httpx.AsyncClient, stripe_mock: respx.MockRouter) -> None:
    """The first change to BUSY holds its lock in the Stripe read while a second one queues."""
    first_inside, release = asyncio.Event(), asyncio.Event()

    async def slow_first_read(request: httpx.Request) -> httpx.Response:
        if not first_inside.is_set():
            first_inside.set()
            await release.wait()
        return httpx.Response(200, json=session(BUSY))

    stripe_mock.get(f"/v1/checkout/sessions/{BUSY}").mock(side_effect=slow_first_read)
    stripe_mock.post(f"/v1/checkout/sessions/{BUSY}").mock(return_value=updated(BUSY))
    add = {"json": {"product_id": "mug"}, "headers": token_for(BUSY)}
    first = asyncio.create_task(client.post(f"/v1/checkout-sessions/{BUSY}/items", **add))
    await first_inside.wait()
    second = asyncio.create_task(client.post(f"/v1/checkout-sessions/{BUSY}/items", **add))
    try:
        await wait_for_lock_wait(client)
    finally:
        release.set()
        answers = await asyncio.gather(first, second)
    assert [a.status_code for a in answers] == [200, 200]


@pytest_asyncio.fixture
async def exposition(
    client: httpx.AsyncClient, stripe_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> Exposition:
    freeze_rate_windows(monkeypatch)
    stripe_mock.post("/v1/checkout/sessions").respond(200, json=session(SID))
    stripe_mock.get(f"/v1/checkout/sessions/{SID}").respond(200, json=session(SID))
    stripe_mock.post(f"/v1/checkout/sessions/{SID}").mock(
        side_effect=[
            httpx.Response(
                500, json={"error": {"type": "api_error"}}, headers={"Retry-After": "0"}
            ),
            updated(SID),
        ]
    )
    change = {"json": {"product_id": "mug"}, "headers": {**token_for(SID), "Idempotency-Key": "k1"}}

    assert (await client.post("/v1/quotes", json=CART)).status_code == 200
    assert (await client.post("/v1/checkout-sessions", json=CART)).status_code == 201
    assert (await client.post("/v1/checkout-sessions", json=CART)).status_code == 429
    assert (await client.post(f"/v1/checkout-sessions/{SID}/items", **change)).status_code == 200
    replay = await client.post(f"/v1/checkout-sessions/{SID}/items", **change)
    assert replay.headers["idempotent-replayed"] == "true"
    await two_changes_at_once(client, stripe_mock)
    mismatch = await deliver(client, event("payment_intent.succeeded", paid_intent()))
    assert mismatch.json()["outcome"] == "mismatch"  # amount_received 0, the cart costs 5000

    response = await client.get("/metrics")
    assert response.status_code == 200
    return Exposition(response.headers["content-type"], response.text)


def test_metrics_are_prometheus_text(exposition: Exposition):
    assert exposition.content_type.startswith("text/plain")
    assert "version=" in exposition.content_type  # Prometheus 3 picks its parser by version
    assert exposition.samples  # it parses


def test_http_requests_are_counted_by_route_template_method_and_status(exposition: Exposition):
    count = "amount_updater_http_requests_total"
    items = "/v1/checkout-sessions/{session_id}/items"
    assert exposition.value(count, route="/v1/quotes", method="POST", status="200") == 1
    assert exposition.value(count, route="/v1/checkout-sessions", method="POST", status="201") == 1
    assert exposition.value(count, route="/v1/checkout-sessions", method="POST", status="429") == 1
    assert exposition.value(count, route=items, method="POST", status="200") >= 3
    assert exposition.value(count, route="/v1/webhooks/stripe", method="POST", status="200") == 1


def test_no_label_names_a_concrete_object(exposition: Exposition):
    values = [value for s in exposition.samples for value in s.labels.values()]
    assert values
    assert not [v for v in values if "cs_test" in v or "pi_test" in v or "evt_" in v]


def test_request_durations_are_a_histogram_by_route_template(exposition: Exposition):
    buckets = exposition.label_sets("amount_updater_http_request_duration_seconds_bucket")
    items = {"route": "/v1/checkout-sessions/{session_id}/items", "method": "POST"}
    assert {**items, "le": "+Inf"} in buckets
    assert {**items, "le": "0.005"} in buckets
    count = exposition.value("amount_updater_http_request_duration_seconds_count", **items)
    assert count is not None
    assert count >= 3


def test_stripe_calls_are_counted_by_operation_and_outcome(exposition: Exposition):
    calls = "amount_updater_stripe_calls_total"
    update = "checkout.sessions.update"
    assert exposition.value(calls, operation=update, outcome="ok") == 3
    assert exposition.value(calls, operation=update, outcome="APIError") == 1
    assert exposition.value(calls, operation="checkout.sessions.create", outcome="ok") == 1
    assert exposition.value(calls, operation="checkout.sessions.retrieve", outcome="ok") == 3


def test_stripe_retries_are_counted_by_operation(exposition: Exposition):
    retries = "amount_updater_stripe_retries_total"
    assert exposition.value(retries, operation="checkout.sessions.update") == 1
    assert exposition.label_sets(retries) == [{"operation": "checkout.sessions.update"}]


def test_stripe_call_durations_are_a_histogram_by_operation(exposition: Exposition):
    count = "amount_updater_stripe_call_duration_seconds_count"
    assert exposition.value(count, operation="checkout.sessions.update") == 4  # every attempt
    assert {"operation": "checkout.sessions.update", "le": "+Inf"} in exposition.label_sets(
        "amount_updater_stripe_call_duration_seconds_bucket"
    )


def test_lock_waits_are_counted(exposition: Exposition):
    assert exposition.value("amount_updater_lock_waits_total") == 1


def test_idempotent_replays_are_counted(exposition: Exposition):
    assert exposition.value("amount_updater_idempotent_replays_total") == 1


def test_rate_limit_refusals_are_counted_by_limit(exposition: Exposition):
    refused = "amount_updater_rate_limited_total"
    assert exposition.value(refused, limit="anonymous_creates") == 1
    assert exposition.label_sets(refused) == [{"limit": "anonymous_creates"}]


def test_webhook_events_are_counted_by_type_and_outcome(exposition: Exposition):
    events = "amount_updater_webhook_events_total"
    assert exposition.value(events, type="payment_intent.succeeded", outcome="mismatch") == 1


def test_webhook_amount_mismatches_are_counted_by_object(exposition: Exposition):
    mismatches = "amount_updater_webhook_amount_mismatches_total"
    assert exposition.value(mismatches, object="payment_intent") == 1
    assert exposition.label_sets(mismatches) == [{"object": "payment_intent"}]


@pytest.mark.asyncio
async def test_two_apps_in_one_process_keep_separate_registries(
    settings: Settings, stripe_mock: respx.MockRouter
):
    first = build_app(settings, stripe_mock)
    second = build_app(settings, stripe_mock)

    async with (
        LifespanManager(first) as one,
        LifespanManager(second) as two,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=one.app), base_url="http://1") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=two.app), base_url="http://2") as b,
    ):
        for _ in range(3):
            assert (await a.post("/v1/quotes", json=CART)).status_code == 200
        seen_by_first = Exposition("", (await a.get("/metrics")).text)
        seen_by_second = Exposition("", (await b.get("/metrics")).text)

    quotes = {"route": "/v1/quotes", "method": "POST", "status": "200"}
    assert seen_by_first.value("amount_updater_http_requests_total", **quotes) == 3
    assert seen_by_second.value("amount_updater_http_requests_total", **quotes) is None
    global_names = {s.name for m in prometheus_client.REGISTRY.collect() for s in m.samples}
    assert not [name for name in global_names if name.startswith("amount_updater_")]
