"""Checkout Session routes, with Stripe mocked at the wire: the assertions read the form body
Stripe would receive."""

from __future__ import annotations

import httpx
import pytest
import respx

from amount_updater.auth.tokens import TokenSigner
from tests.conftest import API_KEY, RETURN_URL, TOKEN_SECRET
from tests.support.stripe_objects import (
    NOW,
    checkout_session,
    form,
    line_item,
    line_items_sent,
    product_line,
    stripe_error,
)

SID = "cs_test_a1"
SESSION_URL = f"/v1/checkout/sessions/{SID}"


def token_for(object_id: str = SID, expires_at: int = NOW + 3600) -> dict[str, str]:
    token = TokenSigner(TOKEN_SECRET.encode()).mint(object_id, expires_at)
    return {"Authorization": f"Bearer {token}"}


def mock_session(stripe_mock: respx.MockRouter, session: dict, *, updated_total: int | None = None):
    """GET returns `session`; POST answers with the session carrying `updated_total`."""
    stripe_mock.get(f"/v1/checkout/sessions/{session['id']}").respond(200, json=session)
    answer = {**session, "line_items": None}
    if updated_total is not None:
        answer["amount_total"] = updated_total
    return stripe_mock.post(f"/v1/checkout/sessions/{session['id']}").respond(200, json=answer)


def no_write(stripe_mock: respx.MockRouter) -> bool:
    return not any(call.request.method == "POST" for call in stripe_mock.calls)


@pytest.fixture
def cart_with_other_item() -> dict:
    """A session holding a T-shirt of ours and a line item someone else added."""
    return checkout_session(
        line_items=[
            product_line("tshirt", "T-shirt", 2500, 2, id="li_shirt"),
            line_item(description="Engraving (added by the shop)", unit_amount=700, id="li_other"),
        ],
        metadata={"amount_updater_rev": "3"},
    )


class TestAddItem:
    @pytest.mark.asyncio
    async def test_retransmits_every_line_item_and_adds_the_new_one(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, cart_with_other_item
    ):
        update = mock_session(stripe_mock, cart_with_other_item, updated_total=6200)

        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items",
            json={"product_id": "gift_wrap"},
            headers=token_for(),
        )

        assert response.status_code == 200, response.text
        sent = line_items_sent(update.calls.last.request.content)
        assert sent == [
            {"[id]": "li_shirt"},
            {"[id]": "li_other"},
            {
                "[price_data][currency]": "usd",
                "[price_data][product_data][name]": "Gift Wrap",
                "[price_data][product_data][tax_code]": "txcd_99999999",
                "[price_data][tax_behavior]": "exclusive",
                "[price_data][unit_amount]": "500",
                "[quantity]": "1",
                "[metadata][product_id]": "gift_wrap",
            },
        ]
        body = form(update.calls.last.request.content)
        assert body["metadata[amount_updater_rev]"] == "4"
        cart = response.json()
        assert cart["amount_total"] == 6200  # what Stripe answered, not our own sum
        assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [
            ("tshirt", 2),
            ("gift_wrap", 1),
        ]
        assert cart["other_items"] == [
            {
                "line_item_id": "li_other",
                "description": "Engraving (added by the shop)",
                "quantity": 1,
                "amount": 700,
            }
        ]
        assert cart["amount_subtotal"] == 5000 + 500 + 700

    @pytest.mark.asyncio
    async def test_increasing_a_quantity_keeps_the_line_item_id(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, cart_with_other_item
    ):
        update = mock_session(stripe_mock, cart_with_other_item)

        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items",
            json={"product_id": "tshirt", "quantity": 3},
            headers=token_for(),
        )

        assert response.status_code == 200, response.text
        assert line_items_sent(update.calls.last.request.content) == [
            {"[id]": "li_shirt", "[quantity]": "5"},
            {"[id]": "li_other"},
        ]

    @pytest.mark.asyncio
    async def test_sends_a_stripe_idempotency_key_derived_from_the_change(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, cart_with_other_item
    ):
        update = mock_session(stripe_mock, cart_with_other_item)

        for _ in range(2):
            await client.post(
                f"/v1/checkout-sessions/{SID}/items",
                json={"product_id": "mug"},
                headers=token_for(),
            )

        keys = [call.request.headers["Idempotency-Key"] for call in update.calls]
        assert keys[0] == keys[1]  # same revision, same intended state: Stripe replays
        assert keys[0].startswith("au-cs-update-")

    @pytest.mark.asyncio
    async def test_pages_through_more_than_ten_line_items(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        items = [
            line_item(description=f"Shop item {n}", unit_amount=100, id=f"li_{n:02d}")
            for n in range(14)
        ]
        session = checkout_session(line_items=items)
        update = mock_session(stripe_mock, session)
        listing = stripe_mock.get(f"{SESSION_URL}/line_items").respond(
            200, json={"object": "list", "data": items[10:], "has_more": False}
        )

        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items", json={"product_id": "mug"}, headers=token_for()
        )

        assert response.status_code == 200, response.text
        assert listing.calls.last.request.url.params["starting_after"] == "li_09"
        assert listing.calls.last.request.url.params["limit"] == "100"
        sent = line_items_sent(update.calls.last.request.content)
        assert [entry.get("[id]") for entry in sent[:14]] == [f"li_{n:02d}" for n in range(14)]
        assert sent[14]["[metadata][product_id]"] == "mug"
        assert len(response.json()["other_items"]) == 14


class TestSetQuantity:
    @pytest.mark.asyncio
    async def test_zero_removes_the_product_by_omitting_its_id(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, cart_with_other_item
    ):
        update = mock_session(stripe_mock, cart_with_other_item)

        response = await client.patch(
            f"/v1/checkout-sessions/{SID}/items/tshirt", json={"quantity": 0}, headers=token_for()
        )

        assert response.status_code == 200, response.text
        assert line_items_sent(update.calls.last.request.content) == [{"[id]": "li_other"}]
        assert response.json()["items"] == []

    @pytest.mark.asyncio
    async def test_delete_removes_the_product(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, cart_with_other_item
    ):
        update = mock_session(stripe_mock, cart_with_other_item)

        response = await client.delete(
            f"/v1/checkout-sessions/{SID}/items/tshirt", headers=token_for()
        )

        assert response.status_code == 200, response.text
        assert line_items_sent(update.calls.last.request.content) == [{"[id]": "li_other"}]

    @pytest.mark.asyncio
    async def test_an_unchanged_cart_makes_no_write(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, cart_with_other_item
    ):
        mock_session(stripe_mock, cart_with_other_item)

        response = await client.patch(
            f"/v1/checkout-sessions/{SID}/items/tshirt", json={"quantity": 2}, headers=token_for()
        )

        assert response.status_code == 200, response.text
        assert no_write(stripe_mock)
        assert response.json()["amount_total"] == 5700


class TestShippingAndDiscount:
    @pytest.mark.asyncio
    async def test_shipping_is_the_sessions_shipping_option_and_never_discounted(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, cart_with_other_item
    ):
        update = mock_session(stripe_mock, cart_with_other_item)

        response = await client.put(
            f"/v1/checkout-sessions/{SID}/shipping",
            json={"shipping_rate_id": "express"},
            headers=token_for(),
        )

        assert response.status_code == 200, response.text
        body = form(update.calls.last.request.content)
        options = {k: v for k, v in body.items() if k.startswith("shipping_options")}
        rate = "shipping_options[0][shipping_rate_data]"
        assert options == {
            f"{rate}[display_name]": "Express Shipping",
            f"{rate}[type]": "fixed_amount",
            f"{rate}[fixed_amount][amount]": "1500",
            f"{rate}[fixed_amount][currency]": "usd",
            f"{rate}[tax_behavior]": "exclusive",
            f"{rate}[tax_code]": "txcd_92010001",
            f"{rate}[delivery_estimate][minimum][unit]": "business_day",
            f"{rate}[delivery_estimate][minimum][value]": "1",
            f"{rate}[delivery_estimate][maximum][unit]": "business_day",
            f"{rate}[delivery_estimate][maximum][value]": "2",
        }
        assert body["metadata[amount_updater_shipping]"] == "express"
        sent = line_items_sent(update.calls.last.request.content)
        assert all("[metadata][shipping_rate_id]" not in line for line in sent)
        assert response.json()["shipping"] == {
            "rate_id": "express",
            "name": "Express Shipping",
            "amount": 1500,
        }

    @pytest.mark.asyncio
    async def test_discount_reprices_our_lines_only_and_records_the_code(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, cart_with_other_item
    ):
        update = mock_session(stripe_mock, cart_with_other_item)

        response = await client.put(
            f"/v1/checkout-sessions/{SID}/discount", json={"code": "save10"}, headers=token_for()
        )

        assert response.status_code == 200, response.text
        body = update.calls.last.request.content
        assert line_items_sent(body) == [
            {"[id]": "li_other"},  # not ours: kept as it is, not discounted
            {
                "[price_data][currency]": "usd",
                "[price_data][product_data][name]": "T-shirt",
                "[price_data][product_data][tax_code]": "txcd_99999999",
                "[price_data][tax_behavior]": "exclusive",
                "[price_data][unit_amount]": "2250",
                "[quantity]": "2",
                "[metadata][product_id]": "tshirt",
            },
        ]
        assert form(body)["metadata[amount_updater_discount]"] == "SAVE10"
        cart = response.json()
        assert cart["discount"] == {"code": "SAVE10", "amount": 500}
        assert cart["amount_discount"] == 500

    @pytest.mark.asyncio
    async def test_removing_the_discount_unsets_the_metadata_key(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        session = checkout_session(
            line_items=[product_line("tshirt", "T-shirt", 2250, 2, id="li_disc")],
            metadata={"amount_updater_discount": "SAVE10"},
        )
        update = mock_session(stripe_mock, session)

        response = await client.delete(f"/v1/checkout-sessions/{SID}/discount", headers=token_for())

        assert response.status_code == 200, response.text
        body = update.calls.last.request.content
        assert form(body)["metadata[amount_updater_discount]"] == ""
        assert line_items_sent(body)[0]["[price_data][unit_amount]"] == "2500"
        assert response.json()["discount"] is None


class TestCreate:
    @pytest.mark.asyncio
    async def test_creates_an_elements_session_priced_from_the_catalog(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        created = checkout_session(
            id="cs_test_new",
            line_items=[product_line("hoodie", "Hoodie", 5500, 1)],
            metadata={"amount_updater_rev": "1"},
        )
        create = stripe_mock.post("/v1/checkout/sessions").respond(200, json=created)

        response = await client.post(
            "/v1/checkout-sessions",
            json={"currency": "USD", "items": [{"product_id": "hoodie"}]},
        )

        assert response.status_code == 201, response.text
        body = form(create.calls.last.request.content)
        assert body["mode"] == "payment"
        assert body["ui_mode"] == "elements"
        assert body["currency"] == "usd"
        assert body["return_url"] == RETURN_URL
        assert "redirect_on_completion" not in body
        assert body["line_items[0][price_data][unit_amount]"] == "5500"
        assert body["line_items[0][metadata][product_id]"] == "hoodie"
        answer = response.json()
        assert answer["id"] == "cs_test_new"
        assert answer["client_secret"] == "cs_test_new_secret_test"
        assert answer["token_expires_at"] == created["expires_at"]
        assert answer["cart"]["amount_total"] == 5500
        # The token it hands out opens exactly this session.
        get = stripe_mock.get("/v1/checkout/sessions/cs_test_new").respond(200, json=created)
        auth = {"Authorization": f"Bearer {answer['token']}"}
        assert (await client.get("/v1/checkout-sessions/cs_test_new", headers=auth)).is_success
        assert get.called

    @pytest.mark.asyncio
    async def test_a_client_sent_price_is_refused_before_stripe(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.post(
            "/v1/checkout-sessions",
            json={"currency": "usd", "items": [{"product_id": "hoodie", "unit_amount": 1}]},
        )

        assert response.status_code == 422
        assert response.json()["code"] == "invalid_request"
        assert response.headers["content-type"] == "application/problem+json"
        assert not stripe_mock.calls


class TestAuthorization:
    @pytest.mark.asyncio
    async def test_no_proof_is_401(self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter):
        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items", json={"product_id": "mug"}
        )
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_a_token_for_another_session_is_403(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items",
            json={"product_id": "mug"},
            headers=token_for("cs_test_other"),
        )
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_an_expired_token_is_401(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.get(
            f"/v1/checkout-sessions/{SID}", headers=token_for(expires_at=NOW - 1)
        )
        assert response.status_code == 401
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_an_api_key_may_change_any_session(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, cart_with_other_item
    ):
        update = mock_session(stripe_mock, cart_with_other_item)
        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items",
            json={"product_id": "mug"},
            headers={"X-API-Key": API_KEY},
        )
        assert response.status_code == 200, response.text
        assert update.called

    @pytest.mark.asyncio
    async def test_a_wrong_api_key_is_401(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.get(
            f"/v1/checkout-sessions/{SID}", headers={"X-API-Key": "not-the-key-0000000"}
        )
        assert response.status_code == 401
        assert not stripe_mock.calls


class TestRefusals:
    """Every refusal answers a problem with a stable code and writes nothing to Stripe."""

    @pytest.mark.parametrize(
        ("status", "expires_at"),
        [("complete", NOW + 3600), ("expired", NOW - 10), ("open", NOW - 1)],
    )
    @pytest.mark.asyncio
    async def test_a_session_that_is_not_open_is_not_updatable(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, status, expires_at
    ):
        mock_session(stripe_mock, checkout_session(status=status, expires_at=expires_at))

        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items", json={"product_id": "mug"}, headers=token_for()
        )

        assert response.status_code == 409
        assert response.json()["code"] == "not_updatable"
        assert no_write(stripe_mock)

    @pytest.mark.asyncio
    async def test_a_hosted_page_session_is_not_updatable(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_session(stripe_mock, checkout_session(ui_mode="hosted_page"))
        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items", json={"product_id": "mug"}, headers=token_for()
        )
        assert response.status_code == 409
        assert no_write(stripe_mock)

    @pytest.mark.parametrize(
        ("path", "method", "payload", "code"),
        [
            ("/items", "post", {"product_id": "unicorn"}, "unknown_product"),
            ("/items", "post", {"product_id": "tshirt", "quantity": 9}, "quantity_limit_exceeded"),
            (
                "/items",
                "post",
                {"product_id": "gift_wrap", "quantity": 2},
                "quantity_limit_exceeded",
            ),
            ("/items", "post", {"product_id": "tshirt", "quantity": 0}, "invalid_request"),
            ("/items", "post", {"product_id": "tshirt", "price": 1}, "invalid_request"),
            ("/shipping", "put", {"shipping_rate_id": "teleport"}, "unknown_shipping_rate"),
            ("/discount", "put", {"code": "NOPE"}, "invalid_discount_code"),
            ("/cart", "put", {"items": [{"product_id": "stickers"}]}, "currency_not_supported"),
        ],
    )
    @pytest.mark.asyncio
    async def test_bad_changes_get_their_problem_code(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, path, method, payload, code
    ):
        session = checkout_session(
            currency="kwd",  # stickers have no kwd price
            line_items=[product_line("tshirt", "T-shirt", 7500, 2, currency="kwd")],
        )
        if code != "currency_not_supported":
            session = checkout_session(
                line_items=[product_line("tshirt", "T-shirt", 2500, 2, id="li_shirt")]
            )
        mock_session(stripe_mock, session)

        response = await client.request(
            method, f"/v1/checkout-sessions/{SID}{path}", json=payload, headers=token_for()
        )

        assert response.status_code == 422, response.text
        assert response.json()["code"] == code
        assert no_write(stripe_mock)

    @pytest.mark.asyncio
    async def test_discount_below_its_minimum_subtotal_is_refused(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_session(
            stripe_mock, checkout_session(line_items=[product_line("mug", "Mug", 1200, 1)])
        )
        response = await client.put(
            f"/v1/checkout-sessions/{SID}/discount", json={"code": "SAVE10"}, headers=token_for()
        )
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_discount_code"
        assert response.json()["min_subtotal"] == 2000
        assert no_write(stripe_mock)

    @pytest.mark.asyncio
    async def test_a_malformed_session_id_never_reaches_stripe(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.get("/v1/checkout-sessions/..%2Fcustomers", headers=token_for())
        assert response.status_code in (404, 422)
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_an_oversized_body_is_413(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.put(
            f"/v1/checkout-sessions/{SID}/cart",
            content=b'{"items": [' + b" " * 70_000 + b"]}",
            headers={**token_for(), "Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
        assert not stripe_mock.calls


class TestStripeFailures:
    @pytest.mark.asyncio
    async def test_unknown_session_is_404(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        stripe_mock.get(SESSION_URL).respond(
            404, json=stripe_error("resource_missing", "No such checkout.session: 'cs_test_a1'")
        )
        response = await client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert "cs_test_a1'" not in response.text  # Stripe's text is not passed through

    @pytest.mark.asyncio
    async def test_a_timeout_is_504(self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter):
        stripe_mock.get(SESSION_URL).mock(side_effect=httpx.ReadTimeout("slow"))
        response = await client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())
        assert response.status_code == 504
        assert response.json()["code"] == "stripe_timeout"

    @pytest.mark.asyncio
    async def test_a_connection_error_is_503(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        stripe_mock.get(SESSION_URL).mock(side_effect=httpx.ConnectError("refused"))
        response = await client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())
        assert response.status_code == 503
        assert response.json()["code"] == "stripe_unavailable"

    @pytest.mark.asyncio
    async def test_a_lock_timeout_is_503_with_retry_after(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, cart_with_other_item
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=cart_with_other_item)
        stripe_mock.post(SESSION_URL).respond(
            429, json=stripe_error("lock_timeout", "This object can't be accessed right now")
        )
        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items", json={"product_id": "mug"}, headers=token_for()
        )
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"

    @pytest.mark.asyncio
    async def test_a_refused_update_after_completion_is_409(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, cart_with_other_item
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=cart_with_other_item)
        stripe_mock.post(SESSION_URL).respond(
            400,
            json=stripe_error(
                "checkout_not_active_session", "This Checkout Session is no longer active."
            ),
        )
        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items", json={"product_id": "mug"}, headers=token_for()
        )
        assert response.status_code == 409
        assert response.json()["code"] == "not_updatable"

    @pytest.mark.asyncio
    async def test_a_rejected_stripe_key_is_502_without_the_key(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        stripe_mock.get(SESSION_URL).respond(
            401,
            json={
                "error": {
                    "type": "invalid_request_error",
                    "message": "Invalid API Key: sk_test_unit",
                }
            },
        )
        response = await client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())
        assert response.status_code == 502
        assert response.json()["code"] == "stripe_error"
        assert "sk_test" not in response.text
