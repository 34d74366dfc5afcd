"""A storefront's whole journey, against a Stripe that keeps state and enforces Stripe's rules:
after every change, the cart's total is the total Stripe holds, and the total we expect."""

from __future__ import annotations

import httpx
import pytest

from stripe_emulator import EmulatorState
from tests.e2e.conftest import API_KEY

PRICES = {  # the sample catalog, per currency
    "usd": {"tshirt": 2500, "gift_wrap": 500, "mug": 1200, "express": 1500, "standard": 500},
    "eur": {"tshirt": 2300, "gift_wrap": 450, "mug": 1100, "express": 1400, "standard": 450},
    "jpy": {"tshirt": 3500, "gift_wrap": 700, "mug": 1500, "express": 1800, "standard": 600},
}


def stripe_total(stripe_api: httpx.Client, session_id: str) -> tuple[int, list[dict]]:
    """What Stripe holds: amount_total and every line item (paged, as Stripe requires)."""
    session = stripe_api.get(f"/v1/checkout/sessions/{session_id}").json()
    items, after = [], None
    while True:
        params = {"limit": 100, **({"starting_after": after} if after else {})}
        page = stripe_api.get(f"/v1/checkout/sessions/{session_id}/line_items", params=params)
        items += page.json()["data"]
        if not page.json()["has_more"]:
            return session["amount_total"], items
        after = items[-1]["id"]


def percent_off(unit: int, percent: int) -> int:
    return (unit * percent + 50) // 100  # half up, for the positive amounts used here


@pytest.mark.parametrize("currency", ["usd", "eur", "jpy"])
def test_every_operation_leaves_stripe_holding_the_recomputed_total(
    api: httpx.Client, stripe_api: httpx.Client, currency: str
):
    p = PRICES[currency]
    created = api.post(
        "/v1/checkout-sessions",
        json={"currency": currency, "items": [{"product_id": "tshirt", "quantity": 2}]},
    )
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    auth = {"Authorization": f"Bearer {created.json()['token']}"}
    assert created.json()["client_secret"].startswith(f"{sid}_secret_")

    def step(method: str, path: str, expected_total: int, body: dict | None = None) -> dict:
        response = api.request(
            method, f"/v1/checkout-sessions/{sid}{path}", json=body, headers=auth
        )
        assert response.status_code == 200, response.text
        cart = response.json()
        held, _ = stripe_total(stripe_api, sid)
        assert cart["amount_total"] == held == expected_total, (method, path)
        return cart

    tshirts = 2 * p["tshirt"]
    assert stripe_total(stripe_api, sid)[0] == tshirts
    step("POST", "/items", tshirts + p["gift_wrap"], {"product_id": "gift_wrap"})
    step("PATCH", "/items/tshirt", 3 * p["tshirt"] + p["gift_wrap"], {"quantity": 3})
    items = 3 * p["tshirt"] + p["gift_wrap"]
    step("PUT", "/shipping", items + p["express"], {"shipping_rate_id": "express"})
    discount = 3 * percent_off(p["tshirt"], 10) + percent_off(p["gift_wrap"], 10)
    cart = step("PUT", "/discount", items - discount + p["express"], {"code": "save10"})
    assert cart["discount"] == {"code": "SAVE10", "amount": discount}
    discount = 3 * percent_off(p["tshirt"], 10)
    step("DELETE", "/items/gift_wrap", 3 * p["tshirt"] - discount + p["express"])
    step(
        "PUT",
        "/shipping",
        3 * p["tshirt"] - discount + p["standard"],
        {"shipping_rate_id": "standard"},
    )
    step("DELETE", "/discount", 3 * p["tshirt"] + p["standard"])
    step("DELETE", "/shipping", 3 * p["tshirt"])
    cart = step(
        "PUT",
        "/cart",
        p["mug"] * 2 + p["gift_wrap"] + p["express"],
        {
            "items": [{"product_id": "mug", "quantity": 2}, {"product_id": "gift_wrap"}],
            "shipping_rate_id": "express",
            "discount_code": None,
        },
    )
    assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [
        ("mug", 2),
        ("gift_wrap", 1),
    ]
    read = api.get(f"/v1/checkout-sessions/{sid}", headers=auth).json()
    assert read == cart


def create_elsewhere(stripe_api: httpx.Client, count: int, currency: str = "usd") -> str:
    """A session made by the shop's own backend: line items without our metadata."""
    form = {"mode": "payment", "ui_mode": "elements"}
    for n in range(count):
        form |= {
            f"line_items[{n}][price_data][currency]": currency,
            f"line_items[{n}][price_data][product_data][name]": f"Shop item {n}",
            f"line_items[{n}][price_data][unit_amount]": str(100 + n),
            f"line_items[{n}][quantity]": "1",
        }
    response = stripe_api.post("/v1/checkout/sessions", data=form)
    assert response.status_code == 200, response.text
    return response.json()["id"]


def test_line_items_added_elsewhere_survive_on_a_cart_of_more_than_ten(
    api: httpx.Client, stripe_api: httpx.Client
):
    sid = create_elsewhere(stripe_api, 12)
    theirs = sum(100 + n for n in range(12))
    _, before = stripe_total(stripe_api, sid)
    minted = api.post("/v1/tokens", json={"object_id": sid}, headers={"X-API-Key": API_KEY})
    assert minted.status_code == 201, minted.text
    auth = {"Authorization": f"Bearer {minted.json()['token']}"}

    for product in ("mug", "gift_wrap", "tshirt"):
        response = api.post(
            f"/v1/checkout-sessions/{sid}/items", json={"product_id": product}, headers=auth
        )
        assert response.status_code == 200, response.text
    response = api.put(
        f"/v1/checkout-sessions/{sid}/discount", json={"code": "FIVEOFF"}, headers=auth
    )
    assert response.status_code == 200, response.text

    held, after = stripe_total(stripe_api, sid)
    ours = 1200 + 500 + 2500 - 500
    assert response.json()["amount_total"] == held == theirs + ours
    assert [li["id"] for li in after[:12]] == [li["id"] for li in before]
    assert [li["amount_total"] for li in after[:12]] == [li["amount_total"] for li in before]
    assert len(response.json()["other_items"]) == 12
    assert response.json()["amount_discount"] == 500


@pytest.fixture
def open_session(api: httpx.Client) -> tuple[str, dict[str, str]]:
    created = api.post(
        "/v1/checkout-sessions", json={"currency": "usd", "items": [{"product_id": "tshirt"}]}
    ).json()
    return created["id"], {"Authorization": f"Bearer {created['token']}"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/items", {"product_id": "unicorn"}, 422, "unknown_product"),
        (
            "POST",
            "/items",
            {"product_id": "tshirt", "quantity": 10},
            422,
            "quantity_limit_exceeded",
        ),
        ("POST", "/items", {"product_id": "tshirt", "unit_amount": 1}, 422, "invalid_request"),
        ("PATCH", "/items/tshirt", {"quantity": -1}, 422, "invalid_request"),
        ("PUT", "/shipping", {"shipping_rate_id": "teleport"}, 422, "unknown_shipping_rate"),
        ("PUT", "/discount", {"code": "NOT-A-CODE"}, 422, "invalid_discount_code"),
        ("PUT", "/cart", {"items": [], "total": 1}, 422, "invalid_request"),
    ],
)
def test_bad_input_gets_its_problem_and_writes_nothing(
    api: httpx.Client,
    emulator_state: EmulatorState,
    open_session,
    method,
    path,
    body,
    status,
    code,
):
    sid, auth = open_session
    writes = emulator_state.write_count
    response = api.request(method, f"/v1/checkout-sessions/{sid}{path}", json=body, headers=auth)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert emulator_state.write_count == writes


def test_wrong_or_missing_proof_writes_nothing(
    api: httpx.Client, emulator_state: EmulatorState, open_session
):
    sid, _ = open_session
    _, other_auth = (
        None,
        {
            "Authorization": "Bearer "
            + api.post(
                "/v1/checkout-sessions", json={"currency": "usd", "items": [{"product_id": "mug"}]}
            ).json()["token"]
        },
    )
    writes = emulator_state.write_count
    path = f"/v1/checkout-sessions/{sid}/items"
    assert api.post(path, json={"product_id": "mug"}).status_code == 401
    assert api.post(path, json={"product_id": "mug"}, headers=other_auth).status_code == 403
    assert emulator_state.write_count == writes


@pytest.mark.parametrize(
    "finish",
    ["/v1/checkout/sessions/{id}/expire", "/v1/test_helpers/checkout/sessions/{id}/complete"],
)
def test_a_finished_session_is_not_updatable_and_nothing_is_written(
    api: httpx.Client, stripe_api: httpx.Client, emulator_state: EmulatorState, open_session, finish
):
    sid, auth = open_session
    assert stripe_api.post(finish.format(id=sid)).status_code == 200
    writes = emulator_state.write_count
    response = api.post(
        f"/v1/checkout-sessions/{sid}/items", json={"product_id": "mug"}, headers=auth
    )
    assert response.status_code == 409
    assert response.json()["code"] == "not_updatable"
    assert emulator_state.write_count == writes


def test_an_unknown_session_is_404(api: httpx.Client):
    response = api.get("/v1/checkout-sessions/cs_test_doesnotexist", headers={"X-API-Key": API_KEY})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
