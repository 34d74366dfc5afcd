"""/docs and /redoc load in a browser with no network: every asset comes from the service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import chromium
from tests.support.service_process import running_service


@pytest.fixture(scope="module")
def service_url(tmp_path_factory) -> Iterator[str]:
    env = {"AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_test_docs"}
    with running_service(env, Path(tmp_path_factory.mktemp("docs"))) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def load_offline(browser: Browser, url: str) -> tuple[Page, list[str]]:
    """Open `url` with every request that would leave 127.0.0.1 aborted and recorded."""
    context = browser.new_context()
    context.set_default_timeout(15_000)
    left: list[str] = []

    def only_local(route):  # type: ignore[no-untyped-def]
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.goto(url)
    return page, left


def test_swagger_ui_renders_every_route_offline(browser: Browser, service_url: str):
    page, left = load_offline(browser, f"{service_url}/docs")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/v1/checkout-sessions" in path for path in paths)
    assert left == []
    page.context.close()


def test_redoc_renders_offline(browser: Browser, service_url: str):
    page, left = load_offline(browser, f"{service_url}/redoc")
    expect(page.get_by_text("Server-side cart pricing for Stripe Elements").first).to_be_visible()
    expect(page.locator("[data-section-id]").first).to_be_attached()
    assert left == []
    page.context.close()
