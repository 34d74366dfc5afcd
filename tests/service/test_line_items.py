from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amount_updater.catalog.models import Catalog
from amount_updater.catalog.repository import CatalogRepository, parse_catalog
from amount_updater.errors import TooManyLineItems
from amount_updater.pricing import (
    CartRules,
    Charge,
    PricedCart,
    PricedLine,
    PricedShipping,
    Selection,
    price_cart,
)
from amount_updater.service.cart import PRODUCT_KEY, SHIPPING_KEY, SHIPPING_RATE_KEY, SessionCart
from amount_updater.service.line_items import (
    MAX_LINE_ITEMS,
    new_lines,
    plan_line_items,
    shipping_option,
)
from amount_updater.stripe_gateway import CheckoutSession, KeepLine, LineWrite, NewLine
from amount_updater.stripe_gateway.models import ShippingOption, StripeLineItem, Taxability

NOW = datetime(2026, 11, 26, tzinfo=UTC)

CATALOG_TOML = """
[tax]
behavior = "exclusive"

[products.tshirt]
name = "T-shirt"
prices = { usd = 2500 }
tax_code = "txcd_99999999"

[products.mug]
name = "Mug"
prices = { usd = 1200 }
tax_code = "txcd_30011000"

[products.thousand]
name = "Thousand"
prices = { usd = 1000 }

[shipping.standard]
name = "Standard Shipping"
prices = { usd = 500 }
tax_code = "txcd_92010001"
countries = ["US", "CA"]
delivery_estimate = { minimum = 3, maximum = 5 }

[shipping.express]
name = "Express Shipping"
prices = { usd = 1500 }
delivery_estimate = { minimum = 1, maximum = 2, unit = "day" }

[shipping.pickup]
name = "Pickup"
prices = { usd = 0 }
tax_code = "txcd_92010001"

[discounts.OFF499]
amount_off = { usd = 499 }
"""

# The catalog's tax codes (the thousand has none: Stripe uses the account's default).
TAX_CODES = {"tshirt": "txcd_99999999", "mug": "txcd_30011000", "thousand": None}


@pytest.fixture(scope="module")
def repo() -> CatalogRepository:
    return CatalogRepository(parse_catalog(CATALOG_TOML, "test"))


def repo_of(text: str) -> CatalogRepository:
    return CatalogRepository(parse_catalog(text, "test"))


def item(line_id: str, unit_amount: int, quantity: int = 1, **metadata: str) -> StripeLineItem:
    return StripeLineItem(
        id=line_id,
        description=line_id,
        quantity=quantity,
        unit_amount=unit_amount,
        amount_subtotal=unit_amount * quantity,
        metadata=metadata,
    )


def product_item(line_id: str, product_id: str, unit_amount: int, quantity: int = 1):
    return item(line_id, unit_amount, quantity, **{PRODUCT_KEY: product_id})


def shipping_item(line_id: str, rate_id: str, unit_amount: int, quantity: int = 1):
    """A shipping line item as sessions written before shipping options carry it."""
    return item(line_id, unit_amount, quantity, **{SHIPPING_KEY: rate_id})


def checkout_session(
    line_items: Iterable[StripeLineItem],
    currency: str = "usd",
    metadata: Mapping[str, str] | None = None,
):
    lines = tuple(line_items)
    return CheckoutSession(
        id="cs_test_1",
        status="open",
        currency=currency,
        expires_at=1_800_000_000,
        ui_mode="custom",
        mode="payment",
        amount_subtotal=sum(li.amount_subtotal for li in lines),
        amount_total=sum(li.amount_subtotal for li in lines),
        metadata=metadata or {},
        client_secret=None,
        line_items=lines,
    )


def read(repo: CatalogRepository, *line_items: StripeLineItem) -> SessionCart:
    return SessionCart.read(checkout_session(line_items), repo)


def target(repo, items, shipping=None, code=None, currency="usd") -> PricedCart:
    selection = Selection.of(items, shipping_rate_id=shipping, discount_code=code)
    return price_cart(repo.rules(currency, NOW), selection)


def product_new(
    name: str,
    product_id: str,
    unit_amount: int,
    quantity: int = 1,
    tax: Taxability | None = None,
) -> NewLine:
    """A new line as the service writes it for `product_id` of the test catalog."""
    if tax is None:
        tax = Taxability(TAX_CODES.get(product_id), "exclusive")
    return NewLine(name, unit_amount, quantity, {PRODUCT_KEY: product_id}, tax)


def shipping_lines_in(writes: Iterable[LineWrite]) -> list[NewLine]:
    return [w for w in writes if isinstance(w, NewLine) and SHIPPING_KEY in w.metadata]


# --- plan_line_items: examples ----------------------------------------------------------------


def test_unchanged_cart_keeps_every_line_and_is_not_a_change(repo):
    cart = read(repo, product_item("li_1", "tshirt", 2500), item("li_other", 900))
    plan = plan_line_items(cart, target(repo, [("tshirt", 1)]), repo)
    assert plan.writes == (KeepLine("li_1"), KeepLine("li_other"))
    assert not plan.changed


def test_chosen_shipping_is_no_line_and_no_line_change(repo):
    # Shipping is the session's shipping option (SessionKind.plan decides on it), never a line.
    cart = read(repo, product_item("li_1", "tshirt", 2500))
    plan = plan_line_items(cart, target(repo, [("tshirt", 1)], "standard"), repo)
    assert plan.writes == (KeepLine("li_1"),)
    assert not plan.changed


def test_other_lines_are_kept_by_id_in_place(repo):
    cart = read(
        repo,
        item("li_other1", 900),
        product_item("li_1", "tshirt", 2500),
        item("li_other2", 100, 3),
    )
    plan = plan_line_items(cart, target(repo, []), repo)
    assert plan.writes == (KeepLine("li_other1"), KeepLine("li_other2"))
    assert plan.changed


def test_other_lines_are_retransmitted_even_when_nothing_else_changes(repo):
    plan = plan_line_items(read(repo, item("li_other", 900)), target(repo, []), repo)
    assert plan.writes == (KeepLine("li_other"),)
    assert not plan.changed


def test_new_quantity_at_the_same_price_keeps_the_line_by_id(repo):
    cart = read(repo, product_item("li_1", "tshirt", 2500, 1))
    plan = plan_line_items(cart, target(repo, [("tshirt", 3)]), repo)
    assert plan.writes == (KeepLine("li_1", 3),)
    assert plan.changed


def test_repriced_line_is_dropped_and_added_again(repo):
    cart = read(repo, product_item("li_1", "tshirt", 2000, 2))
    plan = plan_line_items(cart, target(repo, [("tshirt", 2)]), repo)
    assert plan.writes == (product_new("T-shirt", "tshirt", 2500, 2),)
    assert plan.changed


def test_removed_product_line_is_omitted(repo):
    cart = read(repo, product_item("li_1", "tshirt", 2500), product_item("li_2", "mug", 1200))
    plan = plan_line_items(cart, target(repo, [("mug", 1)]), repo)
    assert plan.writes == (KeepLine("li_2"),)
    assert plan.changed


def test_new_product_is_added_after_the_kept_lines(repo):
    cart = read(repo, product_item("li_1", "tshirt", 2500), item("li_other", 900))
    plan = plan_line_items(cart, target(repo, [("tshirt", 1), ("mug", 2)]), repo)
    assert plan.writes == (
        KeepLine("li_1"),
        KeepLine("li_other"),
        product_new("Mug", "mug", 1200, 2),
    )
    assert plan.changed


# --- plan_line_items: the shipping line of an older session -----------------------------------


def test_legacy_shipping_line_is_dropped_and_the_plan_is_a_change(repo):
    # The same cart as before, shipping and all: only the shipping line's form is out of date.
    cart = read(repo, product_item("li_1", "tshirt", 2500), shipping_item("li_2", "standard", 500))
    plan = plan_line_items(cart, target(repo, [("tshirt", 1)], "standard"), repo)
    assert plan.writes == (KeepLine("li_1"),)
    assert plan.changed


def test_legacy_shipping_line_is_read_as_the_carts_shipping(repo):
    # What lets SessionKind.plan send the same rate as the option that replaces the line.
    cart = read(repo, product_item("li_1", "mug", 1200), shipping_item("li_ship", "express", 1500))
    assert cart.selection.shipping_rate_id == "express"
    assert [li.id for li in cart.shipping_lines] == ["li_ship"]
    assert [li.id for li in cart.other_lines] == []


def test_shipping_recorded_in_session_metadata_is_the_carts_shipping(repo):
    session = checkout_session(
        [product_item("li_1", "mug", 1200)], metadata={SHIPPING_RATE_KEY: "express"}
    )
    cart = SessionCart.read(session, repo)
    assert cart.selection.shipping_rate_id == "express"
    assert cart.shipping_lines == ()
    plan = plan_line_items(cart, target(repo, [("mug", 1)], "express"), repo)
    assert plan.writes == (KeepLine("li_1"),)
    assert not plan.changed


def test_legacy_shipping_line_anywhere_is_dropped_and_the_rest_keeps_its_order(repo):
    cart = read(
        repo,
        shipping_item("li_ship", "standard", 500),
        item("li_other", 900),
        product_item("li_1", "tshirt", 2500),
    )
    plan = plan_line_items(cart, target(repo, [("tshirt", 1), ("mug", 1)], "standard"), repo)
    assert plan.writes == (
        KeepLine("li_other"),
        KeepLine("li_1"),
        product_new("Mug", "mug", 1200),
    )
    assert plan.changed


def test_new_shipping_rate_drops_the_legacy_line_and_adds_no_line(repo):
    cart = read(repo, product_item("li_1", "mug", 1200), shipping_item("li_ship", "standard", 500))
    plan = plan_line_items(cart, target(repo, [("mug", 1)], "express"), repo)
    assert plan.writes == (KeepLine("li_1"),)
    assert shipping_lines_in(plan.writes) == []
    assert plan.changed


@pytest.mark.parametrize(
    ("unit_amount", "quantity"),
    [(500, 1), (400, 1), (500, 2)],
    ids=["current", "repriced", "quantity-2"],
)
def test_legacy_shipping_line_is_dropped_whatever_it_charges(repo, unit_amount, quantity):
    cart = read(repo, shipping_item("li_ship", "standard", unit_amount, quantity))
    plan = plan_line_items(cart, target(repo, [], "standard"), repo)
    assert plan.writes == ()
    assert plan.changed


def test_shipping_removed_from_the_cart_drops_the_legacy_line(repo):
    cart = read(repo, product_item("li_1", "mug", 1200), shipping_item("li_ship", "standard", 500))
    plan = plan_line_items(cart, target(repo, [("mug", 1)]), repo)
    assert plan.writes == (KeepLine("li_1"),)
    assert plan.changed


def test_duplicate_legacy_shipping_lines_are_all_dropped(repo):
    cart = read(
        repo, shipping_item("li_ship1", "standard", 500), shipping_item("li_ship2", "standard", 500)
    )
    plan = plan_line_items(cart, target(repo, [], "standard"), repo)
    assert plan.writes == ()
    assert plan.changed


def test_shipping_line_of_a_rate_gone_from_the_catalog_is_kept_as_another_line(repo):
    # Not a rate the service can price: somebody else's line, kept as it is.
    cart = read(repo, product_item("li_1", "mug", 1200), shipping_item("li_gone", "teleport", 900))
    plan = plan_line_items(cart, target(repo, [("mug", 1)], "standard"), repo)
    assert plan.writes == (KeepLine("li_1"), KeepLine("li_gone"))
    assert not plan.changed


def test_shipping_added_to_an_empty_session_writes_no_line(repo):
    plan = plan_line_items(read(repo), target(repo, [], "standard"), repo)
    assert plan.writes == ()
    assert not plan.changed


def test_empty_session_and_empty_cart_is_not_a_change(repo):
    plan = plan_line_items(read(repo), target(repo, []), repo)
    assert plan.writes == ()
    assert not plan.changed


def test_split_line_keeps_the_matching_tranche_and_adds_the_other(repo):
    # 3 x 1000 - 499 = 2 x 834 + 1 x 833
    cart = read(repo, product_item("li_1", "thousand", 834, 2))
    plan = plan_line_items(cart, target(repo, [("thousand", 3)], code="OFF499"), repo)
    assert plan.writes == (KeepLine("li_1"), product_new("Thousand", "thousand", 833, 1))
    assert plan.changed


def test_two_lines_at_the_same_price_are_merged_into_the_first(repo):
    cart = read(repo, product_item("li_1", "mug", 1200), product_item("li_2", "mug", 1200))
    plan = plan_line_items(cart, target(repo, [("mug", 2)]), repo)
    assert plan.writes == (KeepLine("li_1", 2),)
    assert plan.changed


def test_line_of_a_product_gone_from_the_catalog_is_kept_as_another_line(repo):
    cart = read(repo, product_item("li_1", "hoodie", 5500))
    plan = plan_line_items(cart, target(repo, []), repo)
    assert plan.writes == (KeepLine("li_1"),)
    assert not plan.changed


def test_exactly_the_stripe_limit_of_line_items_is_allowed(repo):
    others = [item(f"li_{i}", 100) for i in range(MAX_LINE_ITEMS - 1)]
    plan = plan_line_items(read(repo, *others), target(repo, [("mug", 1)]), repo)
    assert len(plan.writes) == MAX_LINE_ITEMS


def test_a_dropped_legacy_shipping_line_does_not_count_towards_the_limit(repo):
    others = [item(f"li_{i}", 100) for i in range(MAX_LINE_ITEMS - 1)]
    cart = read(repo, *others, shipping_item("li_ship", "standard", 500))
    plan = plan_line_items(cart, target(repo, [("mug", 1)], "standard"), repo)
    assert len(plan.writes) == MAX_LINE_ITEMS
    assert KeepLine("li_ship") not in plan.writes


def test_more_than_100_line_items_is_refused(repo):
    others = [item(f"li_{i}", 100) for i in range(MAX_LINE_ITEMS)]
    with pytest.raises(TooManyLineItems, match="101"):
        plan_line_items(read(repo, *others), target(repo, [("mug", 1)]), repo)


def test_other_lines_alone_may_not_exceed_the_limit(repo):
    others = [item(f"li_{i}", 100) for i in range(MAX_LINE_ITEMS + 1)]
    with pytest.raises(TooManyLineItems):
        plan_line_items(read(repo, *others), target(repo, []), repo)


# --- tax codes and behaviour on new lines -----------------------------------------------------


def test_new_line_carries_the_products_tax_code_and_the_catalogs_behaviour(repo):
    (line,) = new_lines(target(repo, [("tshirt", 2)]), repo)
    assert line.tax == Taxability("txcd_99999999", "exclusive")


def test_new_line_of_a_product_without_tax_code_has_the_behaviour_only(repo):
    (line,) = new_lines(target(repo, [("thousand", 1)]), repo)
    assert line.tax == Taxability(None, "exclusive")


def test_inclusive_behaviour_is_carried_to_every_line():
    inclusive = repo_of(CATALOG_TOML.replace('"exclusive"', '"inclusive"'))
    lines = new_lines(target(inclusive, [("tshirt", 1), ("thousand", 1)]), inclusive)
    assert [line.tax for line in lines] == [
        Taxability("txcd_99999999", "inclusive"),
        Taxability(None, "inclusive"),
    ]


def test_catalog_without_tax_settings_leaves_the_accounts_defaults():
    plain = repo_of('[products.mug]\nname = "Mug"\nprices = { usd = 1200 }\n')
    (line,) = new_lines(target(plain, [("mug", 1)]), plain)
    assert line.tax == Taxability()
    assert line.tax == Taxability(None, None)


def test_a_repriced_line_in_a_plan_carries_its_tax_code(repo):
    cart = read(repo, product_item("li_1", "mug", 1000, 1))
    (line,) = plan_line_items(cart, target(repo, [("mug", 1)]), repo).writes
    assert isinstance(line, NewLine)
    assert line.tax == Taxability("txcd_30011000", "exclusive")


def test_a_split_tranche_carries_the_tax_code_of_its_product(repo):
    lines = new_lines(target(repo, [("thousand", 3), ("mug", 1)], code="OFF499"), repo)
    assert {(line.metadata[PRODUCT_KEY], line.tax) for line in lines} == {
        ("thousand", Taxability(None, "exclusive")),
        ("mug", Taxability("txcd_30011000", "exclusive")),
    }


# --- new_lines --------------------------------------------------------------------------------


def test_new_lines_lists_every_charge_and_no_shipping(repo):
    priced = target(repo, [("thousand", 3), ("mug", 1)], "express", code="OFF499")
    assert [(line.product_id, line.discount) for line in priced.lines] == [
        ("thousand", 356),
        ("mug", 143),
    ]
    assert new_lines(priced, repo) == [
        product_new("Thousand", "thousand", 882, 1),
        product_new("Thousand", "thousand", 881, 2),
        product_new("Mug", "mug", 1057, 1),
    ]


def test_new_lines_without_shipping_are_the_product_lines(repo):
    assert new_lines(target(repo, [("mug", 2)]), repo) == [product_new("Mug", "mug", 1200, 2)]


def test_new_lines_of_a_cart_with_shipping_only_is_empty(repo):
    assert new_lines(target(repo, [], "standard"), repo) == []


def test_new_lines_of_an_empty_cart_is_empty(repo):
    assert new_lines(target(repo, []), repo) == []


def many_lines(count: int, shipping: bool) -> PricedCart:
    lines = tuple(
        PricedLine(f"p{i}", f"P{i}", 1, 100, 100, 0, (Charge(100, 1),)) for i in range(count)
    )
    rate = PricedShipping("standard", "Standard", 500) if shipping else None
    return PricedCart("usd", lines, rate, None, 100 * count, 0)


def test_new_lines_allows_exactly_100_product_lines_with_shipping(repo):
    # Shipping is an option, not a line: it does not count towards Stripe's 100.
    lines = new_lines(many_lines(MAX_LINE_ITEMS, shipping=True), repo)
    assert len(lines) == MAX_LINE_ITEMS
    assert shipping_lines_in(lines) == []


def test_new_lines_refuses_101_product_lines(repo):
    with pytest.raises(TooManyLineItems, match="101"):
        new_lines(many_lines(MAX_LINE_ITEMS + 1, shipping=False), repo)


def test_new_line_of_a_product_not_in_the_catalog_has_no_tax_code(repo):
    (line,) = new_lines(many_lines(1, shipping=False), repo)
    assert line == NewLine("P0", 100, 1, {PRODUCT_KEY: "p0"}, Taxability(None, "exclusive"))


# --- shipping_option --------------------------------------------------------------------------


def test_shipping_option_of_a_rate_with_tax_code_and_delivery_estimate(repo):
    option = shipping_option(target(repo, [("mug", 1)], "standard"), repo)
    assert option == ShippingOption(
        "Standard Shipping",
        500,
        Taxability("txcd_92010001", "exclusive"),
        (3, 5, "business_day"),  # the catalog's default unit
    )


def test_shipping_option_keeps_the_estimates_unit(repo):
    option = shipping_option(target(repo, [("mug", 1)], "express"), repo)
    assert option is not None
    assert option.delivery_estimate == (1, 2, "day")


def test_shipping_option_of_a_rate_without_tax_code_has_the_behaviour_only(repo):
    option = shipping_option(target(repo, [("mug", 1)], "express"), repo)
    assert option is not None
    assert option.tax == Taxability(None, "exclusive")


def test_shipping_option_of_a_rate_without_delivery_estimate(repo):
    option = shipping_option(target(repo, [("mug", 1)], "pickup"), repo)
    assert option == ShippingOption("Pickup", 0, Taxability("txcd_92010001", "exclusive"), None)


def test_shipping_option_is_none_without_shipping(repo):
    assert shipping_option(target(repo, [("mug", 1)]), repo) is None
    assert shipping_option(target(repo, []), repo) is None


def test_shipping_option_is_never_discounted(repo):
    option = shipping_option(target(repo, [("thousand", 3)], "express", code="OFF499"), repo)
    assert option is not None
    assert option.amount == 1500


def test_shipping_option_of_a_cart_with_shipping_only(repo):
    option = shipping_option(target(repo, [], "standard"), repo)
    assert option is not None
    assert (option.name, option.amount) == ("Standard Shipping", 500)


def test_shipping_option_in_a_catalog_without_tax_settings():
    plain = repo_of(
        '[products.mug]\nname = "Mug"\nprices = { usd = 1200 }\n'
        '[shipping.post]\nname = "Post"\nprices = { usd = 700 }\n'
    )
    option = shipping_option(target(plain, [("mug", 1)], "post"), plain)
    assert option == ShippingOption("Post", 700, Taxability(None, None), None)


def test_shipping_option_of_a_rate_not_in_the_catalog_keeps_name_and_amount(repo):
    priced = many_lines(1, shipping=False)
    priced = PricedCart(
        "usd", priced.lines, PricedShipping("teleport", "Teleport", 900), None, 100, 0
    )
    assert shipping_option(priced, repo) == ShippingOption(
        "Teleport", 900, Taxability(None, "exclusive"), None
    )


# --- Round trip through a simulated Stripe ----------------------------------------------------


@dataclass(frozen=True)
class SessionLine:
    id: str | None  # None for a line Stripe has just created
    unit_amount: int | None
    quantity: int
    metadata: Mapping[str, str]


def apply_like_stripe(
    current: Iterable[StripeLineItem], writes: Iterable[LineWrite]
) -> list[SessionLine]:
    """Stripe's `line_items` update replaces the whole array: a listed id is kept (with its new
    quantity if one is given), an omitted id is deleted, a price_data entry is created."""
    existing = {li.id: li for li in current}
    kept: set[str] = set()
    result = []
    for write in writes:
        if isinstance(write, KeepLine):
            assert write.id in existing, f"{write.id} is not in the session"
            assert write.id not in kept, f"{write.id} is listed twice"
            assert write.quantity is None or write.quantity >= 1
            kept.add(write.id)
            old = existing[write.id]
            quantity = old.quantity if write.quantity is None else write.quantity
            result.append(SessionLine(old.id, old.unit_amount, quantity, old.metadata))
        else:
            assert write.quantity >= 1
            assert write.unit_amount >= 0
            result.append(SessionLine(None, write.unit_amount, write.quantity, write.metadata))
    return result


def as_stripe_items(lines: list[SessionLine]) -> tuple[StripeLineItem, ...]:
    fresh = (f"li_new{n}" for n in itertools.count())
    return tuple(
        StripeLineItem(
            id=line.id or next(fresh),
            description="",
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            amount_subtotal=(line.unit_amount or 0) * line.quantity,
            metadata=line.metadata,
        )
        for line in lines
    )


def is_no_op(current: SessionCart, writes: tuple[LineWrite, ...]) -> bool:
    return all(isinstance(w, KeepLine) and w.quantity is None for w in writes) and {
        w.id for w in writes if isinstance(w, KeepLine)
    } == {li.id for li in current.all_lines}


CURRENCIES = ("usd", "eur", "jpy", "kwd")
PRODUCT_IDS = ("p0", "p1", "p2", "p3")
RATE_IDS = ("s0", "s1")
TAX_CODE_CHOICES = (None, "txcd_99999999", "txcd_30011000")


def increment_of(currency: str) -> int:
    return 10 if currency == "kwd" else 1


@dataclass(frozen=True)
class RoundTrip:
    catalog: Catalog
    currency: str
    current: tuple[StripeLineItem, ...]
    selection: Selection

    @property
    def repo(self) -> CatalogRepository:
        return CatalogRepository(self.catalog)


def with_tax_code(entry: dict[str, Any], tax_code: str | None) -> dict[str, Any]:
    return entry if tax_code is None else {**entry, "tax_code": tax_code}


@st.composite
def round_trips(draw) -> RoundTrip:
    currency = draw(st.sampled_from(CURRENCIES))
    step = increment_of(currency)
    amount = st.integers(0, 100_000).map(lambda n: n * step)
    tax_code = st.sampled_from(TAX_CODE_CHOICES)
    products: dict[str, Any] = {
        pid: with_tax_code(
            {"id": pid, "name": pid.upper(), "prices": {currency: draw(amount)}}, draw(tax_code)
        )
        for pid in PRODUCT_IDS
    }
    # A product the session's currency can't price: its lines belong to somebody else.
    products["foreign"] = {"id": "foreign", "name": "Foreign", "prices": {"chf": 100}}
    shipping = {
        rid: with_tax_code(
            {"id": rid, "name": rid.upper(), "prices": {currency: draw(amount)}}, draw(tax_code)
        )
        for rid in RATE_IDS
    }
    if draw(st.booleans()):
        discount: dict[str, Any] = {
            "code": "CODE",
            "percent_off": draw(st.integers(1, 100).map(Decimal)),
        }
    else:
        discount = {"code": "CODE", "amount_off": {currency: draw(amount.filter(bool))}}
    behavior = draw(st.sampled_from((None, "exclusive", "inclusive")))
    catalog = Catalog.model_validate(
        {
            "tax": {"behavior": behavior},
            "products": products,
            "shipping": shipping,
            "discounts": {"CODE": discount},
        }
    )

    chosen = draw(st.lists(st.sampled_from(PRODUCT_IDS), unique=True))
    selection = Selection.of(
        [(pid, draw(st.integers(1, 20))) for pid in chosen],
        shipping_rate_id=draw(st.sampled_from((None, *RATE_IDS))),
        discount_code=draw(st.sampled_from((None, "CODE"))),
    )
    priced = price_cart(CartRules(catalog, currency, NOW), selection)

    # Unit prices the current session may hold: the target's, the catalog's, or stale ones.
    known = [c.unit_amount for line in priced.lines for c in line.charges]
    known += [p["prices"][currency] for pid, p in products.items() if pid != "foreign"]
    unit = st.one_of(st.sampled_from(known), amount)
    quantity = st.integers(1, 20)
    own = st.tuples(st.sampled_from(PRODUCT_IDS), unit, quantity).map(
        lambda t: (t[1], t[2], {PRODUCT_KEY: t[0]})
    )
    # Shipping lines as sessions written before shipping options carry them.
    legacy_ship = st.tuples(
        st.sampled_from(RATE_IDS),
        st.one_of(st.sampled_from([r["prices"][currency] for r in shipping.values()]), amount),
        st.sampled_from([1, 1, 1, 2]),
    ).map(lambda t: (t[1], t[2], {SHIPPING_KEY: t[0]}))
    other = st.tuples(
        amount,
        quantity,
        st.sampled_from(
            [{}, {PRODUCT_KEY: "foreign"}, {PRODUCT_KEY: "gone"}, {SHIPPING_KEY: "gone"}]
        ),
    )
    specs = (
        draw(st.lists(own, max_size=8))
        + draw(st.lists(legacy_ship, max_size=2))
        + draw(st.lists(other, max_size=6))
    )
    specs = draw(st.permutations(specs))
    current = tuple(
        StripeLineItem(f"li_{n}", f"line {n}", qty, unit_amount, unit_amount * qty, metadata)
        for n, (unit_amount, qty, metadata) in enumerate(specs)
    )
    return RoundTrip(catalog, currency, current, selection)


def plan_for(case: RoundTrip, current: tuple[StripeLineItem, ...]):
    repo = case.repo
    cart = SessionCart.read(checkout_session(current, case.currency), repo)
    rules = CartRules(case.catalog, case.currency, NOW)
    priced = price_cart(rules, case.selection, other_subtotal=cart.other_subtotal)
    return cart, priced, plan_line_items(cart, priced, repo)


ROUND_TRIP = settings(deadline=None, max_examples=200)


@ROUND_TRIP
@given(round_trips())
def test_applied_plan_charges_exactly_the_priced_cart_per_product(case):
    cart, priced, plan = plan_for(case, case.current)
    other_ids = {li.id for li in cart.other_lines}
    result = apply_like_stripe(case.current, plan.writes)
    charged: dict[str, Counter[tuple[int | None, int]]] = {}
    for line in result:
        if line.id not in other_ids and PRODUCT_KEY in line.metadata:
            tranche = (line.unit_amount, line.quantity)
            charged.setdefault(line.metadata[PRODUCT_KEY], Counter())[tranche] += 1
    wanted = {
        line.product_id: Counter((c.unit_amount, c.quantity) for c in line.charges)
        for line in priced.lines
    }
    assert charged == wanted


@ROUND_TRIP
@given(round_trips())
def test_applied_plan_keeps_other_lines_unchanged_and_in_order(case):
    cart, _, plan = plan_for(case, case.current)
    other_ids = {li.id for li in cart.other_lines}
    result = apply_like_stripe(case.current, plan.writes)
    kept = [(line.id, line.unit_amount, line.quantity) for line in result if line.id in other_ids]
    assert kept == [(li.id, li.unit_amount, li.quantity) for li in cart.other_lines]


@ROUND_TRIP
@given(round_trips())
def test_applied_plan_holds_no_shipping_line_of_the_service(case):
    cart, _, plan = plan_for(case, case.current)
    other_ids = {li.id for li in cart.other_lines}
    result = apply_like_stripe(case.current, plan.writes)
    assert [
        line for line in result if line.id not in other_ids and PRODUCT_KEY not in line.metadata
    ] == []
    assert shipping_lines_in(plan.writes) == []
    kept = {w.id for w in plan.writes if isinstance(w, KeepLine)}
    assert kept.isdisjoint(li.id for li in cart.shipping_lines)


@ROUND_TRIP
@given(round_trips())
def test_a_legacy_shipping_line_always_makes_the_plan_a_change(case):
    cart, _, plan = plan_for(case, case.current)
    if cart.shipping_lines:
        assert plan.changed


@ROUND_TRIP
@given(round_trips())
def test_applied_plan_plus_the_shipping_option_is_the_priced_total(case):
    _, priced, plan = plan_for(case, case.current)
    result = as_stripe_items(apply_like_stripe(case.current, plan.writes))
    lines_total = sum(li.amount_subtotal for li in result)
    assert lines_total == priced.total - priced.shipping_total
    option = shipping_option(priced, case.repo)
    if priced.shipping is None:
        assert option is None
    else:
        assert option is not None
        assert (option.name, option.amount) == (priced.shipping.name, priced.shipping.amount)
        assert lines_total + option.amount == priced.total


@ROUND_TRIP
@given(round_trips())
def test_every_new_line_carries_its_products_tax_code_and_the_catalogs_behaviour(case):
    _, _, plan = plan_for(case, case.current)
    behavior = case.catalog.tax.behavior
    for write in plan.writes:
        if isinstance(write, NewLine):
            product = case.catalog.products[write.metadata[PRODUCT_KEY]]
            assert write.tax == Taxability(
                product.tax_code, behavior.value if behavior is not None else None
            )


@ROUND_TRIP
@given(round_trips())
def test_shipping_option_carries_its_rates_tax_code_and_the_catalogs_behaviour(case):
    _, priced, _ = plan_for(case, case.current)
    option = shipping_option(priced, case.repo)
    if priced.shipping is not None:
        assert option is not None
        rate = case.catalog.shipping[priced.shipping.rate_id]
        behavior = case.catalog.tax.behavior
        assert option.tax == Taxability(
            rate.tax_code, behavior.value if behavior is not None else None
        )


@ROUND_TRIP
@given(round_trips())
def test_plan_is_a_change_exactly_when_it_is_not_a_no_op(case):
    cart, _, plan = plan_for(case, case.current)
    assert plan.changed == (not is_no_op(cart, plan.writes))


@ROUND_TRIP
@given(round_trips())
def test_planning_again_after_applying_the_plan_changes_nothing(case):
    _, _, plan = plan_for(case, case.current)
    applied = as_stripe_items(apply_like_stripe(case.current, plan.writes))
    _, _, again = plan_for(case, applied)
    assert not again.changed
    assert again.writes == tuple(KeepLine(li.id) for li in applied)
