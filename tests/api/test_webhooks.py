"""POST /v1/webhooks/stripe through the whole app: Stripe's signature scheme is checked first, then
each paid amount is compared with what the recorded cart costs from the catalog; each event is
handled once, and an event whose handling failed is handled when Stripe delivers it again."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx
import pytest
import respx
from prometheus_client.parser import text_string_to_metric_families

from amount_updater.config import Settings
from tests.api.test_payment_intents import OURS
from tests.support.stripe_objects import (
    checkout_session,
    line_item,
    payment_intent,
    product_line,
)

WEBHOOK_SECRET = "whsec_test_0123456789abcdefghijklmnop"
URL = "/v1/webhooks/stripe"
SID = "cs_test_paid1"
PID = "pi_test_paid1"


def with_settings(base: Settings, **changes: Any) -> Settings:
    """A new (validated) Settings: the fixture's fields with `changes` on top."""
    return Settings(**{**base.model_dump(), **changes})


def signature_header(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    """Stripe's scheme: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{signed_at}.{payload}".encode(), hashlib.sha256)
    return f"t={signed_at},v1={mac.hexdigest()}"


def event(event_type: str, obj: dict[str, Any], event_id: str = "evt_test_1") -> str:
    """A Stripe event as Stripe serializes it; objects in events carry no expanded line items."""
    data = {k: v for k, v in obj.items() if k != "line_items"}
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": data},
        }
    )


async def deliver(
    client: httpx.AsyncClient, payload: str, signature: str | None = "sign"
) -> httpx.Response:
    """POST `payload` as Stripe does; `signature="sign"` signs it with the configured secret."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if signature == "sign":
        signature = signature_header(payload)
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return await client.post(URL, content=payload.encode(), headers=headers)


def paid_session(amount_total: int, *, metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """A completed session of ours: 2 T-shirts, a mug, standard shipping, and a line the shop
    added itself (700): the cart costs 5000 + 1200 + 500 + 700 = 7400."""
    session = checkout_session(
        id=SID,
        status="complete",
        line_items=[
            product_line("tshirt", "T-shirt", 2500, 2, id="li_shirt"),
            product_line("mug", "Mug", 1200, 1, id="li_mug"),
            line_item(description="Engraving", unit_amount=700, id="li_other"),
            line_item(
                description="Standard Shipping",
                unit_amount=500,
                metadata={"shipping_rate_id": "standard"},
                id="li_ship",
            ),
        ],
        metadata={"amount_updater_rev": "4"} if metadata is None else metadata,
    )
    session["amount_total"] = amount_total
    session["payment_status"] = "paid"
    return session


CART_AMOUNT = 7400


def paid_intent(**fields: Any) -> dict[str, Any]:
    """A PaymentIntent of ours whose recorded cart (OURS: 2 T-shirts) costs 5000."""
    intent = payment_intent(id=PID, amount=5000, status="succeeded", metadata=OURS)
    intent.update(fields)
    return intent


def samples(metrics_text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == name
    ]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_settings(settings, stripe_webhook_secret=WEBHOOK_SECRET)


def mock_session_read(stripe_mock: respx.MockRouter, session: dict[str, Any]) -> respx.Route:
    return stripe_mock.get(f"/v1/checkout/sessions/{session['id']}").respond(200, json=session)


class TestSignature:
    @pytest.mark.asyncio
    async def test_a_missing_signature_is_refused_before_anything_happens(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        session = paid_session(CART_AMOUNT)
        mock_session_read(stripe_mock, session)

        response = await deliver(client, event("checkout.session.completed", session), None)

        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_signature"
        assert not stripe_mock.calls
        exposition = (await client.get("/metrics")).text
        assert samples(exposition, "amount_updater_webhook_events_total") == []
        assert samples(exposition, "amount_updater_webhook_amount_mismatches_total") == []

    @pytest.mark.asyncio
    async def test_a_signature_made_with_another_secret_is_refused(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        payload = event("checkout.session.completed", paid_session(CART_AMOUNT))

        response = await deliver(client, payload, signature_header(payload, "whsec_forged"))

        assert response.status_code == 400
        assert response.json()["code"] == "invalid_signature"
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_a_signature_of_another_payload_is_refused(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        genuine = event("payment_intent.succeeded", paid_intent(amount_received=5000))
        tampered = genuine.replace('"amount_received": 5000', '"amount_received": 1')

        response = await deliver(client, tampered, signature_header(genuine))

        assert response.status_code == 400
        assert response.json()["code"] == "invalid_signature"

    @pytest.mark.asyncio
    async def test_a_garbled_signature_header_is_refused(self, client: httpx.AsyncClient):
        payload = event("payment_intent.succeeded", paid_intent(amount_received=5000))

        response = await deliver(client, payload, "not a stripe signature")

        assert response.status_code == 400
        assert response.json()["code"] == "invalid_signature"

    @pytest.mark.asyncio
    async def test_a_validly_signed_payload_older_than_300_s_is_a_replay(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        session = paid_session(CART_AMOUNT)
        mock_session_read(stripe_mock, session)
        payload = event("checkout.session.completed", session)

        response = await deliver(
            client, payload, signature_header(payload, timestamp=int(time.time()) - 360)
        )

        assert response.status_code == 400
        assert response.json()["code"] == "invalid_signature"
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_a_signed_body_that_is_not_an_event_is_refused(self, client: httpx.AsyncClient):
        response = await deliver(client, json.dumps({"id": "evt_1", "type": "x"}))

        assert response.status_code == 400
        assert response.json()["code"] == "invalid_signature"


class TestUntrustedContent:
    """A correctly signed event is still input: what the handlers read is checked (400)."""

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        ("event_type", "obj"),
        [
            ("checkout.session.completed", {"object": "checkout.session", "amount_total": 7400}),
            ("payment_intent.succeeded", {"object": "payment_intent", "amount_received": 1}),
            ("payment_intent.succeeded", {"id": 42, "amount_received": 1}),
            ("payment_intent.succeeded", {"id": "../v1/accounts", "amount_received": 1}),
        ],
    )
    async def test_an_event_object_without_a_usable_id_is_400(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, event_type: str, obj
    ):
        response = await deliver(client, event(event_type, obj))

        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_event"
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_an_amount_that_is_not_a_number_is_400(self, client: httpx.AsyncClient):
        payload = event("payment_intent.succeeded", paid_intent(amount_received="5000"))

        response = await deliver(client, payload)

        assert response.status_code == 400
        assert response.json()["code"] == "invalid_event"

    @pytest.mark.asyncio
    async def test_an_unreadable_recorded_cart_is_reported_as_a_mismatch(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ):
        caplog.set_level(logging.INFO)
        intent = paid_intent(
            amount_received=5000, metadata={**OURS, "amount_updater_cart": "tshirt:²"}
        )

        response = await deliver(client, event("payment_intent.succeeded", intent))

        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "mismatch"
        [record] = [r for r in caplog.records if r.getMessage() == "webhook.amount_mismatch"]
        assert record.__dict__["cart_amount"] is None


class TestNotConfigured:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return with_settings(settings, stripe_webhook_secret=None)

    @pytest.mark.asyncio
    async def test_without_a_signing_secret_webhooks_answer_503(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        payload = event("payment_intent.succeeded", paid_intent(amount_received=5000))

        response = await deliver(client, payload, signature_header(payload))

        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "webhooks_not_configured"
        assert not stripe_mock.calls


class TestCheckoutSessionCompleted:
    @pytest.mark.asyncio
    async def test_a_charge_equal_to_the_cart_priced_from_the_catalog_is_ok(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        session = paid_session(CART_AMOUNT)
        read = mock_session_read(stripe_mock, session)

        response = await deliver(client, event("checkout.session.completed", session))

        assert response.status_code == 200, response.text
        assert response.json() == {"received": True, "outcome": "ok"}
        assert read.call_count == 1  # the line items come from Stripe, not from the event

    @pytest.mark.asyncio
    async def test_a_charge_that_differs_is_a_mismatch_logged_with_both_figures_and_counted(
        self,
        client: httpx.AsyncClient,
        stripe_mock: respx.MockRouter,
        caplog: pytest.LogCaptureFixture,
    ):
        session = paid_session(7000)
        mock_session_read(stripe_mock, session)
        caplog.set_level(logging.INFO)

        response = await deliver(client, event("checkout.session.completed", session))

        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "mismatch"
        [record] = [r for r in caplog.records if r.getMessage() == "webhook.amount_mismatch"]
        assert record.levelno == logging.ERROR
        assert record.__dict__["object"] == "checkout.session"
        assert record.__dict__["object_id"] == SID
        assert record.__dict__["currency"] == "usd"
        assert record.__dict__["cart_amount"] == CART_AMOUNT
        assert record.__dict__["charged_amount"] == 7000
        exposition = (await client.get("/metrics")).text
        assert (
            'amount_updater_webhook_amount_mismatches_total{object="checkout.session"} 1.0'
            in exposition
        )
        assert samples(exposition, "amount_updater_webhook_events_total") == [
            ({"type": "checkout.session.completed", "outcome": "mismatch"}, 1.0)
        ]

    @pytest.mark.asyncio
    async def test_a_session_without_the_services_metadata_is_not_managed(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        session = paid_session(123, metadata={})

        response = await deliver(client, event("checkout.session.completed", session))

        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "not_managed"
        assert not stripe_mock.calls


class TestPaymentIntentEvents:
    @pytest.mark.asyncio
    async def test_succeeded_with_amount_received_equal_to_the_cart_is_ok(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        payload = event("payment_intent.succeeded", paid_intent(amount_received=5000))

        response = await deliver(client, payload)

        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "ok"

    @pytest.mark.asyncio
    async def test_succeeded_with_a_different_amount_received_is_a_mismatch(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ):
        caplog.set_level(logging.INFO)
        payload = event("payment_intent.succeeded", paid_intent(amount_received=4500))

        response = await deliver(client, payload)

        assert response.json()["outcome"] == "mismatch"
        [record] = [r for r in caplog.records if r.getMessage() == "webhook.amount_mismatch"]
        assert record.levelno == logging.ERROR
        assert (record.__dict__["object"], record.__dict__["object_id"]) == ("payment_intent", PID)
        assert (record.__dict__["cart_amount"], record.__dict__["charged_amount"]) == (5000, 4500)
        exposition = (await client.get("/metrics")).text
        assert (
            'amount_updater_webhook_amount_mismatches_total{object="payment_intent"} 1.0'
            in exposition
        )

    @pytest.mark.asyncio
    async def test_amount_capturable_updated_compares_amount_capturable(
        self, client: httpx.AsyncClient
    ):
        intent = paid_intent(status="requires_capture", amount_capturable=5000, amount_received=0)

        response = await deliver(client, event("payment_intent.amount_capturable_updated", intent))

        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "ok"

    @pytest.mark.asyncio
    async def test_amount_capturable_updated_with_another_capturable_amount_is_a_mismatch(
        self, client: httpx.AsyncClient
    ):
        intent = paid_intent(status="requires_capture", amount_capturable=4000, amount_received=0)

        response = await deliver(client, event("payment_intent.amount_capturable_updated", intent))

        assert response.json()["outcome"] == "mismatch"

    @pytest.mark.asyncio
    async def test_an_intent_without_the_services_metadata_is_not_managed(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        intent = paid_intent(metadata={"order": "42"}, amount_received=999)

        response = await deliver(client, event("payment_intent.succeeded", intent))

        assert response.json()["outcome"] == "not_managed"
        assert not stripe_mock.calls


class TestOnce:
    @pytest.mark.asyncio
    async def test_an_unknown_event_type_is_ignored(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        payload = event("customer.created", {"id": "cus_1", "object": "customer"})

        response = await deliver(client, payload)

        assert response.status_code == 200, response.text
        assert response.json() == {"received": True, "outcome": "ignored"}
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_the_same_event_delivered_twice_is_handled_once(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        session = paid_session(CART_AMOUNT)
        read = mock_session_read(stripe_mock, session)
        payload = event("checkout.session.completed", session, event_id="evt_twice")

        first = await deliver(client, payload)
        second = await deliver(client, payload)  # Stripe redelivers; signed again, later

        assert first.json()["outcome"] == "ok"
        assert second.status_code == 200, second.text
        assert second.json()["outcome"] == "duplicate"
        assert read.call_count == 1

    @pytest.mark.asyncio
    async def test_another_event_about_the_same_object_is_not_a_duplicate(
        self, client: httpx.AsyncClient
    ):
        intent = paid_intent(amount_received=5000)

        first = await deliver(client, event("payment_intent.succeeded", intent, "evt_a"))
        second = await deliver(client, event("payment_intent.succeeded", intent, "evt_b"))

        assert [first.json()["outcome"], second.json()["outcome"]] == ["ok", "ok"]

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        ("failure", "status", "code"),
        [
            (httpx.Response(500, json={"error": {"type": "api_error"}}), 503, "stripe_unavailable"),
            (httpx.ConnectError("connection refused"), 503, "stripe_unavailable"),
        ],
        ids=["stripe-500", "connection-error"],
    )
    async def test_an_event_whose_handling_failed_is_handled_on_redelivery(
        self,
        client: httpx.AsyncClient,
        stripe_mock: respx.MockRouter,
        failure: httpx.Response | Exception,
        status: int,
        code: str,
    ):
        session = paid_session(CART_AMOUNT)
        read = stripe_mock.get(f"/v1/checkout/sessions/{SID}").mock(
            side_effect=[failure, httpx.Response(200, json=session)]
        )
        payload = event("checkout.session.completed", session, event_id="evt_retry")

        failed = await deliver(client, payload)
        redelivered = await deliver(client, payload)

        assert failed.status_code == status, failed.text
        assert failed.headers["content-type"] == "application/problem+json"
        assert failed.json()["code"] == code
        assert redelivered.status_code == 200, redelivered.text
        assert redelivered.json()["outcome"] == "ok"
        assert read.call_count == 2
