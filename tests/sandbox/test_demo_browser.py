"""The demo storefront, driven in headless Chromium against the real service process.

Every step checks the exact integer the page shows (`data-amount`) and that it equals the
`amount_total` the emulated Stripe holds for the session. Every page also checks that no request
left 127.0.0.1 and that no JavaScript error happened."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Route, ViewportSize, expect

from amount_updater.sandbox import DEMO_CONFIG_PATH, DEMO_STATIC_PATH, mount_demo
from amount_updater.sandbox.demo import content_security_policy
from tests.support.browser import chromium
from tests.support.servers import serve_in_thread
from tests.support.service_process import SANDBOX_ENV, running_service

DESKTOP: ViewportSize = {"width": 1100, "height": 1000}
PHONE: ViewportSize = {"width": 390, "height": 844}
EMULATOR_AUTH = {"Authorization": "Bearer sk_test_sandbox"}
REFUSED_AFTER_PAYMENT = "The checkout session is complete, not open."
STORE = "amount-updater-demo:session"  # the page's sessionStorage key

# Stripe.js as the page uses it (clover: Stripe(pk).initCheckout({clientSecret}), the Payment
# Element, loadActions() → runServerUpdate / confirm), recording every call. Like Stripe.js, its
# runServerUpdate answers {type: 'error'} when the server call fails instead of throwing.
FAKE_STRIPE_JS = """
window.__stripeCalls = [];
window.Stripe = (key) => {
  __stripeCalls.push(['Stripe', key]);
  return {
    initCheckout({ clientSecret }) {
      __stripeCalls.push(['initCheckout', clientSecret]);
      return {
        createPaymentElement: () => ({
          mount(selector) {
            __stripeCalls.push(['mount', selector]);
            document.querySelector(selector).textContent = 'Stripe Payment Element';
          },
          destroy() { __stripeCalls.push(['destroy']); },
        }),
        loadActions: async () => ({ type: 'success', actions: {
          async runServerUpdate(update) {
            __stripeCalls.push(['runServerUpdate']);
            try { await update(); } catch (error) {
              return { type: 'error', error: { message: 'Something went wrong.', code: null } };
            }
            return { type: 'success', session: {} };
          },
          async confirm() {
            __stripeCalls.push(['confirm']);
            return { type: 'error', error: { message: 'Your card was declined.', code: null } };
          },
        } }),
      };
    },
  };
};
"""


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`amount-updater serve` in sandbox mode, from a directory with no .env."""
    with running_service(SANDBOX_ENV, tmp_path_factory.mktemp("demo-sandbox")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@contextmanager
def open_page(
    browser: Browser, base_url: str, *, viewport: ViewportSize = DESKTOP, faked: str = ""
) -> Iterator[Page]:
    """A page in a context of its own (its own sessionStorage). On leaving, fails the test on any
    JavaScript error, or on any request to a host but 127.0.0.1 (or `faked`, a host the test
    answers itself with page.route)."""
    # A fixed locale keeps Intl.NumberFormat's output (e.g. "$25.00", "¥3,500") predictable.
    context = browser.new_context(base_url=base_url, locale="en-US", viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    hosts: set[str | None] = set()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    try:
        yield page
        assert errors == [], f"JavaScript errors on the page: {errors}"
        assert hosts <= {"127.0.0.1", faked or "127.0.0.1"}, f"requests left 127.0.0.1: {hosts}"
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, sandbox_url: str) -> Iterator[Page]:
    with open_page(browser, sandbox_url) as page:
        yield page


@pytest.fixture
def emulator(sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_url, headers=EMULATOR_AUTH, timeout=10) as client:
        yield client


def settled(page: Page) -> None:
    """Wait until no request is in flight (the page sets aria-busy while one is)."""
    expect(page.locator("#app")).to_have_attribute("aria-busy", "false")


def ready(page: Page, path: str = "/") -> None:
    page.goto(path)
    expect(page.get_by_test_id("status")).to_contain_text("Ready")
    settled(page)


def session_id(page: Page) -> str:
    cart = page.get_by_test_id("cart")
    expect(cart).to_have_attribute("data-session-id", re.compile(r"^cs_test_\w+$"))
    return str(cart.get_attribute("data-session-id"))


def stored_session(page: Page) -> Any:
    """What the page keeps in sessionStorage: {id, token, clientSecret}, or None."""
    return json.loads(page.evaluate(f"sessionStorage.getItem('{STORE}') ?? 'null'"))


def expect_amounts(page: Page, emulator: httpx.Client, total: int, **others: int) -> None:
    """The page shows exactly these integers, and Stripe (emulated) holds the same total."""
    settled(page)
    expect(page.get_by_test_id("total")).to_have_attribute("data-amount", str(total))
    for test_id, amount in others.items():
        expect(page.get_by_test_id(test_id.replace("_", "-"))).to_have_attribute(
            "data-amount", str(amount)
        )
    held = emulator.get(f"/_sandbox/stripe/v1/checkout/sessions/{session_id(page)}")
    assert held.status_code == 200, held.text
    assert held.json()["amount_total"] == total


def expect_empty(page: Page) -> None:
    """The empty state: no session, nothing to pay, the products there to add."""
    settled(page)
    expect(page.get_by_test_id("empty")).to_be_visible()
    expect(page.get_by_test_id("empty")).to_contain_text("Your cart is empty")
    expect(page.get_by_test_id("cart")).to_have_attribute("data-session-id", "")
    expect(page.get_by_test_id("total")).to_have_attribute("data-amount", "0")
    expect(page.get_by_test_id("add-tshirt")).to_be_enabled()
    expect(page.get_by_test_id("pay")).to_be_disabled()
    assert "session=" not in page.url
    assert stored_session(page) is None


def test_usd_cart_is_built_changed_paid_and_locked(page, emulator):
    ready(page)
    expect(page.get_by_test_id("sandbox-banner")).to_contain_text("Sandbox")
    expect(page.get_by_test_id("total")).to_have_attribute("data-amount", "0")

    page.get_by_test_id("add-tshirt").click()
    expect_amounts(page, emulator, 2500, subtotal=2500)
    expect(page.get_by_test_id("session-status")).to_have_attribute("data-status", "open")
    # The stand-in Payment Element shows what Stripe holds after each runServerUpdate.
    expect(page.get_by_test_id("payment-element")).to_have_attribute("data-amount", "2500")

    page.get_by_test_id("qty-plus-tshirt").click()
    expect_amounts(page, emulator, 5000)
    expect(page.get_by_test_id("qty-tshirt")).to_have_text("2")
    expect(page.get_by_test_id("payment-element")).to_have_attribute("data-amount", "5000")

    page.get_by_test_id("addon-gift_wrap").check()
    expect_amounts(page, emulator, 5500, subtotal=5500)
    expect(page.get_by_test_id("addon-gift_wrap")).to_be_checked()

    page.get_by_test_id("shipping-express").check()
    expect_amounts(page, emulator, 7000, shipping_amount=1500)

    page.get_by_test_id("discount-input").fill("save10")
    page.get_by_test_id("discount-apply").click()
    expect_amounts(page, emulator, 6450, discount_amount=550)
    expect(page.get_by_test_id("discount-applied")).to_contain_text("SAVE10")

    page.get_by_test_id("discount-input").fill("NOPE")
    page.get_by_test_id("discount-apply").click()
    settled(page)
    status = page.get_by_test_id("status")
    expect(status).to_have_attribute("data-kind", "error")
    expect(status).to_contain_text("NOPE")
    expect_amounts(page, emulator, 6450, discount_amount=550)

    page.get_by_test_id("qty-minus-tshirt").click()
    expect_amounts(page, emulator, 4200, subtotal=3000, discount_amount=300, shipping_amount=1500)
    expect(page.get_by_test_id("qty-tshirt")).to_have_text("1")

    page.get_by_test_id("discount-remove").click()
    expect_amounts(page, emulator, 4500, discount_amount=0)

    paid_id = session_id(page)
    token = stored_session(page)["token"]
    page.get_by_test_id("pay").click()
    settled(page)
    expect(page.get_by_test_id("session-status")).to_have_attribute("data-status", "complete")
    expect(page.get_by_test_id("session-status")).to_contain_text("Paid")
    expect_amounts(page, emulator, 4500)

    # Paid: every control locks, and "Start a new order" takes the pay button's place.
    for test_id in (
        "qty-plus-tshirt",
        "qty-minus-tshirt",
        "remove-tshirt",
        "add-mug",
        "addon-gift_wrap",
        "shipping-standard",
        "discount-input",
        "currency",
    ):
        expect(page.get_by_test_id(test_id)).to_be_disabled()
    expect(page.get_by_test_id("pay")).to_be_hidden()
    expect(page.get_by_test_id("new-order")).to_be_visible()
    # The lock is a courtesy: the service itself refuses any change now.
    refused = emulator.post(
        f"/v1/checkout-sessions/{paid_id}/items",
        json={"product_id": "mug"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == REFUSED_AFTER_PAYMENT

    page.get_by_test_id("new-order").click()
    expect_empty(page)
    expect(page.get_by_test_id("new-order")).to_be_hidden()
    page.get_by_test_id("add-mug").click()
    expect_amounts(page, emulator, 1200)
    assert session_id(page) != paid_id


def held_session(page: Page, emulator: httpx.Client) -> Any:
    held = emulator.get(f"/_sandbox/stripe/v1/checkout/sessions/{session_id(page)}")
    assert held.status_code == 200, held.text
    return held.json()


def expect_tax(page: Page, emulator: httpx.Client, tax: int) -> None:
    """The page shows exactly this tax, and it is the tax Stripe (emulated) computed."""
    settled(page)
    expect(page.get_by_test_id("tax-amount")).to_have_attribute("data-amount", str(tax))
    assert held_session(page, emulator)["total_details"]["amount_tax"] == tax


def ship_to(page: Page, country: str, line1: str, city: str, postal_code: str) -> None:
    page.get_by_test_id("address-name").fill("Ada Lovelace")
    page.get_by_test_id("address-line1").fill(line1)
    page.get_by_test_id("address-city").fill(city)
    page.get_by_test_id("address-postal-code").fill(postal_code)
    page.get_by_test_id("address-country").select_option(country)
    page.get_by_test_id("address-save").click()
    settled(page)


def test_an_address_offers_the_rates_that_serve_it_and_shows_tax_at_sandbox_rates(page, emulator):
    ready(page)
    # The countries the sample catalog's shipping rates serve, and nothing to ship yet.
    countries = page.eval_on_selector_all(
        "[data-testid=address-country] option", "options => options.map((o) => o.value)"
    )
    assert countries == ["", "CA", "DE", "FR", "GB", "JP", "KW", "US"]
    expect(page.get_by_test_id("address-save")).to_be_disabled()
    expect(page.get_by_test_id("tax-label")).to_have_text("Tax (sandbox rates)")
    expect(page.get_by_test_id("sandbox-banner")).to_contain_text("sandbox rates")

    page.get_by_test_id("add-tshirt").click()
    page.get_by_test_id("shipping-express").check()
    expect_amounts(page, emulator, 4000, subtotal=2500, shipping_amount=1500)
    expect_tax(page, emulator, 0)  # Stripe Tax waits for an address
    assert held_session(page, emulator)["automatic_tax"]["status"] == "requires_location_inputs"
    expect(page.get_by_test_id("tax-amount")).to_have_text("With your address")

    # Canada: both rates serve it, so express stays; 13 % of 25.00 + 15.00 is 5.20.
    ship_to(page, "CA", "24 Sussex Drive", "Ottawa", "K1M 1M4")
    status = page.get_by_test_id("status")
    expect(status).to_have_text("Shipping to Canada: Express Shipping.")
    expect(page.get_by_test_id("address-applied")).to_have_text("Shipping to Ada Lovelace, Canada.")
    expect(page.get_by_test_id("shipping-standard")).to_be_visible()
    expect(page.get_by_test_id("shipping-express")).to_be_checked()
    expect_tax(page, emulator, 520)
    expect(page.get_by_test_id("tax-amount")).to_have_text("$5.20")
    expect_amounts(page, emulator, 4520, subtotal=2500, shipping_amount=1500)
    held = held_session(page, emulator)
    assert held["collected_information"]["shipping_details"]["address"] == {
        "city": "Ottawa",
        "country": "CA",
        "line1": "24 Sussex Drive",
        "line2": None,
        "postal_code": "K1M 1M4",
        "state": None,
    }
    assert held["automatic_tax"]["status"] == "complete"
    assert held["shipping_cost"]["amount_tax"] == 195

    # Japan: express does not serve it and disappears; the service moved the cart to standard
    # in the same write, and the tax is 10 % of 25.00 + 5.00.
    ship_to(page, "JP", "1-1 Chiyoda", "Tokyo", "100-0001")
    expect(status).to_have_text("Shipping to Japan: Standard Shipping.")
    expect(page.get_by_test_id("shipping-express")).to_be_hidden()
    expect(page.get_by_test_id("shipping-standard")).to_be_checked()
    expect(page.get_by_test_id("shipping-none")).to_be_visible()
    expect_tax(page, emulator, 300)
    expect_amounts(page, emulator, 3300, shipping_amount=500)

    # An add-on: the tax follows the cart (10 % of 30.00 + 5.00).
    page.get_by_test_id("addon-gift_wrap").check()
    expect_tax(page, emulator, 350)
    expect_amounts(page, emulator, 3850, subtotal=3000)

    # A reload keeps the address, the rates it allows and the tax.
    page.reload()
    expect(status).to_contain_text("Welcome back")
    expect_tax(page, emulator, 350)
    expect_amounts(page, emulator, 3850)
    expect(page.get_by_test_id("shipping-express")).to_be_hidden()
    expect(page.get_by_test_id("address-country")).to_have_value("JP")
    expect(page.get_by_test_id("address-applied")).to_contain_text("Japan")


def test_an_address_the_shop_cannot_serve_is_refused_in_the_shoppers_words(page, emulator):
    ready(page)
    page.get_by_test_id("add-mug").click()
    ship_to(page, "US", "1 Infinite Loop", "Cupertino", "95014")
    # 7.25 % of 12.00 + 5.00 (standard, the cheapest rate serving the US, picked with it).
    expect_tax(page, emulator, 87 + 36)
    expect_amounts(page, emulator, 1700 + 123, shipping_amount=500)

    status = page.get_by_test_id("status")
    page.get_by_test_id("address-name").fill("")
    page.get_by_test_id("address-save").click()
    expect(status).to_have_text("Enter your name, street address and country first.")
    expect(status).to_have_attribute("data-kind", "error")

    # A country no rate serves (the form does not offer it; a stale or edited page could).
    page.evaluate(
        "document.querySelector('[data-testid=address-country]').append(new Option('Brazil', 'BR'))"
    )
    ship_to(page, "BR", "Avenida Paulista 1000", "São Paulo", "01310-100")
    expect(status).to_have_text("Sorry, we do not ship to Brazil.")
    expect(status).to_have_attribute("data-kind", "error")
    expect_amounts(page, emulator, 1823)
    assert (
        held_session(page, emulator)["collected_information"]["shipping_details"]["address"][
            "country"
        ]
        == "US"
    )

    # A new cart forgets the address: every rate is offered again.
    page.get_by_test_id("currency").select_option("eur")
    expect(status).to_contain_text("EUR")
    expect_empty(page)
    expect(page.get_by_test_id("address-applied")).to_have_text("")
    expect(page.get_by_test_id("shipping-express")).to_be_visible()


def test_zero_and_three_decimal_currencies_show_their_own_minor_unit(page, emulator):
    ready(page)
    page.get_by_test_id("currency").select_option("jpy")
    expect(page.get_by_test_id("status")).to_contain_text("JPY")
    expect(page.get_by_test_id("price-tshirt")).to_have_attribute("data-amount", "3500")

    page.get_by_test_id("add-tshirt").click()
    expect_amounts(page, emulator, 3500, subtotal=3500)
    total = page.get_by_test_id("total")
    expect(total).to_contain_text("¥3,500")
    expect(total).not_to_contain_text(".")

    # Kuwaiti dinar: three decimals, so 7500 fils are KWD 7.500.
    page.get_by_test_id("currency").select_option("kwd")
    expect(page.get_by_test_id("status")).to_contain_text("KWD")
    expect_empty(page)
    page.get_by_test_id("add-tshirt").click()
    expect_amounts(page, emulator, 7500, subtotal=7500)
    expect(total).to_contain_text("7.500")
    page.get_by_test_id("shipping-standard").check()
    expect_amounts(page, emulator, 9000, shipping_amount=1500)
    expect(total).to_contain_text("9.000")


def test_removing_the_last_item_empties_the_cart_without_asking_the_service(page, emulator):
    ready(page)
    page.get_by_test_id("add-tshirt").click()
    page.get_by_test_id("addon-gift_wrap").check()
    expect_amounts(page, emulator, 3000)
    page.get_by_test_id("remove-tshirt").click()  # gift wrap stays: the service changes the cart
    expect_amounts(page, emulator, 500)
    first = session_id(page)

    calls: list[str] = []
    page.on("request", lambda request: calls.append(f"{request.method} {request.url}"))
    page.get_by_test_id("addon-gift_wrap").uncheck()
    expect_empty(page)
    expect(page.get_by_test_id("status")).to_contain_text("Your cart is empty")
    assert not [call for call in calls if "/v1/" in call], calls
    # The session is left as it was, to expire at Stripe like an abandoned checkout.
    held = emulator.get(f"/_sandbox/stripe/v1/checkout/sessions/{first}").json()
    assert (held["status"], held["amount_total"]) == ("open", 500)

    # The next add starts a new session; "one less" at quantity 1 empties the cart too.
    page.get_by_test_id("add-mug").click()
    expect_amounts(page, emulator, 1200)
    assert session_id(page) != first
    page.get_by_test_id("qty-minus-mug").click()
    expect_empty(page)


def test_a_page_out_of_date_that_empties_the_cart_shows_the_empty_state(page, emulator):
    ready(page)
    page.get_by_test_id("add-tshirt").click()
    page.get_by_test_id("add-mug").click()
    expect_amounts(page, emulator, 3700)
    stored = stored_session(page)
    # Behind the page's back (another tab, say), the mug goes.
    emulator.delete(
        f"/v1/checkout-sessions/{stored['id']}/items/mug",
        headers={"Authorization": f"Bearer {stored['token']}"},
    ).raise_for_status()

    page.get_by_test_id("remove-tshirt").click()  # the page thinks the mug is still there
    expect_empty(page)
    status = page.get_by_test_id("status")
    expect(status).to_have_attribute("data-kind", "error")
    expect(status).to_contain_text("at least one item")


def test_errors_name_products_and_show_money_in_the_cart_currency(page, emulator):
    ready(page)
    status = page.get_by_test_id("status")
    page.get_by_test_id("add-stickers").click()
    expect_amounts(page, emulator, 399)
    page.get_by_test_id("discount-input").fill("SAVE10")  # needs a subtotal of 2000 cents
    page.get_by_test_id("discount-apply").click()
    settled(page)
    expect(status).to_have_attribute("data-kind", "error")
    expect(status).to_contain_text("$20.00")
    expect(status).not_to_contain_text("2000")

    page.get_by_test_id("add-tshirt").click()
    expect_amounts(page, emulator, 2899)
    stored = stored_session(page)
    # Behind the page's back, the T-shirts reach their maximum; the page still offers one more.
    emulator.patch(
        f"/v1/checkout-sessions/{stored['id']}/items/tshirt",
        json={"quantity": 10},
        headers={"Authorization": f"Bearer {stored['token']}"},
    ).raise_for_status()
    page.get_by_test_id("add-tshirt").click()
    settled(page)
    expect(status).to_have_attribute("data-kind", "error")
    expect(status).to_have_text("At most 10 \N{MULTIPLICATION SIGN} T-shirt per order.")


def test_plus_is_disabled_at_the_maximum_per_order(page, emulator):
    ready(page)
    page.get_by_test_id("add-tshirt").click()  # the sample catalog sells at most 10
    settled(page)
    max_quantity = 10
    for quantity in range(2, max_quantity + 1):
        page.get_by_test_id("qty-plus-tshirt").click()
        expect(page.get_by_test_id("qty-tshirt")).to_have_text(str(quantity))
        settled(page)
    expect_amounts(page, emulator, 25000)
    expect(page.get_by_test_id("qty-plus-tshirt")).to_be_disabled()
    expect(page.get_by_test_id("add-tshirt")).to_be_disabled()
    expect(page.get_by_test_id("qty-minus-tshirt")).to_be_enabled()
    expect(page.get_by_test_id("add-mug")).to_be_enabled()

    page.get_by_test_id("qty-minus-tshirt").click()
    expect_amounts(page, emulator, 22500)
    expect(page.get_by_test_id("qty-plus-tshirt")).to_be_enabled()


def test_a_reload_keeps_the_cart_and_a_paid_order_stays_paid(page, emulator, browser, sandbox_url):
    ready(page)
    page.get_by_test_id("add-hoodie").click()
    page.get_by_test_id("shipping-express").check()
    expect_amounts(page, emulator, 7000, shipping_amount=1500)
    kept = session_id(page)
    expect(page).to_have_url(re.compile(rf"/\?session={kept}$"))

    page.reload()
    expect(page.get_by_test_id("status")).to_contain_text("Welcome back")
    expect_amounts(page, emulator, 7000, shipping_amount=1500)
    assert session_id(page) == kept
    expect(page.get_by_test_id("qty-hoodie")).to_have_text("1")
    expect(page.get_by_test_id("shipping-express")).to_be_checked()
    page.get_by_test_id("qty-plus-hoodie").click()  # and it still changes
    expect_amounts(page, emulator, 12500)

    page.get_by_test_id("pay").click()
    settled(page)
    page.reload()
    expect(page.get_by_test_id("status")).to_contain_text("paid")
    settled(page)
    expect(page.get_by_test_id("session-status")).to_have_attribute("data-status", "complete")
    expect_amounts(page, emulator, 12500)
    expect(page.get_by_test_id("qty-plus-hoodie")).to_be_disabled()
    expect(page.get_by_test_id("new-order")).to_be_visible()

    # The link alone is not the cart: another browser has no token for it, and starts empty.
    with open_page(browser, sandbox_url) as other:
        other.goto(f"/?session={kept}")
        expect(other.get_by_test_id("status")).to_contain_text("opened elsewhere")
        expect_empty(other)


def test_on_a_phone_the_total_stays_in_view_while_scrolling(browser, sandbox_url, emulator):
    with open_page(browser, sandbox_url, viewport=PHONE) as page:
        ready(page)
        page.get_by_test_id("add-tshirt").click()
        page.get_by_test_id("add-mug").click()
        expect_amounts(page, emulator, 3700)
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height > 1.5 * PHONE["height"], "the page should need scrolling on a phone"

        total = page.get_by_test_id("total")
        for y in (0, height // 3, 2 * height // 3, height):
            page.evaluate(f"window.scrollTo(0, {y})")
            box = total.bounding_box()
            assert box is not None
            assert box["y"] >= 0, (y, box)
            assert box["y"] + box["height"] <= PHONE["height"], (y, box)
        # At the bottom, the fixed summary hides nothing: the last part of the cart ends above it.
        summary = page.get_by_test_id("summary").bounding_box()
        last = page.get_by_test_id("payment-element").bounding_box()
        assert summary is not None
        assert last is not None
        assert last["y"] + last["height"] <= summary["y"]


def test_with_a_publishable_key_every_change_goes_through_stripe_js(browser, sandbox_url, emulator):
    with open_page(browser, sandbox_url, faked="js.stripe.com") as page:
        scripts: list[str] = []

        def fake_stripe_js(route: Route) -> None:
            scripts.append(route.request.url)
            route.fulfill(content_type="text/javascript", body=FAKE_STRIPE_JS)

        def as_with_a_key(route: Route) -> None:
            """The page as a server with a publishable key serves it: its CSP allows Stripe.js."""
            response = route.fetch()
            csp = content_security_policy("pk_test_demo")
            route.fulfill(
                response=response, headers={**response.headers, "content-security-policy": csp}
            )

        page.route("https://js.stripe.com/**", fake_stripe_js)
        page.route(f"{sandbox_url}/", as_with_a_key)
        page.route(
            f"**{DEMO_CONFIG_PATH}",
            lambda route: route.fulfill(json={"publishable_key": "pk_test_demo", "sandbox": False}),
        )
        ready(page)
        assert scripts == ["https://js.stripe.com/clover/stripe.js"]
        expect(page.get_by_test_id("sandbox-banner")).to_have_attribute("data-mode", "test")

        page.get_by_test_id("add-tshirt").click()  # creates the session: no runServerUpdate yet
        expect_amounts(page, emulator, 2500)
        page.get_by_test_id("qty-plus-tshirt").click()
        expect_amounts(page, emulator, 5000)
        page.get_by_test_id("addon-gift_wrap").check()
        expect_amounts(page, emulator, 5500)
        page.get_by_test_id("discount-input").fill("NOPE")
        page.get_by_test_id("discount-apply").click()
        settled(page)
        # Stripe.js reports a failed update generically; the page shows the service's words.
        expect(page.get_by_test_id("status")).to_contain_text("NOPE")
        expect_amounts(page, emulator, 5500)

        held = emulator.get(f"/_sandbox/stripe/v1/checkout/sessions/{session_id(page)}").json()
        assert page.evaluate("window.__stripeCalls") == [
            ["Stripe", "pk_test_demo"],
            ["initCheckout", held["client_secret"]],
            ["mount", "#payment-element"],
            ["runServerUpdate"],
            ["runServerUpdate"],
            ["runServerUpdate"],
        ]
        expect(page.get_by_test_id("payment-element")).to_have_text("Stripe Payment Element")

        page.get_by_test_id("pay").click()  # Stripe.js confirms; this card is declined
        settled(page)
        expect(page.get_by_test_id("status")).to_contain_text("Your card was declined.")
        expect(page.get_by_test_id("session-status")).to_have_attribute("data-status", "open")
        assert page.evaluate("window.__stripeCalls.at(-1)") == ["confirm"]


def test_the_demo_config_names_the_key_and_the_page_allows_stripe_js_only_with_one():
    for key, sandbox in ((None, True), ("pk_test_demo", False)):
        app = FastAPI()
        mount_demo(app, publishable_key=key, sandbox=sandbox)
        assert app.openapi()["paths"] == {}
        with serve_in_thread(app) as url:
            assert httpx.get(f"{url}{DEMO_CONFIG_PATH}").json() == {
                "publishable_key": key,
                "sandbox": sandbox,
                "shipping_countries": [],  # no service here, so no catalog to ship from
            }
            page = httpx.get(f"{url}/")
            assert "text/html" in page.headers["content-type"]
            for asset in ("app.js", "view.js", "address.js", "stripe-sandbox.js", "style.css"):
                assert httpx.get(f"{url}{DEMO_STATIC_PATH}/{asset}").status_code == 200
        csp = dict(
            part.split(" ", 1) for part in page.headers["content-security-policy"].split("; ")
        )
        assert csp["default-src"] == "'self'"
        assert ("https://js.stripe.com" in csp["script-src"]) == (key is not None)
        assert ("https://api.stripe.com" in csp["connect-src"]) == (key is not None)


@pytest.mark.parametrize(
    ("key", "sandbox"), [("pk_live_demo", False), ("pk_test_demo", True), ("sk_test_x", False)]
)
def test_the_demo_takes_only_a_test_publishable_key_and_none_in_the_sandbox(key, sandbox):
    with pytest.raises(ValueError, match="publishable key"):
        mount_demo(FastAPI(), publishable_key=key, sandbox=sandbox)
