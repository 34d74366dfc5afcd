"""Replay of the contract recordings: for every step recorded from Stripe test mode
(tests/contract/recorded/, written by `make contract`), the emulator's answers to the same flow
have the same exchanges and statuses, the same top-level fields with the same JSON types (for a
list, its first element's too) and, for an error, the same code.

Runs in `make test`; skipped, with the reason, while no recordings exist. The flows themselves
run against the emulator every time (test_the_flows_run_on_the_emulator), so they stay runnable.
"""

from __future__ import annotations

import httpx
import pytest

from amount_updater.stripe_gateway import StripeGateway
from stripe_emulator import EmulatorState, create_emulator_app

from .flows import RECORDED, Recorder, differences, load, redact, run_flows, save

EMULATOR = "http://emulator"


async def emulator_run() -> dict:
    state = EmulatorState()
    recorder = Recorder(httpx.ASGITransport(app=create_emulator_app(state)))
    gateway = StripeGateway.connect(
        "sk_test_emulator", api_base=EMULATOR, timeout_s=10, max_retries=0, transport=recorder
    )
    try:
        await run_flows(gateway, recorder)
    finally:
        await gateway.aclose()
    return recorder.exchanges


@pytest.mark.asyncio
@pytest.mark.skipif(
    not list(RECORDED.glob("*.json")),
    reason="no recordings of Stripe's answers in tests/contract/recorded/ yet: run `make "
    "contract` with AMOUNT_UPDATER_CONTRACT_STRIPE_KEY=sk_test_... to record them",
)
async def test_the_emulator_answers_the_recorded_flows_with_stripes_fields_and_types():
    recorded = load(RECORDED)
    found = differences(recorded, redact(await emulator_run()))
    assert found == [], "\n".join(found)


@pytest.mark.asyncio
async def test_the_flows_run_on_the_emulator(tmp_path):
    first = await emulator_run()
    assert list(first) == [
        "readiness_list_sessions",
        "session_create",
        "session_retrieve",
        "session_add_line",
        "session_retrieve_after_add",
        "session_retransmit",
        "session_change_quantities",
        "session_expire",
        "session_update_after_expiry",
        "intent_create",
        "intent_retrieve",
        "intent_update_amount",
        "intent_cancel",
    ]
    # Eleven lines: the answer's first page (10) and one more page of line items.
    assert [e["request"] for e in first["session_create"]] == [
        "POST /v1/checkout/sessions",
        "GET /v1/checkout/sessions/{id}/line_items",
    ]
    assert first["readiness_list_sessions"][0]["status"] == 200
    assert first["session_update_after_expiry"][0]["status"] == 400
    # Saved, redacted and loaded again, a run compares equal to another run.
    save(first, tmp_path)
    text = "".join(path.read_text() for path in tmp_path.glob("*.json"))
    assert "_secret_" not in text.replace("_secret_REDACTED", "")
    assert "cs_test_" not in text.replace("cs_test_REDACTED", "")
    assert differences(load(tmp_path), redact(await emulator_run())) == []


def test_differences_name_each_field_type_status_and_code():
    recorded = {
        "step": [
            {
                "request": "GET /v1/x",
                "status": 200,
                "body": {"object": "list", "data": [{"a": 1, "b": "x"}], "c": None, "d": 1},
            },
            {"request": "POST /v1/x", "status": 400, "body": {"error": {"code": "a"}}},
        ]
    }
    emulated = {
        "step": [
            {
                "request": "GET /v1/x",
                "status": 200,
                "body": {"object": "list", "data": [{"a": "1", "e": 1}], "c": {}, "f": 2},
            },
            {"request": "POST /v1/x", "status": 402, "body": {"error": {"code": "b"}}},
        ]
    }
    assert differences(recorded, emulated) == [
        "step[0] GET /v1/x: field 'd' missing in the emulator",
        "step[0] GET /v1/x: field 'f' only in the emulator",
        "step[0] GET /v1/x: 'c' is null recorded, object emulated",
        "step[0] GET /v1/x data[0]: field 'b' missing in the emulator",
        "step[0] GET /v1/x data[0]: field 'e' only in the emulator",
        "step[0] GET /v1/x data[0]: 'a' is number recorded, string emulated",
        "step[1] POST /v1/x: status 400 recorded, 402 emulated",
        "step[1] POST /v1/x: error code 'a' recorded, 'b' emulated",
    ]
    assert differences({"other": []}, emulated) == ["other: the emulator run has no such step"]
