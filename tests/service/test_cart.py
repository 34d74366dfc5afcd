from __future__ import annotations

import pytest

from amount_updater.catalog.repository import CatalogRepository, parse_catalog
from amount_updater.pricing import CartLine
from amount_updater.service.cart import (
    DISCOUNT_KEY,
    PRODUCT_KEY,
    REVISION_KEY,
    SHIPPING_KEY,
    OtherItem,
    SessionCart,
)
from amount_updater.stripe_gateway import CheckoutSession, StripeLineItem

CATALOG_TOML = """
[products.tshirt]
name = "T-shirt"
prices = { usd = 2500, eur = 2300 }

[products.mug]
name = "Mug"
prices = { usd = 1200 }

[shipping.standard]
name = "Standard Shipping"
prices = { usd = 500, eur = 450 }

[shipping.express]
name = "Express Shipping"
prices = { usd = 1500 }
"""


@pytest.fixture(scope="module")
def repo() -> CatalogRepository:
    return CatalogRepository(parse_catalog(CATALOG_TOML, "test"))


def item(
    line_id: str, unit_amount: int, quantity: int = 1, description: str = "", **metadata: str
) -> StripeLineItem:
    return StripeLineItem(
        id=line_id,
        description=description or line_id,
        quantity=quantity,
        unit_amount=unit_amount,
        amount_subtotal=unit_amount * quantity,
        metadata=metadata,
    )


def product_item(line_id: str, product_id: str, unit_amount: int, quantity: int = 1):
    return item(line_id, unit_amount, quantity, **{PRODUCT_KEY: product_id})


def shipping_item(line_id: str, rate_id: str, unit_amount: int):
    return item(line_id, unit_amount, **{SHIPPING_KEY: rate_id})


def session(*line_items: StripeLineItem, currency: str = "usd", **metadata: str):
    return CheckoutSession(
        id="cs_test_1",
        status="open",
        currency=currency,
        expires_at=1_800_000_000,
        ui_mode="custom",
        mode="payment",
        amount_subtotal=sum(li.amount_subtotal for li in line_items),
        amount_total=sum(li.amount_subtotal for li in line_items),
        metadata=metadata,
        client_secret=None,
        line_items=line_items,
    )


def test_line_tagged_with_a_catalog_product_is_a_product_line(repo):
    line = product_item("li_1", "tshirt", 2500, 2)
    cart = SessionCart.read(session(line), repo)
    assert cart.product_lines == (line,)
    assert cart.selection.items == (CartLine("tshirt", 2),)


def test_line_tagged_with_a_shipping_rate_is_the_shipping_line(repo):
    line = shipping_item("li_1", "express", 1500)
    cart = SessionCart.read(session(line), repo)
    assert cart.shipping_lines == (line,)
    assert cart.selection.shipping_rate_id == "express"


def test_untagged_line_is_another_line(repo):
    line = item("li_1", 900, description="Donation")
    cart = SessionCart.read(session(line), repo)
    assert cart.other_lines == (line,)
    assert cart.selection.items == ()


def test_line_of_a_product_no_longer_in_the_catalog_is_another_line(repo):
    line = product_item("li_1", "hoodie", 5500)
    cart = SessionCart.read(session(line), repo)
    assert (cart.product_lines, cart.other_lines) == ((), (line,))


def test_line_of_a_product_without_a_price_in_the_currency_is_another_line(repo):
    line = product_item("li_1", "mug", 1100)
    cart = SessionCart.read(session(line, currency="eur"), repo)
    assert (cart.product_lines, cart.other_lines) == ((), (line,))


def test_line_of_an_unknown_shipping_rate_is_another_line(repo):
    line = shipping_item("li_1", "teleport", 100)
    cart = SessionCart.read(session(line), repo)
    assert (cart.shipping_lines, cart.other_lines) == ((), (line,))
    assert cart.selection.shipping_rate_id is None


def test_shipping_rate_without_a_price_in_the_currency_is_another_line(repo):
    line = shipping_item("li_1", "express", 1400)
    cart = SessionCart.read(session(line, currency="eur"), repo)
    assert (cart.shipping_lines, cart.other_lines) == ((), (line,))


def test_line_tagged_with_both_product_and_shipping_counts_as_product(repo):
    line = item("li_1", 2500, **{PRODUCT_KEY: "tshirt", SHIPPING_KEY: "standard"})
    cart = SessionCart.read(session(line), repo)
    assert (cart.product_lines, cart.shipping_lines) == ((line,), ())


def test_tranches_of_one_product_add_up_to_one_selection_line(repo):
    cart = SessionCart.read(
        session(product_item("li_1", "tshirt", 2250, 2), product_item("li_2", "tshirt", 2249, 1)),
        repo,
    )
    assert cart.selection.items == (CartLine("tshirt", 3),)
    assert len(cart.product_lines) == 2


def test_selection_keeps_the_order_of_first_appearance(repo):
    cart = SessionCart.read(
        session(
            product_item("li_1", "mug", 1200),
            product_item("li_2", "tshirt", 2500),
            product_item("li_3", "mug", 1200),
        ),
        repo,
    )
    assert cart.selection.items == (CartLine("mug", 2), CartLine("tshirt", 1))


def test_first_shipping_line_gives_the_selected_rate(repo):
    cart = SessionCart.read(
        session(shipping_item("li_1", "standard", 500), shipping_item("li_2", "express", 1500)),
        repo,
    )
    assert cart.selection.shipping_rate_id == "standard"
    assert len(cart.shipping_lines) == 2


def test_all_lines_keep_the_session_order(repo):
    lines = (
        item("li_1", 900),
        shipping_item("li_2", "standard", 500),
        product_item("li_3", "tshirt", 2500),
        item("li_4", 100),
    )
    cart = SessionCart.read(session(*lines), repo)
    assert cart.all_lines == lines
    assert [li.id for li in cart.other_lines] == ["li_1", "li_4"]


def test_recorded_discount_code_is_read_from_session_metadata(repo):
    cart = SessionCart.read(session(**{DISCOUNT_KEY: "SAVE10"}), repo)
    assert cart.selection.discount_code == "SAVE10"


def test_empty_recorded_discount_code_means_none(repo):
    assert SessionCart.read(session(**{DISCOUNT_KEY: ""}), repo).selection.discount_code is None


def test_revision_is_read_from_session_metadata(repo):
    assert SessionCart.read(session(**{REVISION_KEY: "7"}), repo).revision == 7


def test_missing_revision_is_zero(repo):
    assert SessionCart.read(session(), repo).revision == 0


def test_unreadable_revision_is_zero(repo):
    assert SessionCart.read(session(**{REVISION_KEY: "seven"}), repo).revision == 0


def test_other_items_describe_the_other_lines(repo):
    cart = SessionCart.read(
        session(item("li_1", 900, 2, description="Donation"), product_item("li_2", "mug", 1200)),
        repo,
    )
    assert cart.other_items == (OtherItem("li_1", "Donation", 2, 1800),)


def test_other_subtotal_sums_the_other_lines_only(repo):
    cart = SessionCart.read(
        session(
            item("li_1", 900, 2),
            product_item("li_2", "mug", 1200),
            shipping_item("li_3", "standard", 500),
            product_item("li_4", "hoodie", 5500),
        ),
        repo,
    )
    assert cart.other_subtotal == 1800 + 5500


def test_empty_session_reads_as_an_empty_cart(repo):
    cart = SessionCart.read(session(), repo)
    assert (cart.all_lines, cart.other_subtotal, cart.selection.items) == ((), 0, ())
