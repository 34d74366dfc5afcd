"""The sandbox demo storefront, driven in headless Chromium against the real service process.

Every step checks the exact integer the page shows (`data-amount`) and that it equals the
`amount_total` the emulated Stripe holds for the session."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.service_process import running_service

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMULATOR_AUTH = {"Authorization": "Bearer sk_test_sandbox"}
REFUSED_AFTER_PAYMENT = "The checkout session is complete, not open."


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory) -> Iterator[str]:
    """`amount-updater serve` with no Stripe key (sandbox mode), from a directory with no .env."""
    with running_service({}, tmp_path_factory.mktemp("demo-sandbox")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed: .ci/run installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser, sandbox_url: str) -> Iterator[Page]:
    # A fixed locale keeps Intl.NumberFormat's output (e.g. "$25.00", "¥3,500") predictable.
    context = browser.new_context(
        base_url=sandbox_url, locale="en-US", viewport={"width": 1100, "height": 1000}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
        assert errors == [], f"JavaScript errors on the page: {errors}"
    finally:
        context.close()


@pytest.fixture
def emulator(sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_url, headers=EMULATOR_AUTH, timeout=10) as client:
        yield client


def settled(page: Page) -> None:
    """Wait until no request is in flight (the page sets aria-busy while one is)."""
    expect(page.locator("#app")).to_have_attribute("aria-busy", "false")


def expect_amounts(page: Page, emulator: httpx.Client, total: int, **others: int) -> None:
    """The page shows exactly these integers, and Stripe (emulated) holds the same total."""
    settled(page)
    expect(page.get_by_test_id("total")).to_have_attribute("data-amount", str(total))
    for test_id, amount in others.items():
        expect(page.get_by_test_id(test_id.replace("_", "-"))).to_have_attribute(
            "data-amount", str(amount)
        )
    cart = page.get_by_test_id("cart")
    expect(cart).to_have_attribute("data-session-id", re.compile(r"^cs_test_\w+$"))
    session_id = cart.get_attribute("data-session-id")
    held = emulator.get(f"/_sandbox/stripe/v1/checkout/sessions/{session_id}")
    assert held.status_code == 200, held.text
    assert held.json()["amount_total"] == total


def test_usd_cart_is_built_changed_paid_and_then_refused(page, emulator, tmp_path):
    page.goto("/")
    expect(page.get_by_test_id("status")).to_contain_text("Ready")
    expect(page.get_by_test_id("total")).to_have_attribute("data-amount", "0")

    page.get_by_test_id("add-tshirt").click()
    expect_amounts(page, emulator, 2500, subtotal=2500)
    expect(page.get_by_test_id("session-status")).to_have_attribute("data-status", "open")

    page.get_by_test_id("qty-plus-tshirt").click()
    expect_amounts(page, emulator, 5000)
    expect(page.get_by_test_id("qty-tshirt")).to_have_text("2")

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

    page.get_by_test_id("pay").click()
    settled(page)
    expect(page.get_by_test_id("session-status")).to_have_attribute("data-status", "complete")
    expect(page.get_by_test_id("session-status")).to_contain_text("Paid")
    expect_amounts(page, emulator, 4500)

    page.get_by_test_id("qty-plus-tshirt").click()
    settled(page)
    expect(status).to_contain_text(REFUSED_AFTER_PAYMENT)
    expect(status).to_have_attribute("data-kind", "error")
    expect_amounts(page, emulator, 4500)
    expect(page.get_by_test_id("qty-tshirt")).to_have_text("1")

    page.screenshot(path=str(tmp_path / "demo-usd.png"), full_page=True)


def test_jpy_amounts_have_no_minor_unit(page, emulator):
    page.goto("/")
    expect(page.get_by_test_id("status")).to_contain_text("Ready")
    page.get_by_test_id("currency").select_option("jpy")
    expect(page.get_by_test_id("status")).to_contain_text("JPY")
    expect(page.get_by_test_id("price-tshirt")).to_have_attribute("data-amount", "3500")

    page.get_by_test_id("add-tshirt").click()
    expect_amounts(page, emulator, 3500, subtotal=3500)
    total = page.get_by_test_id("total")
    expect(total).to_contain_text("3,500")
    expect(total).not_to_contain_text(".")
