"""Idempotency keys (replay, mismatch, in-flight, retention) and per-object write locks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from stripe_emulator import EmulatorState, create_emulator_app

from .helpers import FakeClock, assert_error, create_session, item_fields, post, session_fields

SESSIONS = "/v1/checkout/sessions"


@asynccontextmanager
async def slow_emulator(
    state: EmulatorState, *, write_latency_s: float, lock_wait_s: float
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_emulator_app(
        state, clock=FakeClock(), write_latency_s=write_latency_s, lock_wait_s=lock_wait_s
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://emulator",
        headers={"Authorization": "Bearer sk_test_x"},
    ) as client:
        yield client


@pytest.mark.asyncio
async def test_same_key_same_params_replays_without_a_second_write(http, state):
    first = await post(http, SESSIONS, session_fields(2), idempotency_key="create-1")
    again = await post(http, SESSIONS, session_fields(2), idempotency_key="create-1")
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["original-request"] == first.headers["request-id"]
    assert "idempotent-replayed" not in first.headers
    assert state.write_count == 1
    assert len(state.checkout_sessions) == 1


@pytest.mark.asyncio
async def test_same_key_other_params_is_an_idempotency_error(http, state):
    await post(http, SESSIONS, session_fields(1), idempotency_key="create-1")
    response = await post(http, SESSIONS, session_fields(2), idempotency_key="create-1")
    error = assert_error(response, 400, None, error_type="idempotency_error")
    assert error["message"] == (
        "Keys for idempotent requests can only be used with the same parameters they were first "
        "used with. Try using a key other than 'create-1' if you meant to execute a different "
        "request."
    )
    assert state.write_count == 1


@pytest.mark.asyncio
async def test_a_key_is_bound_to_its_first_endpoint(http, state):
    session = await create_session(http)
    await post(http, f"{SESSIONS}/{session['id']}", {"metadata[a]": "1"}, idempotency_key="k")
    response = await post(
        http, "/v1/payment_intents", {"amount": "500", "currency": "usd"}, idempotency_key="k"
    )
    error = assert_error(response, 400, None, error_type="idempotency_error")
    assert "same endpoint" in error["message"]
    assert state.payment_intents == {}


@pytest.mark.asyncio
async def test_state_errors_are_saved_and_replayed(http, state):
    session = await create_session(http)
    fields = {"line_items[0][id]": "li_missing"}
    first = await post(http, f"{SESSIONS}/{session['id']}", fields, idempotency_key="u1")
    assert_error(first, 400, "resource_missing")
    again = await post(http, f"{SESSIONS}/{session['id']}", fields, idempotency_key="u1")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content


@pytest.mark.asyncio
async def test_parameter_validation_failures_are_not_saved(http, state):
    bad = session_fields(1) | {"discounts[0][coupon]": "x"}
    assert_error(await post(http, SESSIONS, bad, idempotency_key="k"), 400, "parameter_unknown")
    fixed = await post(http, SESSIONS, session_fields(1), idempotency_key="k")
    assert fixed.status_code == 200
    assert "idempotent-replayed" not in fixed.headers


@pytest.mark.asyncio
async def test_keys_are_forgotten_after_24_hours(http, state, clock):
    await post(http, SESSIONS, session_fields(1), idempotency_key="k")
    clock.advance(24 * 3600)
    response = await post(http, SESSIONS, session_fields(1), idempotency_key="k")
    assert "idempotent-replayed" not in response.headers
    assert state.write_count == 2


@pytest.mark.asyncio
async def test_overlong_keys_are_refused(http, state):
    assert_error(
        await post(http, SESSIONS, session_fields(1), idempotency_key="k" * 256), 400, None
    )
    assert state.write_count == 0


@pytest.mark.asyncio
async def test_a_key_still_executing_is_409_in_use(state):
    async with slow_emulator(state, write_latency_s=0.3, lock_wait_s=2) as client:
        first, second = await asyncio.gather(
            post(client, SESSIONS, session_fields(1), idempotency_key="k"),
            post(client, SESSIONS, session_fields(1), idempotency_key="k"),
        )
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 409]
    conflict = first if first.status_code == 409 else second
    assert_error(conflict, 409, "idempotency_key_in_use")
    assert state.write_count == 1


@pytest.mark.asyncio
async def test_overlapping_writes_to_one_object_get_429_lock_timeout(state):
    async with slow_emulator(state, write_latency_s=0.3, lock_wait_s=0.05) as client:
        session = await create_session(client)
        path = f"{SESSIONS}/{session['id']}"
        first, second = await asyncio.gather(
            post(client, path, {"metadata[a]": "1"}, idempotency_key="a"),
            post(client, path, {"metadata[b]": "2"}, idempotency_key="b"),
        )
        loser = first if first.status_code == 429 else second
        assert sorted([first.status_code, second.status_code]) == [200, 429]
        error = assert_error(loser, 429, "lock_timeout")
        assert error["message"].startswith("This object can't be accessed right now")
        assert loser.headers["stripe-should-retry"] == "true"
        assert state.write_count == 2  # the create and one update
        # 429s are not saved: the same key succeeds once the object is free.
        key = "a" if loser is first else "b"
        fields = {"metadata[a]": "1"} if key == "a" else {"metadata[b]": "2"}
        retried = await post(client, path, fields, idempotency_key=key)
        assert retried.status_code == 200
        assert "idempotent-replayed" not in retried.headers
    assert state.checkout_sessions[session["id"]]["metadata"] == {"a": "1", "b": "2"}


@pytest.mark.asyncio
async def test_writes_queue_when_the_lock_frees_in_time_and_other_objects_never_wait(state):
    async with slow_emulator(state, write_latency_s=0.1, lock_wait_s=1.0) as client:
        one, two = await create_session(client), await create_session(client)
        responses = await asyncio.gather(
            post(client, f"{SESSIONS}/{one['id']}", item_fields(0, unit_amount=700)),
            post(client, f"{SESSIONS}/{one['id']}", {"metadata[x]": "y"}),
            post(client, f"{SESSIONS}/{two['id']}", {"metadata[x]": "z"}),
        )
    assert [r.status_code for r in responses] == [200, 200, 200]
    stored = state.checkout_sessions[one["id"]]
    assert stored["amount_total"] == 700
    assert stored["metadata"] == {"x": "y"}


@pytest.mark.asyncio
async def test_gets_ignore_idempotency_keys(http, state):
    session = await create_session(http)
    response = await http.get(f"{SESSIONS}/{session['id']}", headers={"Idempotency-Key": "k"})
    again = await http.get(f"{SESSIONS}/{session['id']}", headers={"Idempotency-Key": "k"})
    assert response.status_code == again.status_code == 200
    assert "idempotent-replayed" not in again.headers
