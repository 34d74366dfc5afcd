"""One structured log record per request (logger `amount_updater.request`), the X-Request-ID it
is known by, and one `cart.changed` record per change (logger `amount_updater.change`)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import respx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from amount_updater.logs import JsonFormatter
from tests.api.test_checkout_sessions import SESSION_URL, SID, mock_session, token_for
from tests.api.test_payment_intents import OURS, PID, mock_intent
from tests.conftest import API_KEY, TOKEN_SECRET
from tests.support.servers import free_port
from tests.support.service_process import wait_until_serving
from tests.support.stripe_objects import checkout_session, line_item, payment_intent, product_line

FIELDS = {
    "request_id",
    "method",
    "route",
    "object_id",
    "caller",
    "status",
    "duration_ms",
    "stripe_request_ids",
}
API_KEY_CALLER = "api_key:key_" + hashlib.sha256(API_KEY.encode()).hexdigest()[:12]


def request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "amount_updater.request"]


def change_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "amount_updater.change"]


def the_request_record(caplog: pytest.LogCaptureFixture) -> dict:
    [record] = request_records(caplog)
    assert record.getMessage() == "request"
    assert record.levelno == logging.INFO
    return record.__dict__


@pytest.fixture(autouse=True)
def info_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


@pytest.fixture
def session() -> dict:
    """A T-shirt of ours and a line the shop added: the session holds 2500 + 700."""
    return checkout_session(
        line_items=[
            product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt"),
            line_item(description="Engraving", unit_amount=700, id="li_other"),
        ],
        metadata={"amount_updater_rev": "1"},
    )


@pytest_asyncio.fixture
async def lenient_client(app: FastAPI, stripe_mock: respx.MockRouter) -> AsyncIterator:
    """A client that gets the 500 answer instead of the app's exception."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


class TestRequestRecord:
    @pytest.mark.asyncio
    async def test_each_request_logs_exactly_one_record_with_every_field(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ):
        response = await client.get("/v1/catalog", params={"currency": "usd"})

        record = the_request_record(caplog)
        assert record.keys() >= FIELDS
        assert record["method"] == "GET"
        assert record["route"] == "/v1/catalog"
        assert record["status"] == response.status_code == 200
        assert record["object_id"] is None
        assert record["caller"] is None
        assert record["stripe_request_ids"] == []
        assert isinstance(record["duration_ms"], float)
        assert record["duration_ms"] >= 0
        assert record["request_id"] == response.headers["x-request-id"]

    @pytest.mark.asyncio
    async def test_the_route_is_the_template_and_the_object_is_a_field_of_its_own(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, session, caplog
    ):
        mock_session(stripe_mock, session)

        await client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())

        record = the_request_record(caplog)
        assert record["route"] == "/v1/checkout-sessions/{session_id}"
        assert record["object_id"] == SID

    @pytest.mark.asyncio
    async def test_a_change_is_logged_under_its_route_template(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, session, caplog
    ):
        mock_session(stripe_mock, session)

        await client.patch(
            f"/v1/checkout-sessions/{SID}/items/tshirt", json={"quantity": 2}, headers=token_for()
        )

        record = the_request_record(caplog)
        assert record["method"] == "PATCH"
        assert record["route"] == "/v1/checkout-sessions/{session_id}/items/{product_id}"
        assert record["status"] == 200

    @pytest.mark.asyncio
    async def test_a_token_caller_is_named_by_the_object_it_is_bound_to(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, session, caplog
    ):
        mock_session(stripe_mock, session)

        await client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())

        assert the_request_record(caplog)["caller"] == f"token:{SID}"

    @pytest.mark.asyncio
    async def test_an_api_key_caller_is_named_by_a_hash_prefix_of_the_key(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, session, caplog
    ):
        mock_session(stripe_mock, session)

        await client.get(f"/v1/checkout-sessions/{SID}", headers={"X-API-Key": API_KEY})

        record = the_request_record(caplog)
        assert record["caller"] == API_KEY_CALLER
        assert API_KEY not in json.dumps({k: record[k] for k in FIELDS})

    @pytest.mark.asyncio
    async def test_stripe_request_ids_are_collected_in_call_order(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, session, caplog
    ):
        stripe_mock.get(SESSION_URL).respond(
            200, json=session, headers={"Request-Id": "req_read0001"}
        )
        stripe_mock.post(SESSION_URL).respond(
            200, json={**session, "line_items": None}, headers={"Request-Id": "req_write001"}
        )

        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items", json={"product_id": "mug"}, headers=token_for()
        )

        assert response.status_code == 200, response.text
        assert the_request_record(caplog)["stripe_request_ids"] == ["req_read0001", "req_write001"]

    @pytest.mark.asyncio
    async def test_the_request_id_of_a_stripe_error_is_collected_too(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, caplog
    ):
        stripe_mock.get(SESSION_URL).respond(
            404,
            json={"error": {"type": "invalid_request_error", "code": "resource_missing"}},
            headers={"Request-Id": "req_missing1"},
        )

        response = await client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())

        record = the_request_record(caplog)
        assert record["status"] == response.status_code == 404
        assert record["stripe_request_ids"] == ["req_missing1"]

    @pytest.mark.asyncio
    async def test_a_refused_request_is_logged_with_its_status_and_no_caller(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, caplog
    ):
        response = await client.get(f"/v1/checkout-sessions/{SID}")

        record = the_request_record(caplog)
        assert record["status"] == response.status_code == 401
        assert record["caller"] is None
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_an_unknown_path_is_logged_as_unmatched_not_by_its_raw_path(
        self, client: httpx.AsyncClient, caplog
    ):
        await client.get("/v1/no-such-thing/cs_test_zzz")

        record = the_request_record(caplog)
        assert record["route"] == "unmatched"
        assert record["status"] == 404

    @pytest.mark.asyncio
    async def test_an_unexpected_error_is_logged_with_status_500(
        self, lenient_client: httpx.AsyncClient, stripe_mock: respx.MockRouter, caplog
    ):
        stripe_mock.get(SESSION_URL).respond(200, json={"object": "checkout.session"})  # no id

        response = await lenient_client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())

        assert response.status_code == 500
        record = the_request_record(caplog)
        assert record["status"] == 500
        assert record["route"] == "/v1/checkout-sessions/{session_id}"

    @pytest.mark.asyncio
    async def test_an_idempotent_replay_is_logged_under_its_route_template(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, session, caplog
    ):
        mock_session(stripe_mock, session)
        change = {"json": {"product_id": "mug"}, "headers": {**token_for(), "Idempotency-Key": "k"}}
        await client.post(f"/v1/checkout-sessions/{SID}/items", **change)
        caplog.clear()

        replay = await client.post(f"/v1/checkout-sessions/{SID}/items", **change)

        assert replay.headers["idempotent-replayed"] == "true"
        assert the_request_record(caplog)["route"] == "/v1/checkout-sessions/{session_id}/items"


class TestRequestId:
    @pytest.mark.asyncio
    async def test_a_valid_incoming_request_id_is_echoed_and_logged(
        self, client: httpx.AsyncClient, caplog
    ):
        response = await client.get("/healthz", headers={"X-Request-ID": "shop-1.2_3"})

        assert response.headers["x-request-id"] == "shop-1.2_3"
        assert the_request_record(caplog)["request_id"] == "shop-1.2_3"

    @pytest.mark.asyncio
    async def test_an_incoming_request_id_of_100_characters_is_kept(
        self, client: httpx.AsyncClient
    ):
        response = await client.get("/healthz", headers={"X-Request-ID": "a" * 100})

        assert response.headers["x-request-id"] == "a" * 100

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "incoming",
        ["abc{def}", 'a"b', "a b", "a/b", "a" * 101, "x" * 200, ""],
        ids=["brace", "quote", "space", "slash", "101-chars", "200-chars", "empty"],
    )
    async def test_an_invalid_incoming_request_id_is_replaced(
        self, client: httpx.AsyncClient, caplog, incoming: str
    ):
        response = await client.get("/healthz", headers={"X-Request-ID": incoming})

        replaced = response.headers["x-request-id"]
        assert replaced != incoming
        assert len(replaced) == 32
        assert int(replaced, 16) >= 0  # 128 random bits in hex
        assert the_request_record(caplog)["request_id"] == replaced

    @pytest.mark.asyncio
    async def test_an_incoming_request_id_with_a_trailing_newline_is_replaced(
        self, client: httpx.AsyncClient
    ):
        response = await client.get("/healthz", headers={"X-Request-ID": "abc\n"})

        assert "\n" not in response.headers["x-request-id"]

    @pytest.mark.asyncio
    async def test_without_an_incoming_id_each_request_gets_a_new_one(
        self, client: httpx.AsyncClient
    ):
        first = await client.get("/healthz")
        second = await client.get("/healthz")

        assert first.headers["x-request-id"] != second.headers["x-request-id"]

    @pytest.mark.asyncio
    async def test_a_problem_answer_carries_the_request_id(self, client: httpx.AsyncClient):
        response = await client.get("/v1/no-such-thing", headers={"X-Request-ID": "trace-404"})

        assert response.status_code == 404
        assert response.headers["x-request-id"] == "trace-404"

    @pytest.mark.asyncio
    async def test_an_unexpected_500_answer_carries_the_request_id(
        self, lenient_client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        stripe_mock.get(SESSION_URL).respond(200, json={"object": "checkout.session"})  # no id

        response = await lenient_client.get(
            f"/v1/checkout-sessions/{SID}", headers={**token_for(), "X-Request-ID": "trace-500"}
        )

        assert response.status_code == 500
        assert response.headers.get("x-request-id") == "trace-500"


class TestJsonFormatter:
    @pytest.mark.asyncio
    async def test_a_request_record_is_one_line_of_json_with_its_fields(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, session, caplog
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session, headers={"Request-Id": "req_j1"})
        await client.get(
            f"/v1/checkout-sessions/{SID}", headers={**token_for(), "X-Request-ID": "json-1"}
        )
        [record] = request_records(caplog)

        line = JsonFormatter().format(record)

        assert "\n" not in line
        parsed = json.loads(line)
        assert parsed["event"] == "request"
        assert parsed["level"] == "info"
        assert parsed["logger"] == "amount_updater.request"
        assert parsed["ts"].endswith("+00:00")
        assert {k: parsed[k] for k in FIELDS - {"duration_ms"}} == {
            "request_id": "json-1",
            "method": "GET",
            "route": "/v1/checkout-sessions/{session_id}",
            "object_id": SID,
            "caller": f"token:{SID}",
            "status": 200,
            "stripe_request_ids": ["req_j1"],
        }
        assert isinstance(parsed["duration_ms"], float)

    @pytest.mark.asyncio
    async def test_an_error_record_keeps_its_traceback_on_the_one_line(
        self, lenient_client: httpx.AsyncClient, stripe_mock: respx.MockRouter, caplog
    ):
        stripe_mock.get(SESSION_URL).respond(200, json={"object": "checkout.session"})
        await lenient_client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())
        [record] = [r for r in caplog.records if r.getMessage() == "request.unhandled_error"]

        line = JsonFormatter().format(record)

        assert "\n" not in line
        parsed = json.loads(line)
        assert parsed["level"] == "error"
        assert "KeyError" in parsed["exception"]


class TestChangeRecord:
    @pytest.mark.asyncio
    async def test_a_session_change_logs_one_record_with_both_amounts_and_who(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, session, caplog
    ):
        mock_session(stripe_mock, session, updated_total=4400)

        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items", json={"product_id": "mug"}, headers=token_for()
        )

        assert response.status_code == 200, response.text
        [record] = change_records(caplog)
        assert record.getMessage() == "cart.changed"
        fields = record.__dict__
        assert fields["object"] == "checkout.session"
        assert fields["object_id"] == SID
        assert fields["currency"] == "usd"
        assert (fields["amount_before"], fields["amount_after"]) == (3200, 4400)
        assert fields["who"] == f"token:{SID}"
        assert fields["request_id"] == response.headers["x-request-id"]

    @pytest.mark.asyncio
    async def test_a_payment_intent_change_by_api_key_logs_the_key_id_as_who(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, caplog
    ):
        mock_intent(stripe_mock, payment_intent(id=PID, amount=5000, metadata=OURS))

        response = await client.post(
            f"/v1/payment-intents/{PID}/items",
            json={"product_id": "mug"},
            headers={"X-API-Key": API_KEY},
        )

        assert response.status_code == 200, response.text
        [record] = change_records(caplog)
        fields = record.__dict__
        assert (fields["object"], fields["object_id"]) == ("payment_intent", PID)
        assert (fields["amount_before"], fields["amount_after"]) == (5000, 6200)
        assert fields["who"] == API_KEY_CALLER

    @pytest.mark.asyncio
    async def test_a_change_that_changes_nothing_logs_no_change_record(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, session, caplog
    ):
        mock_session(stripe_mock, session)

        response = await client.patch(
            f"/v1/checkout-sessions/{SID}/items/tshirt", json={"quantity": 1}, headers=token_for()
        )

        assert response.status_code == 200, response.text
        assert change_records(caplog) == []

    @pytest.mark.asyncio
    async def test_a_change_stripe_refused_logs_no_change_record(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, session, caplog
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        stripe_mock.post(SESSION_URL).respond(
            400, json={"error": {"type": "invalid_request_error", "code": "parameter_invalid"}}
        )

        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items", json={"product_id": "mug"}, headers=token_for()
        )

        assert response.status_code == 502
        assert change_records(caplog) == []


def test_with_several_workers_requests_are_still_logged(tmp_path: Path):
    port = free_port()
    log = tmp_path / "service.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_test_workers",
        "AMOUNT_UPDATER_TOKEN_SECRET": TOKEN_SECRET,
    }
    command = [
        str(Path(sys.executable).with_name("amount-updater")),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    with log.open("w") as sink:
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=sink, stderr=sink)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", process, log)
        quote = httpx.post(
            f"http://127.0.0.1:{port}/v1/quotes",
            json={"currency": "usd", "items": [{"product_id": "mug"}]},
            headers={"X-Request-ID": "multi-worker-1"},
        )
        assert quote.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=15)

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert [
        line
        for line in lines
        if line.get("event") == "request" and line.get("route") == "/v1/quotes"
    ]
