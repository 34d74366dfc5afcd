from __future__ import annotations

from datetime import UTC, datetime

import pytest

from amount_updater.catalog.models import DeliveryUnit, ProductKind, TaxBehavior
from amount_updater.catalog.repository import (
    CatalogError,
    CatalogRepository,
    load_catalog,
    parse_catalog,
)
from amount_updater.errors import CurrencyNotSupported

NOW = datetime(2026, 11, 26, tzinfo=UTC)

PRODUCT = """
[products.tshirt]
name = "T-shirt"
prices = { usd = 2500, kwd = 7500 }
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "test.toml")
    assert caught.value.source == "test.toml"
    return caught.value.problems


def only_problem(text: str) -> str:
    (problem,) = problems_of(text)
    return problem


# --- parse_catalog: what loads ----------------------------------------------------------------


def test_product_id_is_its_table_name():
    catalog = parse_catalog(PRODUCT, "test.toml")
    assert catalog.products["tshirt"].id == "tshirt"
    assert catalog.products["tshirt"].prices == {"usd": 2500, "kwd": 7500}


def test_shipping_rate_id_is_its_table_name():
    text = PRODUCT + '[shipping.standard]\nname = "Standard"\nprices = { usd = 500 }\n'
    assert parse_catalog(text, "test.toml").shipping["standard"].id == "standard"


def test_discount_codes_are_stored_upper_case():
    text = PRODUCT + "[discounts.save10]\npercent_off = 10\n"
    catalog = parse_catalog(text, "test.toml")
    assert list(catalog.discounts) == ["SAVE10"]
    assert catalog.discounts["SAVE10"].code == "SAVE10"


def test_expiry_with_offset_is_parsed_as_an_aware_datetime():
    text = PRODUCT + "[discounts.WELCOME]\npercent_off = 15\nexpires_at = 2099-12-31T23:59:59Z\n"
    expires_at = parse_catalog(text, "test.toml").discounts["WELCOME"].expires_at
    assert expires_at == datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_fractional_percent_off_is_accepted():
    text = PRODUCT + "[discounts.HALF]\npercent_off = 12.5\n"
    assert str(parse_catalog(text, "test.toml").discounts["HALF"].percent_off) == "12.5"


def test_catalog_with_products_only_is_valid():
    catalog = parse_catalog(PRODUCT, "test.toml")
    assert (catalog.shipping, catalog.discounts) == ({}, {})


# --- parse_catalog: every refusal -------------------------------------------------------------


def test_bad_toml_is_refused():
    assert only_problem("[products.tshirt\n").startswith("not valid TOML")


def test_unknown_section_is_refused():
    assert only_problem(PRODUCT + "[taxes.vat]\nrate = 20\n") == "unknown section(s): taxes"


def test_several_unknown_sections_are_listed_sorted():
    assert only_problem("zeta = 1\nalpha = 2\n" + PRODUCT) == "unknown section(s): alpha, zeta"


def test_bad_currency_code_is_refused():
    text = '[products.tshirt]\nname = "T"\nprices = { USD = 2500 }\n'
    assert "'USD' is not a lowercase ISO 4217 currency code" in only_problem(text)


def test_three_decimal_amount_not_ending_in_zero_is_refused():
    text = '[products.tshirt]\nname = "T"\nprices = { kwd = 7505 }\n'
    problem = only_problem(text)
    assert problem.startswith("products.tshirt:")
    assert "7505 kwd must be a multiple of 10" in problem


def test_three_decimal_shipping_amount_not_ending_in_zero_is_refused():
    text = PRODUCT + '[shipping.standard]\nname = "S"\nprices = { kwd = 1505 }\n'
    assert "1505 kwd must be a multiple of 10" in only_problem(text)


def test_discount_with_both_percent_off_and_amount_off_is_refused():
    text = PRODUCT + "[discounts.BOTH]\npercent_off = 10\namount_off = { usd = 500 }\n"
    assert "set exactly one of percent_off or amount_off" in only_problem(text)


def test_discount_with_neither_percent_off_nor_amount_off_is_refused():
    text = PRODUCT + "[discounts.NONE]\nmin_subtotal = { usd = 500 }\n"
    assert "set exactly one of percent_off or amount_off" in only_problem(text)


def test_naive_expires_at_is_refused():
    text = PRODUCT + "[discounts.OLD]\npercent_off = 10\nexpires_at = 2026-12-31T23:59:59\n"
    assert "expires_at needs a UTC offset" in only_problem(text)


def test_float_price_is_refused_even_when_whole():
    text = '[products.tshirt]\nname = "T"\nprices = { usd = 25.0 }\n'
    assert only_problem(text) == "products.tshirt.prices.usd: Input should be a valid integer"


def test_boolean_price_is_refused():
    text = '[products.tshirt]\nname = "T"\nprices = { usd = true }\n'
    assert only_problem(text).startswith("products.tshirt.prices.usd:")


def test_negative_price_is_refused():
    text = '[products.tshirt]\nname = "T"\nprices = { usd = -1 }\n'
    assert only_problem(text).startswith("products.tshirt.prices.usd: Input should be greater")


def test_float_amount_off_is_refused():
    text = PRODUCT + "[discounts.FIVE]\namount_off = { usd = 500.0 }\n"
    assert only_problem(text).startswith("discounts.FIVE.amount_off.usd:")


def test_unknown_product_field_is_refused():
    text = PRODUCT + 'colour = "red"\n'
    assert only_problem(text).startswith("products.tshirt.colour:")


def test_bad_product_id_is_refused():
    text = '[products.T-Shirt]\nname = "T"\nprices = { usd = 1 }\n'
    assert only_problem(text).startswith("products.T-Shirt.id:")


def test_every_problem_is_reported_one_per_entry():
    text = (
        '[products.a]\nname = "A"\nprices = { usd = 1.5 }\n'
        '[products.b]\nname = ""\nprices = { usd = 1 }\n'
    )
    problems = problems_of(text)
    assert len(problems) == 2
    assert problems[0].startswith("products.a.")
    assert problems[1].startswith("products.b.name:")


def test_error_message_names_the_source_and_joins_the_problems():
    text = '[products.a]\nname = ""\nprices = {}\n'
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "shop.toml")
    assert str(caught.value).startswith("invalid catalog shop.toml: products.a.")
    assert "; " in str(caught.value)


def test_empty_catalog_is_refused():
    assert only_problem("") == "the catalog has no products"


def test_catalog_with_shipping_but_no_products_is_refused():
    text = '[shipping.standard]\nname = "S"\nprices = { usd = 500 }\n'
    assert only_problem(text) == "the catalog has no products"


def test_section_that_is_not_a_table_is_refused():
    assert problems_of("products = 5\n") == ["[products] must be a table"]


def test_entry_that_is_not_a_table_is_refused():
    assert problems_of("[products]\ntshirt = 5\n") == ["products.tshirt: must be a table"]


def test_product_table_cannot_set_its_own_id():
    assert only_problem(PRODUCT + 'id = "hoodie"\n') == "products.tshirt: the table name is the id"


def test_shipping_table_cannot_set_its_own_id():
    text = PRODUCT + '[shipping.standard]\nid = "express"\nname = "S"\nprices = { usd = 500 }\n'
    assert only_problem(text) == "shipping.standard: the table name is the id"


def test_discount_table_cannot_set_its_own_code():
    text = PRODUCT + '[discounts.SAVE10]\ncode = "OTHER"\npercent_off = 10\n'
    assert only_problem(text) == "discounts.SAVE10: the table name is the code"


def test_discount_codes_differing_only_in_case_are_refused():
    text = PRODUCT + "[discounts.save10]\npercent_off = 10\n[discounts.SAVE10]\npercent_off = 90\n"
    assert "defined twice (codes ignore case)" in only_problem(text)


# --- parse_catalog: tax codes, tax behaviour, countries and delivery estimates ----------------

SHIPPING = '[shipping.standard]\nname = "Standard"\nprices = { usd = 500 }\n'


def test_tax_codes_countries_and_delivery_estimate_load():
    text = (
        '[tax]\nbehavior = "exclusive"\n'
        + PRODUCT
        + 'tax_code = "txcd_99999999"\n'
        + SHIPPING
        + 'tax_code = "txcd_92010001"\ncountries = ["US", "CA"]\n'
        + 'delivery_estimate = { minimum = 1, maximum = 2, unit = "day" }\n'
    )
    catalog = parse_catalog(text, "test.toml")
    assert catalog.tax.behavior is TaxBehavior.EXCLUSIVE
    assert catalog.products["tshirt"].tax_code == "txcd_99999999"
    rate = catalog.shipping["standard"]
    assert rate.tax_code == "txcd_92010001"
    assert rate.countries == ("US", "CA")
    assert rate.delivery_estimate is not None
    estimate = rate.delivery_estimate
    assert (estimate.minimum, estimate.maximum, estimate.unit) == (1, 2, DeliveryUnit.DAY)


def test_inclusive_tax_behavior_loads():
    catalog = parse_catalog('[tax]\nbehavior = "inclusive"\n' + PRODUCT, "test.toml")
    assert catalog.tax.behavior is TaxBehavior.INCLUSIVE


def test_tax_fields_are_optional():
    catalog = parse_catalog(PRODUCT + SHIPPING, "test.toml")
    assert catalog.tax.behavior is None  # the Stripe account's default
    assert catalog.products["tshirt"].tax_code is None
    rate = catalog.shipping["standard"]
    assert (rate.tax_code, rate.countries, rate.delivery_estimate) == (None, (), None)


def test_empty_tax_table_leaves_the_accounts_default():
    assert parse_catalog("[tax]\n" + PRODUCT, "test.toml").tax.behavior is None


def test_delivery_estimate_unit_defaults_to_business_days():
    text = PRODUCT + SHIPPING + "delivery_estimate = { minimum = 3, maximum = 5 }\n"
    estimate = parse_catalog(text, "test.toml").shipping["standard"].delivery_estimate
    assert estimate is not None
    assert estimate.unit is DeliveryUnit.BUSINESS_DAY


def test_delivery_estimate_may_be_a_single_value():
    text = PRODUCT + SHIPPING + 'delivery_estimate = { minimum = 2, maximum = 2, unit = "week" }\n'
    estimate = parse_catalog(text, "test.toml").shipping["standard"].delivery_estimate
    assert estimate is not None
    assert (estimate.minimum, estimate.maximum, estimate.unit) == (2, 2, DeliveryUnit.WEEK)


def test_a_rate_serves_its_countries_only():
    text = PRODUCT + SHIPPING + 'countries = ["US", "CA"]\n'
    rate = parse_catalog(text, "test.toml").shipping["standard"]
    assert rate.serves("US")
    assert rate.serves("CA")
    assert not rate.serves("DE")


def test_a_rate_without_countries_serves_every_country():
    rate = parse_catalog(PRODUCT + SHIPPING, "test.toml").shipping["standard"]
    assert rate.serves("US")
    assert rate.serves("JP")


@pytest.mark.parametrize("code", ["txcd_1234567", "txcd_123456789", "TXCD_99999999", "99999999"])
def test_bad_product_tax_code_is_refused(code):
    problem = only_problem(PRODUCT + f'tax_code = "{code}"\n')
    assert problem.startswith("products.tshirt.tax_code: String should match pattern")


def test_bad_shipping_tax_code_is_refused():
    problem = only_problem(PRODUCT + SHIPPING + 'tax_code = "tax_92010001"\n')
    assert problem.startswith("shipping.standard.tax_code: String should match pattern")


@pytest.mark.parametrize("country", ["us", "Us", "USA", "U"])
def test_country_that_is_not_upper_case_alpha_2_is_refused(country):
    problem = only_problem(PRODUCT + SHIPPING + f'countries = ["CA", "{country}"]\n')
    assert problem.startswith("shipping.standard.countries.1: String should match pattern")


def test_duplicate_country_is_refused():
    problem = only_problem(PRODUCT + SHIPPING + 'countries = ["US", "CA", "US"]\n')
    assert problem == "shipping.standard: countries: a country is listed twice"


def test_countries_must_be_a_list():
    problem = only_problem(PRODUCT + SHIPPING + 'countries = "US"\n')
    assert problem.startswith("shipping.standard.countries:")


def test_delivery_estimate_minimum_above_maximum_is_refused():
    problem = only_problem(
        PRODUCT + SHIPPING + "delivery_estimate = { minimum = 5, maximum = 3 }\n"
    )
    assert problem == "shipping.standard.delivery_estimate: minimum must not exceed maximum"


def test_unknown_delivery_unit_is_refused():
    problem = only_problem(
        PRODUCT
        + SHIPPING
        + 'delivery_estimate = { minimum = 1, maximum = 3, unit = "fortnight" }\n'
    )
    assert problem.startswith("shipping.standard.delivery_estimate.unit: Input should be")
    assert "'business_day'" in problem


def test_delivery_estimate_of_zero_is_refused():
    problem = only_problem(
        PRODUCT + SHIPPING + "delivery_estimate = { minimum = 0, maximum = 3 }\n"
    )
    assert problem.startswith("shipping.standard.delivery_estimate.minimum:")


def test_delivery_estimate_without_maximum_is_refused():
    problem = only_problem(PRODUCT + SHIPPING + "delivery_estimate = { minimum = 1 }\n")
    assert problem == "shipping.standard.delivery_estimate.maximum: Field required"


def test_unknown_delivery_estimate_field_is_refused():
    problem = only_problem(
        PRODUCT + SHIPPING + "delivery_estimate = { minimum = 1, maximum = 2, days = 3 }\n"
    )
    assert problem.startswith("shipping.standard.delivery_estimate.days:")


def test_unknown_tax_behavior_is_refused():
    problem = only_problem('[tax]\nbehavior = "sometimes"\n' + PRODUCT)
    assert problem == "tax.behavior: Input should be 'exclusive' or 'inclusive'"


def test_unknown_tax_setting_is_refused():
    assert only_problem("[tax]\nrate = 20\n" + PRODUCT).startswith("tax.rate:")


def test_tax_that_is_not_a_table_is_refused():
    assert only_problem("tax = 5\n" + PRODUCT).startswith("tax: ")


def test_tax_problems_are_reported_with_the_others():
    text = '[tax]\nbehavior = "sometimes"\n[products.a]\nname = ""\nprices = { usd = 1 }\n'
    problems = problems_of(text)
    assert len(problems) == 2
    assert problems[0].startswith("products.a.name:")
    assert problems[1].startswith("tax.behavior:")


# --- load_catalog -----------------------------------------------------------------------------


def test_sample_catalog_loads():
    catalog = load_catalog(None)
    assert {"tshirt", "hoodie", "mug", "stickers", "gift_wrap", "warranty"} <= set(catalog.products)
    assert catalog.products["gift_wrap"].kind is ProductKind.ADDON
    assert {"SAVE10", "FIVEOFF", "WELCOME"} <= set(catalog.discounts)
    assert catalog.currencies == frozenset({"usd", "eur", "jpy", "kwd"})


def test_sample_catalog_carries_tax_codes_countries_and_delivery_estimates():
    catalog = load_catalog(None)
    assert catalog.tax.behavior is TaxBehavior.EXCLUSIVE
    assert {p.tax_code for p in catalog.products.values()} == {"txcd_99999999"}
    assert {r.tax_code for r in catalog.shipping.values()} == {"txcd_92010001"}
    countries = {c for r in catalog.shipping.values() for c in r.countries}
    assert sorted(countries) == ["CA", "DE", "FR", "GB", "JP", "KW", "US"]
    assert all(r.delivery_estimate is not None for r in catalog.shipping.values())


def test_catalog_file_loads_from_a_path(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text(PRODUCT, encoding="utf-8")
    assert set(load_catalog(path).products) == {"tshirt"}


def test_invalid_catalog_file_names_its_path(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert caught.value.source == str(path)


def test_missing_catalog_file_is_a_catalog_error(tmp_path):
    path = tmp_path / "missing.toml"
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert caught.value.source == str(path)
    assert caught.value.problems == ["No such file or directory"]


def test_directory_instead_of_catalog_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogError):
        load_catalog(tmp_path)


# --- CatalogRepository ------------------------------------------------------------------------

REPO_TOML = """
[products.tshirt]
name = "T-shirt"
prices = { usd = 2500, kwd = 7500 }

[products.stickers]
name = "Stickers"
prices = { usd = 399 }

[shipping.standard]
name = "Standard"
prices = { usd = 500 }

[shipping.world]
name = "World"
prices = { usd = 2500, kwd = 4500 }

[discounts.SAVE10]
percent_off = 10

[discounts.ENDED]
percent_off = 10
expires_at = 2026-11-26T00:00:00Z
"""


@pytest.fixture
def repo() -> CatalogRepository:
    return CatalogRepository(parse_catalog(REPO_TOML, "test"))


def test_repository_finds_a_product(repo):
    product = repo.product("tshirt")
    assert product is not None
    assert product.name == "T-shirt"


def test_repository_returns_none_for_an_unknown_product(repo):
    assert repo.product("hoodie") is None


def test_repository_finds_a_shipping_rate(repo):
    rate = repo.shipping_rate("world")
    assert rate is not None
    assert rate.prices["kwd"] == 4500


def test_repository_returns_none_for_an_unknown_shipping_rate(repo):
    assert repo.shipping_rate("teleport") is None


def test_repository_lists_products_priced_in_a_currency(repo):
    assert [p.id for p in repo.products_in("kwd")] == ["tshirt"]
    assert [p.id for p in repo.products_in("usd")] == ["tshirt", "stickers"]


def test_repository_lists_shipping_rates_priced_in_a_currency(repo):
    assert [r.id for r in repo.shipping_rates_in("kwd")] == ["world"]


def test_repository_supports_the_currencies_of_its_products(repo):
    assert repo.supports("usd")
    assert repo.supports("kwd")
    assert not repo.supports("eur")


def test_repository_gives_the_rules_for_a_currency_it_prices(repo):
    rules = repo.rules("USD", NOW)
    assert (rules.currency, rules.now) == ("usd", NOW)
    assert set(rules.catalog.products) == {"tshirt", "stickers"}


@pytest.mark.parametrize("currency", ["eur", "us", "usd1"])
def test_repository_refuses_rules_for_a_currency_it_does_not_price(repo, currency):
    with pytest.raises(CurrencyNotSupported):
        repo.rules(currency, NOW)
