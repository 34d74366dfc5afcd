"""`CredentialsDep`: one dependency reads what the caller presented, the way FastAPI's HTTPBearer
and APIKeyHeader (auto_error=False) would, and every route that takes it documents that security."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request

from amount_updater.api.deps import ANONYMOUS_OR_API_KEY, TOKEN_OR_API_KEY, _credentials
from amount_updater.api.routes import ROUTERS


def request_with(*headers: tuple[bytes, bytes]) -> Request:
    request = Request({"type": "http", "headers": list(headers), "state": {}})
    request.state.authenticator = object()
    return request


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("authorization", "bearer"),
    [
        (b"Bearer abc.def", "abc.def"),
        (b"bearer abc.def", "abc.def"),  # the scheme is case-insensitive
        (b"Basic dXNlcjpwYXNz", None),  # another scheme is no bearer token
        (b"Bearer", None),  # a scheme without credentials
        (b"", None),
    ],
)
async def test_the_bearer_token_is_read_as_httpbearer_reads_it(
    authorization: bytes, bearer: str | None
):
    credentials = await _credentials(request_with((b"authorization", authorization)))
    assert credentials.bearer == bearer
    assert credentials.api_key is None


@pytest.mark.asyncio
@pytest.mark.parametrize(("value", "api_key"), [(b"key-123", "key-123"), (b"", None)])
async def test_the_api_key_is_read_from_x_api_key(value: bytes, api_key: str | None):
    credentials = await _credentials(request_with((b"x-api-key", value)))
    assert (credentials.api_key, credentials.bearer) == (api_key, None)


def _takes_credentials(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call is _credentials:
            return True
        pending.extend(dependency.dependencies)
    return False


def test_every_route_taking_credentials_documents_a_token_or_an_api_key(app: FastAPI):
    document: dict[str, Any] = app.openapi()
    checked = 0
    routes = [route for router in ROUTERS for route in router.routes]
    for route in routes:
        if not isinstance(route, APIRoute) or not _takes_credentials(route):
            continue
        anonymous = route.path_format in (
            "/v1/checkout-sessions",
            "/v1/payment-intents",
            "/v1/catalog",
            "/v1/quotes",
        )
        expected = ANONYMOUS_OR_API_KEY if anonymous else TOKEN_OR_API_KEY
        for method in route.methods:
            operation = document["paths"][route.path_format][method.lower()]
            assert operation["security"] == expected["security"], route.path_format
            checked += 1
    # The reference contract, the read and 8 changes per object kind, a session's shipping
    # address, the two creations, the catalog and quotes.
    assert checked == 24
    schemes = document["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Update token for one object",
    }
    assert schemes["APIKeyHeader"]["name"] == "X-API-Key"


@pytest.mark.asyncio
async def test_the_credentials_never_show_in_their_repr():
    credentials = await _credentials(
        request_with((b"authorization", b"Bearer tok_secret"), (b"x-api-key", b"key_secret"))
    )
    assert "tok_secret" not in repr(credentials)
    assert "key_secret" not in repr(credentials)
