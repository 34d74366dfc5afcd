from __future__ import annotations

import httpx
import pytest
import respx


class TestQuotes:
    @pytest.mark.asyncio
    async def test_prices_a_cart_from_the_catalog_without_calling_stripe(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.post(
            "/v1/quotes",
            json={
                "currency": "usd",
                "items": [{"product_id": "tshirt", "quantity": 3}, {"product_id": "gift_wrap"}],
                "shipping_rate_id": "standard",
                "discount_code": "FIVEOFF",
            },
        )

        assert response.status_code == 200, response.text
        assert response.json() == {
            "object": "quote",
            "id": None,
            "status": None,
            "currency": "usd",
            "expires_at": None,
            "items": [
                {
                    "product_id": "tshirt",
                    "name": "T-shirt",
                    "quantity": 3,
                    "unit_amount": 2500,
                    "amount": 7500,
                },
                {
                    "product_id": "gift_wrap",
                    "name": "Gift Wrap",
                    "quantity": 1,
                    "unit_amount": 500,
                    "amount": 500,
                },
            ],
            "other_items": [],
            "shipping": {"rate_id": "standard", "name": "Standard Shipping", "amount": 500},
            "shipping_address": None,
            "discount": {"code": "FIVEOFF", "amount": 500},
            "amount_subtotal": 8000,
            "amount_discount": 500,
            "amount_shipping": 500,
            "amount_tax": None,  # Stripe computes tax, and a quote asks no Stripe
            "tax_status": None,
            "amount_total": 8000,
        }
        assert not stripe_mock.calls

    @pytest.mark.parametrize(
        ("currency", "total"),
        [("usd", 2500 + 500), ("eur", 2300 + 450), ("jpy", 3500 + 700), ("kwd", 7500 + 1500)],
    )
    @pytest.mark.asyncio
    async def test_amounts_are_minor_units_of_each_currency(
        self, client: httpx.AsyncClient, currency, total
    ):
        response = await client.post(
            "/v1/quotes",
            json={
                "currency": currency,
                "items": [{"product_id": "tshirt"}, {"product_id": "gift_wrap"}],
            },
        )
        assert response.json()["amount_total"] == total

    @pytest.mark.asyncio
    async def test_an_unknown_currency_is_refused(self, client: httpx.AsyncClient):
        response = await client.post(
            "/v1/quotes", json={"currency": "xyz", "items": [{"product_id": "tshirt"}]}
        )
        assert response.status_code == 422
        assert response.json()["code"] == "currency_not_supported"


class TestCatalog:
    @pytest.mark.asyncio
    async def test_lists_products_and_shipping_in_a_currency_without_discount_codes(
        self, client: httpx.AsyncClient
    ):
        response = await client.get("/v1/catalog", params={"currency": "jpy"})

        assert response.status_code == 200
        listing = response.json()
        products = {p["id"]: p for p in listing["products"]}
        assert products["tshirt"] == {
            "id": "tshirt",
            "name": "T-shirt",
            "kind": "item",
            "unit_amount": 3500,
            "max_quantity": 10,
        }
        assert products["gift_wrap"]["max_quantity"] == 1
        assert {r["id"] for r in listing["shipping_rates"]} == {"standard", "express"}
        assert "SAVE10" not in response.text

    @pytest.mark.asyncio
    async def test_products_without_a_price_in_the_currency_are_left_out(
        self, client: httpx.AsyncClient
    ):
        response = await client.get("/v1/catalog", params={"currency": "kwd"})
        assert "stickers" not in {p["id"] for p in response.json()["products"]}


class TestHealth:
    @pytest.mark.asyncio
    async def test_healthz(self, client: httpx.AsyncClient):
        response = await client.get("/healthz")
        assert response.json() == {"status": "ok", "version": "0.1.0", "stripe": "test"}
