"""The check of the emulator's answers against Stripe's spec (tests/support/stripe_spec) bites:
a field the spec lacks, a null where it allows none and a missing required field each fail with
their path. (Every emulator exchange of tests/sandbox and tests/e2e runs this check.)"""

from __future__ import annotations

import copy
import json

import httpx
import pytest
import pytest_asyncio

import stripe_emulator as emulator
from amount_updater.stripe_gateway.wire import USER_AGENT
from tests.support.recording_asgi import Recorder
from tests.support.spec_checks import emulator_violations
from tests.support.stripe_spec import check_answer

from .helpers import create_intent, create_session, post

SESSIONS = "/v1/checkout/sessions"


@pytest_asyncio.fixture
async def session(http) -> dict:
    created = await create_session(http, items=2)
    return (await http.get(f"{SESSIONS}/{created['id']}?expand[]=line_items")).json()


@pytest.mark.asyncio
async def test_the_emulator_s_own_answers_pass(http, session):
    path = f"{SESSIONS}/{session['id']}"
    assert check_answer("GET", path, 200, session) == []
    items = (await http.get(f"{path}/line_items")).json()
    assert check_answer("GET", f"{path}/line_items", 200, items) == []
    intent = await create_intent(http)
    assert check_answer("POST", "/v1/payment_intents", 200, intent) == []
    refusal = await post(http, "/v1/payment_intents", {"amount": "abc", "currency": "usd"})
    assert check_answer("POST", "/v1/payment_intents", 400, refusal.json()) == []


def test_a_field_the_spec_lacks_fails_with_its_path(session):
    answer = copy.deepcopy(session)
    answer["source"] = None
    answer["line_items"]["data"][1]["price"]["tiers_mode_x"] = "graduated"
    assert check_answer("GET", f"{SESSIONS}/{session['id']}", 200, answer) == [
        "GET /v1/checkout/sessions/{session} (200): line_items.data[1].price.tiers_mode_x: "
        "not in the spec",
        "GET /v1/checkout/sessions/{session} (200): source: not in the spec",
    ]


def test_a_null_the_spec_does_not_allow_fails_with_its_path(session):
    answer = {**session, "return_url": None, "redirect_on_completion": None}
    assert check_answer("POST", SESSIONS, 200, answer) == [
        "POST /v1/checkout/sessions (200): redirect_on_completion: null, which the spec does "
        "not allow here",
        "POST /v1/checkout/sessions (200): return_url: null, which the spec does not allow here",
    ]


def test_a_missing_required_field_fails_with_its_path(session):
    answer = copy.deepcopy(session)
    del answer["expires_at"]
    del answer["line_items"]["data"][0]["amount_total"]
    assert check_answer("POST", SESSIONS, 200, answer) == [
        "POST /v1/checkout/sessions (200): expires_at: required, missing",
        "POST /v1/checkout/sessions (200): line_items.data[0].amount_total: required, missing",
    ]


def test_errors_are_checked_against_stripe_s_error_schema():
    assert (
        check_answer("GET", "/v1/nowhere", 404, {"error": {"type": "invalid_request_error"}}) == []
    )
    assert check_answer("POST", SESSIONS, 400, {"error": {"message": "no type"}}) == [
        "POST /v1/checkout/sessions (400): error.type: required, missing"
    ]
    assert check_answer("POST", SESSIONS, 400, {"message": "bare"}) == [
        "POST /v1/checkout/sessions (400): error: required, missing",
        "POST /v1/checkout/sessions (400): message: not in the spec",
    ]


def test_answers_of_endpoints_outside_the_subset_are_checked_by_their_object(session):
    helper = f"/v1/test_helpers/checkout/sessions/{session['id']}/complete"
    assert check_answer("POST", helper, 200, session) == []
    assert check_answer("POST", helper, 200, {**session, "extra": 1}) == [
        "POST /v1/test_helpers/checkout/sessions/{id}/complete (200): extra: not in the spec"
    ]
    assert check_answer("POST", helper, 200, {"object": "coupon"}) == [
        "POST /v1/test_helpers/checkout/sessions/{id}/complete (200): no schema in the subset "
        "for this answer"
    ]


@pytest.mark.asyncio
async def test_recorded_exchanges_check_gateway_requests_but_not_the_tests_own(clock):
    # An emulator of its own (not this module's recorder, which fails the test on what it sees).
    recorder = Recorder()
    app = recorder.wrap(emulator.create_emulator_app(emulator.EmulatorState(), clock=clock))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        for agent in (USER_AGENT, "a test"):
            await client.post(
                "/v1/payment_intents",
                content=b"amount=900&currency=usd&colour=blue",
                headers={
                    "Authorization": "Bearer sk_test_x",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": agent,
                },
            )
    exchanges = recorder.drain()
    assert [(e.method, e.path, e.status) for e in exchanges] == [
        ("POST", "/v1/payment_intents", 400),
        ("POST", "/v1/payment_intents", 400),
    ]
    assert json.loads(exchanges[0].answer)["error"]["param"] == "colour"
    # The gateway's off-spec request is reported once; the test's own is not; both answers
    # (Stripe-shaped errors) pass.
    assert emulator_violations(exchanges) == ["POST /v1/payment_intents: colour: not in the spec"]
    assert recorder.drain() == []
