"""PaymentIntents end to end: after every change the intent's amount is the recomputed total,
and Stripe's own arithmetic check over amount_details passed (the emulator enforces it)."""

from __future__ import annotations

import httpx
import pytest

from stripe_emulator import EmulatorState
from tests.e2e.conftest import API_KEY
from tests.e2e.test_checkout_sessions_e2e import PRICES, percent_off


def held(stripe_api: httpx.Client, intent_id: str) -> dict:
    return stripe_api.get(
        f"/v1/payment_intents/{intent_id}", params={"expand[]": "amount_details.line_items"}
    ).json()


@pytest.mark.parametrize("currency", ["usd", "eur", "jpy"])
def test_every_operation_leaves_the_intent_holding_the_recomputed_amount(
    api: httpx.Client, stripe_api: httpx.Client, currency: str
):
    p = PRICES[currency]
    created = api.post(
        "/v1/payment-intents",
        json={"currency": currency, "items": [{"product_id": "tshirt", "quantity": 2}]},
    )
    assert created.status_code == 201, created.text
    pid, auth = created.json()["id"], {"Authorization": f"Bearer {created.json()['token']}"}

    def step(method: str, path: str, expected: int, body: dict | None = None) -> dict:
        response = api.request(method, f"/v1/payment-intents/{pid}{path}", json=body, headers=auth)
        assert response.status_code == 200, response.text
        intent = held(stripe_api, pid)
        assert response.json()["amount_total"] == intent["amount"] == expected, (method, path)
        return intent

    step("POST", "/items", 2 * p["tshirt"] + p["gift_wrap"], {"product_id": "gift_wrap"})
    step(
        "PUT",
        "/shipping",
        2 * p["tshirt"] + p["gift_wrap"] + p["express"],
        {"shipping_rate_id": "express"},
    )
    discount = 2 * percent_off(p["tshirt"], 10) + percent_off(p["gift_wrap"], 10)
    intent = step(
        "PUT",
        "/discount",
        2 * p["tshirt"] + p["gift_wrap"] - discount + p["express"],
        {"code": "SAVE10"},
    )
    lines = intent["amount_details"]["line_items"]["data"]
    assert [(li["product_name"], li["quantity"], li["unit_cost"]) for li in lines] == [
        ("T-shirt", 2, p["tshirt"]),
        ("Gift Wrap", 1, p["gift_wrap"]),
    ]
    assert intent["amount_details"]["shipping"]["amount"] == p["express"]
    discount = percent_off(p["tshirt"], 10) + percent_off(p["gift_wrap"], 10)
    step(
        "PATCH",
        "/items/tshirt",
        p["tshirt"] + p["gift_wrap"] - discount + p["express"],
        {"quantity": 1},
    )
    step("DELETE", "/discount", p["tshirt"] + p["gift_wrap"] + p["express"])
    intent = step("DELETE", "/shipping", p["tshirt"] + p["gift_wrap"])
    assert "shipping" not in intent["amount_details"]
    step("DELETE", "/items/gift_wrap", p["tshirt"])


@pytest.mark.parametrize("status", ["processing", "requires_capture", "succeeded", "canceled"])
def test_each_non_updatable_status_is_refused_with_nothing_written(
    api: httpx.Client, stripe_api: httpx.Client, emulator_state: EmulatorState, status: str
):
    created = api.post(
        "/v1/payment-intents", json={"currency": "usd", "items": [{"product_id": "mug"}]}
    ).json()
    moved = stripe_api.post(
        f"/v1/test_helpers/payment_intents/{created['id']}/set_status", data={"status": status}
    )
    assert moved.status_code == 200, moved.text
    writes = emulator_state.write_count
    response = api.post(
        f"/v1/payment-intents/{created['id']}/items",
        json={"product_id": "mug"},
        headers={"Authorization": f"Bearer {created['token']}"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "not_updatable"
    assert emulator_state.write_count == writes


def test_a_cart_under_stripes_minimum_is_refused_before_stripe(
    api: httpx.Client, emulator_state: EmulatorState
):
    writes = emulator_state.write_count
    response = api.post("/v1/payment-intents", json={"currency": "jpy", "items": []})
    assert response.status_code == 422
    assert response.json()["code"] == "cart_empty"
    assert emulator_state.write_count == writes


def test_an_intent_created_elsewhere_is_adopted(api: httpx.Client, stripe_api: httpx.Client):
    created = stripe_api.post(
        "/v1/payment_intents",
        data={"amount": "1999", "currency": "eur", "metadata[order]": "A-17"},
    ).json()
    minted = api.post(
        "/v1/tokens", json={"object_id": created["id"]}, headers={"X-API-Key": API_KEY}
    ).json()
    auth = {"Authorization": f"Bearer {minted['token']}"}

    response = api.post(
        f"/v1/payment-intents/{created['id']}/items", json={"product_id": "mug"}, headers=auth
    )
    assert response.status_code == 200, response.text
    intent = held(stripe_api, created["id"])
    assert intent["amount"] == response.json()["amount_total"] == 1999 + 1100
    assert intent["metadata"]["order"] == "A-17"

    response = api.delete(f"/v1/payment-intents/{created['id']}/items/mug", headers=auth)
    assert response.status_code == 200, response.text
    assert held(stripe_api, created["id"])["amount"] == 1999
