"""Problems for everything that goes wrong, and the OpenAPI document kept in the repository."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from amount_updater.app import create_app
from amount_updater.config import Settings, SettingsError

OPENAPI_FILE = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def test_the_committed_openapi_document_matches_the_code(app: FastAPI):
    committed = json.loads(OPENAPI_FILE.read_text())
    assert committed == json.loads(json.dumps(app.openapi())), (
        "openapi/openapi.json is stale: run `amount-updater openapi`"
    )


def test_every_route_documents_its_problems(app: FastAPI):
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if path in ("/healthz", "/readyz"):
                continue
            problem_statuses = [s for s in operation["responses"] if s.startswith(("4", "5"))]
            assert "422" in problem_statuses, f"{method} {path}"


@pytest.mark.asyncio
async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient):
    missing = await client.get("/nope")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert missing.headers["content-type"] == "application/problem+json"
    wrong_method = await client.delete("/v1/quotes")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"


@pytest.mark.asyncio
async def test_malformed_json_is_an_invalid_request(client: httpx.AsyncClient):
    response = await client.post(
        "/v1/quotes", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


@pytest.mark.asyncio
async def test_an_unexpected_error_answers_500_without_a_trace(app: FastAPI, settings: Settings):
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals sk_test_unit")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")

    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "Traceback" not in response.text
    assert "sk_test" not in response.text


def test_sandbox_mode_needs_its_own_address_as_the_api_base():
    with pytest.raises(SettingsError, match=r"^AMOUNT_UPDATER_STRIPE_API_BASE: sandbox mode"):
        create_app(Settings(sandbox=True))


def test_with_a_key_no_sandbox_route_exists(app: FastAPI):
    paths = {getattr(route, "path", "") for route in app.routes}
    assert not any(path == "/" or path.startswith("/_sandbox") for path in paths)


def test_a_test_publishable_key_serves_the_demo_but_no_emulator():
    app = create_app(
        Settings(stripe_secret_key="sk_test_demo", stripe_publishable_key="pk_test_demo")  # type: ignore[arg-type]
    )
    paths = {getattr(route, "path", "") for route in app.routes}
    assert "/" in paths
    assert not any(path.startswith("/_sandbox") for path in paths)


def test_a_live_key_never_serves_the_demo():
    app = create_app(
        Settings(
            stripe_secret_key="sk_live_demo",  # type: ignore[arg-type]
            stripe_publishable_key="pk_live_demo",
            catalog_path=Path(__file__).resolve().parents[1]
            / "src/amount_updater/catalog/sample.toml",
            token_secret="s" * 32,  # type: ignore[arg-type]
        )
    )
    paths = {getattr(route, "path", "") for route in app.routes}
    assert "/" not in paths
