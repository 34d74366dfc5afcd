"""PlannedRoute answers exactly as FastAPI's own handler does, and defers to it when it must.

The differential test sends the same requests (valid ones, and every kind of invalid one the
API can meet: bad JSON, missing and mistyped fields, bad path and query parameters, wrong media
type, no body, no credentials) to the app as it is served and to the same app with FastAPI's
handler on every route, and compares status, media type and body.

(No `from __future__ import annotations` here: FastAPI reads the small app's closures'
annotations.)
"""

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import fastapi.routing
import httpx
import pytest
import respx
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request, Security
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from amount_updater.api.planned_route import PlannedRoute, _plan
from amount_updater.api.routes import ROUTERS
from amount_updater.app import create_app
from amount_updater.config import Settings
from tests.api.test_checkout_sessions import SID, token_for
from tests.conftest import API_KEY
from tests.support.stripe_objects import NOW, checkout_session, payment_intent, product_line

PID = "pi_test_a1"
JSON = {"Content-Type": "application/json"}
SESSION = {**JSON, **token_for()}
INTENT = {**JSON, **token_for(PID)}
ADMIN = {**JSON, "X-API-Key": API_KEY}
LEGACY = "/update-custom-amount"
GIFT = {"checkout_session_id": SID, "product_id": "gift_wrap"}
CS = f"/v1/checkout-sessions/{SID}"
PI = f"/v1/payment-intents/{PID}"
TWO_GIFTS = [{"product_id": "gift_wrap", "quantity": 2}]

# (method, path, headers, body): the body is sent as given when bytes, else as JSON.
Case = tuple[str, str, dict[str, str], Any]
CASES: list[Case] = [
    ("GET", "/healthz", {}, None),
    ("POST", LEGACY, SESSION, GIFT),
    ("POST", LEGACY, SESSION, {"checkout_session_id": SID}),
    ("POST", LEGACY, SESSION, {"checkout_session_id": SID, "product_id": 7}),
    ("POST", LEGACY, SESSION, {"checkout_session_id": "nope", "product_id": "x"}),
    ("POST", LEGACY, SESSION, [1, 2]),
    ("POST", LEGACY, SESSION, b'{"checkout_session_id": '),
    ("POST", LEGACY, SESSION, b"\xff\xfe"),
    ("POST", LEGACY, SESSION, b""),
    ("POST", LEGACY, SESSION, b"null"),
    ("POST", LEGACY, SESSION, b"[" * 5000),
    ("POST", LEGACY, {**SESSION, "Content-Type": "APPLICATION/JSON"}, GIFT),
    ("POST", LEGACY, {**SESSION, "Content-Type": "application/merge-patch+json"}, GIFT),
    ("POST", LEGACY, {**SESSION, "Content-Type": "text/plain"}, b"{}"),
    ("POST", LEGACY, {**SESSION, "Content-Type": "application/json; charset=utf-8"}, GIFT),
    ("POST", LEGACY, JSON, GIFT),
    ("POST", LEGACY, {**SESSION, "Idempotency-Key": "k" * 300}, GIFT),
    ("GET", CS, SESSION, None),
    ("GET", "/v1/checkout-sessions/not-a-session", SESSION, None),
    ("GET", CS, {}, None),
    ("POST", f"{CS}/items", SESSION, {"product_id": "gift_wrap", "quantity": 2}),
    ("POST", f"{CS}/items", SESSION, {"product_id": "gift_wrap", "quantity": 0}),
    ("POST", f"{CS}/items", SESSION, {"product_id": "gift_wrap", "quantity": "many"}),
    ("POST", f"{CS}/items", SESSION, {"product_id": "no_such_thing"}),
    ("PATCH", f"{CS}/items/tshirt", SESSION, {"quantity": 3}),
    ("PATCH", f"{CS}/items/tshirt", SESSION, {"quantity": -1}),
    ("DELETE", f"{CS}/items/tshirt", SESSION, None),
    ("PUT", f"{CS}/discount", SESSION, {"code": "NOPE"}),
    ("PUT", f"{CS}/discount", SESSION, {}),
    ("DELETE", f"{CS}/discount", SESSION, None),
    ("PUT", f"{CS}/shipping", SESSION, {"shipping_rate_id": 5}),
    ("PUT", f"{CS}/cart", SESSION, {"items": [{"product_id": "gift_wrap", "quantity": 1}]}),
    ("PUT", f"{CS}/cart", SESSION, {"items": "all"}),
    ("POST", "/v1/checkout-sessions", ADMIN, {"currency": "usd", "items": []}),
    ("POST", "/v1/checkout-sessions", ADMIN, {"currency": 5}),
    ("GET", PI, INTENT, None),
    ("GET", "/v1/payment-intents/pi_", INTENT, None),
    ("POST", f"{PI}/items", INTENT, {"product_id": "gift_wrap"}),
    ("POST", f"{PI}/items", INTENT, {"product_id": ["gift_wrap"]}),
    ("POST", "/v1/quotes", JSON, {"currency": "usd", "items": TWO_GIFTS}),
    ("POST", "/v1/quotes", JSON, {"currency": "usd", "items": [{"quantity": 2}]}),
    ("POST", "/v1/quotes", JSON, {"currency": "usd", "items": TWO_GIFTS, "extra": True}),
    ("GET", "/v1/catalog", {}, None),
    ("GET", "/v1/catalog?currency=usd", {}, None),
    ("GET", "/v1/catalog?currency=zz", {}, None),
    ("GET", "/v1/catalog?currency=", {}, None),
    ("POST", "/v1/tokens", ADMIN, {"object_id": SID}),
    ("POST", "/v1/tokens", ADMIN, {"object_id": 12}),
    ("POST", "/v1/tokens", JSON, {"object_id": SID}),
    ("POST", "/v1/webhooks/stripe", JSON, {"type": "checkout.session.completed"}),
]  # fmt: skip


def _stripe(router: respx.MockRouter) -> None:
    session = checkout_session(
        line_items=[product_line("tshirt", "T-shirt", 2500, 2, id="li_shirt")],
        metadata={"amount_updater_rev": "3"},
    )
    router.get(f"/v1/checkout/sessions/{SID}").respond(200, json=session)
    router.post(f"/v1/checkout/sessions/{SID}").respond(
        200, json={**session, "line_items": None, "amount_total": 5600}
    )
    router.get(f"/v1/payment_intents/{PID}").respond(200, json=payment_intent(id=PID))
    router.post(f"/v1/payment_intents/{PID}").respond(200, json=payment_intent(id=PID))


def _request(client: httpx.AsyncClient, case: Case) -> Any:
    method, path, headers, body = case
    content = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
    return client.request(method, path, headers=headers, content=content)


@contextmanager
def _fastapis_solver_calls() -> Iterator[list[int]]:
    """A list that grows by one each time FastAPI's own dependency solver runs."""
    solved: list[int] = []
    solve = fastapi.routing.solve_dependencies

    async def counting_solve(**kwargs: Any) -> Any:
        solved.append(1)
        return await solve(**kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fastapi.routing, "solve_dependencies", counting_solve)
        yield solved


Answer = tuple[int, str | None, Any, dict[str, str], int, bool]
UNCOMPARED_HEADERS = frozenset({"x-request-id", "date"})


async def _answers(app: FastAPI, stripe: respx.MockRouter) -> list[Answer]:
    """Per case: status, media type, body, headers, Stripe calls made, and whether FastAPI's
    own dependency solver ran for it."""
    answers = []
    with _fastapis_solver_calls() as solved:
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for case in CASES:
                    calls, solves = len(stripe.calls), len(solved)
                    response = await _request(client, case)
                    media = response.headers.get("content-type")
                    body = response.json() if media and "json" in media else response.text
                    headers = {
                        name: value
                        for name, value in response.headers.items()
                        if name not in UNCOMPARED_HEADERS
                    }
                    answers.append(
                        (
                            response.status_code,
                            media,
                            body,
                            headers,
                            len(stripe.calls) - calls,
                            len(solved) > solves,
                        )
                    )
    return answers


@pytest.mark.asyncio
async def test_every_route_answers_as_fastapis_own_handler(
    settings: Settings, stripe_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
):
    _stripe(stripe_mock)
    planned = await _answers(create_app(settings, clock=lambda: float(NOW)), stripe_mock)
    with monkeypatch.context() as patch:
        patch.setattr(PlannedRoute, "get_route_handler", APIRoute.get_route_handler)
        fastapis = await _answers(create_app(settings, clock=lambda: float(NOW)), stripe_mock)

    for case, ours, theirs in zip(CASES, planned, fastapis, strict=True):
        assert ours[:5] == theirs[:5], f"{case[0]} {case[1]} {case[3]!r}"
    statuses = {answer[0] for answer in planned}
    assert {200, 201, 401, 415, 422}.issubset(statuses)  # success and every refusal
    # FastAPI's handler solves every request it serves; the plan served every request that
    # succeeded, and left some invalid ones to FastAPI's handler.
    assert all(answer[5] for answer in fastapis if answer[0] < 300)
    assert not any(answer[5] for answer in planned if answer[0] < 300)
    assert any(answer[5] for answer in planned)


def test_the_routes_that_carry_traffic_are_planned():
    # /readyz sets its status through a `Response` parameter, which plans leave to FastAPI.
    routes = [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
    unplanned = [f"{sorted(route.methods)} {route.path}" for route in routes if not _plan(route)]
    assert unplanned == ["['GET'] /readyz"]


# A small app of its own, to watch what runs.


class Item(BaseModel):
    name: str
    quantity: int = 1


class Echo(BaseModel):
    name: str
    quantity: int
    seen: list[str]
    header: str | None


def _counting_app() -> tuple[FastAPI, list[str]]:
    calls: list[str] = []

    async def outer(request: Request) -> str:
        calls.append("outer")
        return "outer"

    async def inner(request: Request, outer_value: Annotated[str, Depends(outer)]) -> str:
        calls.append("inner")
        return f"inner({outer_value})"

    async def generator() -> AsyncIterator[str]:
        calls.append("generator")
        yield "generator"

    router = APIRouter(route_class=PlannedRoute)

    @router.post("/echo")
    async def echo(
        item: Item,
        a: Annotated[str, Depends(inner)],
        b: Annotated[str, Depends(outer)],
        header: Annotated[str | None, Header(alias="X-Note", max_length=5)] = None,
    ) -> Echo:
        return Echo(name=item.name, quantity=item.quantity, seen=[a, b], header=header)

    @router.post("/generator")
    async def with_generator(item: Item, g: Annotated[str, Depends(generator)]) -> Echo:
        return Echo(name=item.name, quantity=item.quantity, seen=[g], header=None)

    app = FastAPI()
    app.include_router(router)
    return app, calls


async def _post(app: FastAPI, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post(path, **kwargs)


@pytest.mark.asyncio
async def test_dependencies_run_once_each_in_fastapis_order_with_the_per_request_cache():
    app, calls = _counting_app()
    response = await _post(app, "/echo", json={"name": "wrap"}, headers={"X-Note": "hi"})
    assert response.status_code == 200
    assert response.json() == {
        "name": "wrap",
        "quantity": 1,
        "seen": ["inner(outer)", "outer"],
        "header": "hi",
    }
    assert calls == ["outer", "inner"]  # `outer` is cached for `b`


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("kwargs", "expected_calls"),
    [
        ({"json": {"name": 5}}, ["outer", "inner"]),
        ({"json": {"name": "wrap"}, "headers": {"X-Note": "too long"}}, ["outer", "inner"]),
        # FastAPI refuses a body it cannot decode before it solves any dependency.
        ({"content": b"{", "headers": {"Content-Type": "application/json"}}, []),
    ],
)
async def test_an_invalid_request_runs_no_dependency_twice(
    kwargs: dict[str, Any], expected_calls: list[str]
):
    app, calls = _counting_app()
    response = await _post(app, "/echo", **kwargs)
    assert response.status_code == 422
    assert calls == expected_calls  # as FastAPI's handler runs them, once


@pytest.mark.asyncio
async def test_overrides_and_unplanned_routes_get_fastapis_handler():
    app, _ = _counting_app()

    async def fake_outer() -> str:
        return "fake"

    app.dependency_overrides[_dependency(app, "/echo", "b")] = fake_outer
    response = await _post(app, "/echo", json={"name": "wrap"})
    assert response.json()["seen"] == ["inner(fake)", "fake"]

    app.dependency_overrides.clear()
    response = await _post(app, "/generator", json={"name": "wrap"})
    assert response.json()["seen"] == ["generator"]


def _dependency(app: FastAPI, path: str, name: str) -> Any:
    for route in _routes(app):
        if route.path == path:
            for sub in route.dependant.dependencies:
                if sub.name == name:
                    return sub.call
    raise LookupError(name)


def _routes(app: FastAPI) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in app.router.routes:
        original = getattr(route, "original_router", None)
        routes = original.routes if original is not None else [route]
        found += [r for r in routes if isinstance(r, APIRoute)]
    return found


def test_routes_outside_the_plan_are_recognised():
    app, _ = _counting_app()
    by_path = {route.path: route for route in _routes(app)}
    assert _plan(by_path["/echo"]) is not None
    assert _plan(by_path["/generator"]) is None


def _features_app(calls: list[str]) -> FastAPI:
    """Dependency features the plan takes on, behind an include that adds a dependency."""

    async def included(request: Request) -> None:
        calls.append("included")

    async def uncached(request: Request) -> int:
        calls.append("uncached")
        return len(calls)

    async def side_effect() -> None:
        calls.append("side effect")

    async def note(note: Annotated[str, Header(alias="X-Note", max_length=5)]) -> str:
        calls.append("note")
        return note

    async def connection(conn: HTTPConnection) -> str:
        return conn.url.path

    api_key = APIKeyHeader(name="X-Key", auto_error=False)

    router = APIRouter(route_class=PlannedRoute)

    @router.post("/features/{kind}", dependencies=[Depends(side_effect)])
    async def features(
        kind: Annotated[str, Path(pattern="^[a-z]+$")],
        item: Item,
        first: Annotated[int, Depends(uncached, use_cache=False)],
        second: Annotated[int, Depends(uncached, use_cache=False)],
        noted: Annotated[str, Depends(note)],
        path: Annotated[str, Depends(connection)],
        key: Annotated[str | None, Security(api_key)],
        limit: Annotated[int, Query(ge=1)] = 10,
        tag: Annotated[list[str], Query()] = [],  # noqa: B006  # a sequence: FastAPI's reader
    ) -> Echo:
        seen = [kind, str(first), str(second), noted, path, str(key), str(limit), *tag]
        return Echo(name=item.name, quantity=item.quantity, seen=seen, header=None)

    @router.delete("/features/{kind}", status_code=204)
    async def nothing(kind: str) -> None:
        calls.append(f"deleted {kind}")

    app = FastAPI()
    app.include_router(router, dependencies=[Depends(included)])
    return app


NOTE_AND_KEY = {"X-Note": "hi", "X-Key": "k"}
FEATURE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/features/wrap?limit=3", {"json": {"name": "w"}, "headers": NOTE_AND_KEY}),
    ("POST", "/features/wrap", {"json": {"name": "w", "quantity": 2}, "headers": {"X-Note": "hi"}}),
    ("POST", "/features/wrap", {"json": {"name": "w"}}),  # the dependency's header is missing
    ("POST", "/features/wrap", {"json": {"name": "w"}, "headers": {"X-Note": "far too long"}}),
    ("POST", "/features/WRAP", {"json": {"name": "w"}, "headers": {"X-Note": "hi"}}),
    ("POST", "/features/wrap?limit=0", {"json": {"name": "w"}, "headers": {"X-Note": "hi"}}),
    ("POST", "/features/wrap?limit=", {"json": {"name": "w"}, "headers": {"X-Note": "hi"}}),
    ("POST", "/features/wrap?limit=2&limit=x", {"json": {"name": "w"}, "headers": NOTE_AND_KEY}),
    ("POST", "/features/wrap?tag=a&tag=b", {"json": {"name": "w"}, "headers": NOTE_AND_KEY}),
    ("POST", "/features/wrap", {"json": {"name": "w"}, "headers": {"X-Note": ""}}),
    ("POST", "/features/wrap", {"json": {"name": 1}, "headers": {"X-Note": "hi"}}),
    ("DELETE", "/features/wrap", {}),
]  # fmt: skip


async def _feature_answers() -> list[tuple[int, Any, list[str], bool]]:
    """Per case: status, body, what ran, and whether FastAPI's dependency solver ran."""
    answers = []
    with _fastapis_solver_calls() as solved:
        for method, path, kwargs in FEATURE_CASES:
            calls: list[str] = []
            solves = len(solved)
            transport = httpx.ASGITransport(app=_features_app(calls))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.request(method, path, **kwargs)
            body = response.json() if response.content else None
            answers.append((response.status_code, body, calls, len(solved) > solves))
    return answers


@pytest.mark.asyncio
async def test_dependency_features_behave_as_under_fastapis_handler(
    monkeypatch: pytest.MonkeyPatch,
):
    ours = await _feature_answers()
    with monkeypatch.context() as patch:
        patch.setattr(PlannedRoute, "get_route_handler", APIRoute.get_route_handler)
        theirs = await _feature_answers()

    for case, mine, fastapis in zip(FEATURE_CASES, ours, theirs, strict=True):
        assert mine[:3] == fastapis[:3], case
    # Served by the plan when valid, by FastAPI's handler when not; the DELETE has no response
    # model, which plans leave to FastAPI.
    posts = ours[:-1]
    assert [solved for *_, solved in posts] == [status >= 400 for status, *_ in posts]
    assert ours[-1][3]
    assert ours[0][:3] == (
        200,
        {
            "name": "w",
            "quantity": 1,
            "seen": ["wrap", "3", "4", "hi", "/features/wrap", "k", "3"],
            "header": None,
        },
        ["included", "side effect", "uncached", "uncached", "note"],
    )
    assert ours[-1][:3] == (204, None, ["included", "deleted wrap"])
    assert {answer[0] for answer in ours} == {200, 204, 422}
