"""Sandbox mode as a newcomer meets it: `amount-updater serve` with no Stripe key serves the API
and the demo, says so, and keeps every Stripe call inside the process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.service_process import SANDBOX_ENV, running_service


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("sandbox")
    with running_service(SANDBOX_ENV, workdir, log_name="serve.log") as url:
        yield url, workdir / "serve.log"


def test_says_it_is_a_sandbox_on_start_up_and_in_healthz(sandbox):
    url, log = sandbox
    assert "SANDBOX MODE" in log.read_text()
    assert httpx.get(f"{url}/healthz").json()["stripe"] == "sandbox"


def test_serves_the_demo_storefront_and_its_assets(sandbox):
    url, _ = sandbox
    page = httpx.get(f"{url}/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert httpx.get(f"{url}/_demo/static/app.js").status_code == 200


def test_a_cart_can_be_built_changed_paid_and_then_refused(sandbox):
    url, _ = sandbox
    with httpx.Client(base_url=url) as api:
        created = api.post(
            "/v1/checkout-sessions", json={"currency": "eur", "items": [{"product_id": "mug"}]}
        ).json()
        sid, auth = created["id"], {"Authorization": f"Bearer {created['token']}"}
        cart = api.post(
            f"/v1/checkout-sessions/{sid}/items", json={"product_id": "warranty"}, headers=auth
        ).json()
        assert cart["amount_total"] == 1100 + 1800

        emulator = {"Authorization": "Bearer sk_test_sandbox"}
        held = api.get(f"/_sandbox/stripe/v1/checkout/sessions/{sid}", headers=emulator).json()
        assert held["amount_total"] == 2900
        paid = api.post(
            f"/_sandbox/stripe/v1/test_helpers/checkout/sessions/{sid}/complete", headers=emulator
        )
        assert paid.json()["status"] == "complete"

        refused = api.post(
            f"/v1/checkout-sessions/{sid}/items", json={"product_id": "gift_wrap"}, headers=auth
        )
        assert refused.status_code == 409
        assert refused.json()["code"] == "not_updatable"


def test_the_sandbox_is_not_in_the_public_api_document(sandbox):
    url, _ = sandbox
    paths = httpx.get(f"{url}/openapi.json").json()["paths"]
    assert not [path for path in paths if path == "/" or path.startswith("/_sandbox")]
