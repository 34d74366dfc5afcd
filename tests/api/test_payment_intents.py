"""PaymentIntent routes, Stripe mocked at the wire: amount and amount_details as sent."""

from __future__ import annotations

import httpx
import pytest
import respx

from amount_updater.auth.tokens import TokenSigner
from tests.conftest import API_KEY, TOKEN_SECRET
from tests.support.stripe_objects import NOW, form, payment_intent, stripe_error

PID = "pi_test_a1"
URL = f"/v1/payment_intents/{PID}"
OURS = {
    "amount_updater_cart": "tshirt:2",
    "amount_updater_shipping": "",
    "amount_updater_discount": "",
    "amount_updater_other": "0",
    "amount_updater_rev": "1",
}


def auth(object_id: str = PID) -> dict[str, str]:
    return {
        "Authorization": "Bearer " + TokenSigner(TOKEN_SECRET.encode()).mint(object_id, NOW + 60)
    }


def mock_intent(stripe_mock: respx.MockRouter, intent: dict):
    stripe_mock.get(URL).respond(200, json=intent)

    def answer(request: httpx.Request) -> httpx.Response:
        sent = form(request.content)
        return httpx.Response(200, json={**intent, "amount": int(sent["amount"])})

    return stripe_mock.post(URL).mock(side_effect=answer)


def no_write(stripe_mock: respx.MockRouter) -> bool:
    return not any(call.request.method == "POST" for call in stripe_mock.calls)


class TestCreate:
    @pytest.mark.asyncio
    async def test_amount_and_amount_details_add_up(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = stripe_mock.post("/v1/payment_intents").mock(
            side_effect=lambda request: httpx.Response(
                200,
                json=payment_intent(
                    amount=int(form(request.content)["amount"]),
                    metadata={
                        k[9:-1]: v
                        for k, v in form(request.content).items()
                        if k.startswith("metadata[")
                    },
                ),
            )
        )

        response = await client.post(
            "/v1/payment-intents",
            json={
                "currency": "usd",
                "items": [{"product_id": "tshirt", "quantity": 3}, {"product_id": "gift_wrap"}],
                "shipping_rate_id": "express",
                "discount_code": "SAVE10",
            },
        )

        assert response.status_code == 201, response.text
        body = form(create.calls.last.request.content)
        # 3 x 2500 - 3 x 250 + 500 - 50 + 1500 shipping
        assert body["amount"] == "8700"
        assert body["currency"] == "usd"
        assert body["automatic_payment_methods[enabled]"] == "true"
        assert {k: v for k, v in body.items() if k.startswith("amount_details")} == {
            "amount_details[line_items][0][product_name]": "T-shirt",
            "amount_details[line_items][0][product_code]": "tshirt",
            "amount_details[line_items][0][quantity]": "3",
            "amount_details[line_items][0][unit_cost]": "2500",
            "amount_details[line_items][0][discount_amount]": "750",
            "amount_details[line_items][1][product_name]": "Gift Wrap",
            "amount_details[line_items][1][product_code]": "gift_wrap",
            "amount_details[line_items][1][quantity]": "1",
            "amount_details[line_items][1][unit_cost]": "500",
            "amount_details[line_items][1][discount_amount]": "50",
            "amount_details[shipping][amount]": "1500",
        }
        assert body["metadata[amount_updater_cart]"] == "tshirt:3,gift_wrap:1"
        assert body["metadata[amount_updater_shipping]"] == "express"
        assert body["metadata[amount_updater_discount]"] == "SAVE10"
        answer = response.json()
        assert answer["client_secret"] == "pi_test_a1_secret_test"
        assert answer["cart"]["object"] == "payment_intent"
        assert answer["cart"]["amount_total"] == 8700
        assert answer["cart"]["other_items"] == []

    @pytest.mark.asyncio
    async def test_an_empty_cart_is_refused_in_the_shoppers_words_before_stripe(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.post("/v1/payment-intents", json={"currency": "usd", "items": []})
        assert response.status_code == 422
        assert response.json()["code"] == "cart_empty"
        assert response.json()["detail"].startswith("Your cart needs at least one item")
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_a_cart_below_stripes_minimum_is_refused_before_stripe(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        cart = {
            "currency": "usd",
            "items": [{"product_id": "stickers"}],
            "discount_code": "FIVEOFF",
        }
        response = await client.post("/v1/payment-intents", json=cart)
        assert response.status_code == 422
        assert response.json()["code"] == "amount_out_of_range"
        assert response.json()["minimum"] == 50
        assert not stripe_mock.calls


class TestChange:
    @pytest.mark.asyncio
    async def test_adding_an_item_updates_amount_details_and_metadata_together(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        update = mock_intent(stripe_mock, payment_intent(amount=5000, metadata=OURS))

        response = await client.post(
            f"/v1/payment-intents/{PID}/items", json={"product_id": "mug"}, headers=auth()
        )

        assert response.status_code == 200, response.text
        body = form(update.calls.last.request.content)
        assert body["amount"] == "6200"
        assert body["amount_details[line_items][1][product_name]"] == "Mug"
        assert body["amount_details[shipping]"] == ""  # unset: no shipping chosen
        assert body["amount_details[discount_amount]"] == ""
        assert body["metadata[amount_updater_cart]"] == "tshirt:2,mug:1"
        assert body["metadata[amount_updater_rev]"] == "2"
        assert update.calls.last.request.headers["Idempotency-Key"].startswith("au-pi-update-")
        assert response.json()["amount_total"] == 6200

    @pytest.mark.asyncio
    async def test_an_intent_created_elsewhere_is_adopted_with_its_amount_kept(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        update = mock_intent(stripe_mock, payment_intent(amount=4200, metadata={"order": "42"}))

        response = await client.post(
            f"/v1/payment-intents/{PID}/items",
            json={"product_id": "warranty"},
            headers={"X-API-Key": API_KEY},
        )

        assert response.status_code == 200, response.text
        body = form(update.calls.last.request.content)
        assert body["amount"] == str(4200 + 2000)
        assert body["metadata[amount_updater_other]"] == "4200"
        assert "metadata[order]" not in body  # the shop's own metadata is left alone
        assert body["amount_details[line_items][1][product_name]"] == "Amount before cart changes"
        assert body["amount_details[line_items][1][unit_cost]"] == "4200"
        cart = response.json()
        assert cart["amount_subtotal"] == 6200
        assert [i["product_id"] for i in cart["items"]] == ["warranty"]

    @pytest.mark.parametrize("status", ["processing", "requires_capture", "succeeded", "canceled"])
    @pytest.mark.asyncio
    async def test_non_updatable_statuses_are_refused_with_no_write(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, status
    ):
        mock_intent(stripe_mock, payment_intent(status=status, metadata=OURS))
        response = await client.post(
            f"/v1/payment-intents/{PID}/items", json={"product_id": "mug"}, headers=auth()
        )
        assert response.status_code == 409
        assert response.json()["code"] == "not_updatable"
        assert no_write(stripe_mock)

    @pytest.mark.asyncio
    async def test_removing_everything_is_refused_before_stripe(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_intent(stripe_mock, payment_intent(amount=5000, metadata=OURS))
        response = await client.delete(f"/v1/payment-intents/{PID}/items/tshirt", headers=auth())
        assert response.status_code == 422
        assert response.json()["code"] == "cart_empty"
        assert no_write(stripe_mock)

    @pytest.mark.asyncio
    async def test_a_session_token_does_not_open_an_intent(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.get(f"/v1/payment-intents/{PID}", headers=auth("cs_test_a1"))
        assert response.status_code == 403
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_stripe_refusing_the_state_is_409(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        stripe_mock.get(URL).respond(200, json=payment_intent(metadata=OURS))
        stripe_mock.post(URL).respond(
            400, json=stripe_error("payment_intent_unexpected_state", "moved on meanwhile")
        )
        response = await client.post(
            f"/v1/payment-intents/{PID}/items", json={"product_id": "mug"}, headers=auth()
        )
        assert response.status_code == 409


class TestTokens:
    @pytest.mark.asyncio
    async def test_an_api_key_mints_a_token_for_an_intent(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        stripe_mock.get(URL).respond(200, json=payment_intent(metadata={}))
        minted = await client.post(
            "/v1/tokens", json={"object_id": PID}, headers={"X-API-Key": API_KEY}
        )
        assert minted.status_code == 201, minted.text
        read = await client.get(
            f"/v1/payment-intents/{PID}",
            headers={"Authorization": f"Bearer {minted.json()['token']}"},
        )
        assert read.status_code == 200
        assert read.json()["amount_total"] == 2500


class TestUnreadableCart:
    """Metadata is input: a cart the service did not write reads as unreadable, answers 409
    `cart_unreadable` (nothing written), and `PUT .../cart` repairs it."""

    BAD_CARTS = [
        {"amount_updater_cart": "tshirt:\u00b2"},  # a digit to str.isdigit(), not to int()
        {"amount_updater_cart": "tshirt:99999999999999999999"},
        {"amount_updater_cart": "tshirt:0"},
        {"amount_updater_cart": "tshirt:-1"},
        {"amount_updater_cart": "tshirt:2,mug"},
        {"amount_updater_cart": "TSHIRT:1"},
        {"amount_updater_cart": "tshirt:600,tshirt:600"},  # 1,200 over the API's 999
        {"amount_updater_other": "12.5"},
        {"amount_updater_other": "\u0661\u0662"},  # Arabic-Indic digits
    ]

    @pytest.mark.asyncio
    @pytest.mark.parametrize("bad", BAD_CARTS)
    async def test_reading_it_is_409_cart_unreadable(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, bad: dict[str, str]
    ):
        mock_intent(stripe_mock, payment_intent(amount=5000, metadata={**OURS, **bad}))

        response = await client.get(f"/v1/payment-intents/{PID}", headers=auth())

        assert response.status_code == 409, response.text
        assert response.json()["code"] == "cart_unreadable"

    @pytest.mark.asyncio
    @pytest.mark.parametrize("bad", BAD_CARTS)
    async def test_a_change_is_409_and_writes_nothing(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, bad: dict[str, str]
    ):
        mock_intent(stripe_mock, payment_intent(amount=5000, metadata={**OURS, **bad}))

        response = await client.post(
            f"/v1/payment-intents/{PID}/items", json={"product_id": "mug"}, headers=auth()
        )

        assert response.status_code == 409, response.text
        assert response.json()["code"] == "cart_unreadable"
        assert no_write(stripe_mock)

    @pytest.mark.asyncio
    async def test_replacing_the_whole_cart_repairs_it(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        bad = {**OURS, "amount_updater_cart": "tshirt:\u00b2"}
        write = mock_intent(stripe_mock, payment_intent(amount=5000, metadata=bad))

        response = await client.put(
            f"/v1/payment-intents/{PID}/cart",
            json={"items": [{"product_id": "mug", "quantity": 2}]},
            headers=auth(),
        )

        assert response.status_code == 200, response.text
        sent = form(write.calls.last.request.content)
        assert sent["metadata[amount_updater_cart]"] == "mug:2"
        assert sent["amount"] == "2400"
        assert response.json()["amount_total"] == 2400
