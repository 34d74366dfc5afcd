"""DirectRoutes sends a request straight to the planned handler FastAPI sent the same method and
path to before, answers as FastAPI's stack does, and leaves everything else to it.

(No `from __future__ import annotations` here: FastAPI reads the small app's closures'
annotations.)
"""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import APIRouter as FastAPIRouter
from pydantic import BaseModel

from amount_updater.api.direct_routes import DirectRoutes
from amount_updater.api.planned_route import PlannedRoute
from amount_updater.app import create_app
from amount_updater.config import Settings
from tests.support.asgi import disconnecting_after, http_scope


class Item(BaseModel):
    name: str


class Echo(BaseModel):
    name: str
    seen: list[str]


class Teapot(Exception):
    pass


async def _dependency() -> str:
    return "dependency"


def _app(max_paths: int = 100) -> FastAPI:
    router = APIRouter(route_class=PlannedRoute)

    @router.post("/echo")
    async def echo(item: Item, seen: Annotated[str, Depends(_dependency)]) -> Echo:
        if item.name == "teapot":
            raise Teapot()
        if item.name == "gone":
            raise HTTPException(410, "gone")
        if item.name == "boom":
            raise RuntimeError("boom")
        if item.name == "missing":
            return JSONResponse({"missing": True}, status_code=404)  # type: ignore[return-value]
        return Echo(name=item.name, seen=[seen])

    @router.post("/items/{name}")
    async def named(name: Annotated[str, Path()], item: Item) -> Echo:
        ran.append(name)
        return Echo(name=name, seen=[item.name])

    @router.get("/where/{name}")
    async def where(request: Request, name: str) -> Echo:
        route, endpoint = request.scope["route"], request.scope["endpoint"]
        return Echo(name=name, seen=[route.path, endpoint.__name__])

    limited = APIRouter(route_class=PlannedRoute, max_body_size=64)

    @limited.post("/limited")
    async def small(item: Item) -> Echo:
        return Echo(name=item.name, seen=[])

    app = FastAPI()
    app.include_router(router)
    app.include_router(limited)

    async def teapot(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"handled": type(exc).__name__}, status_code=418)

    def gone(request: Request, exc: Exception) -> PlainTextResponse:  # a plain def: a thread
        return PlainTextResponse("status handler", status_code=410)

    async def unexpected(request: Request, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("unexpected", status_code=500)

    app.add_exception_handler(Teapot, teapot)
    app.add_exception_handler(410, gone)
    app.add_exception_handler(Exception, unexpected)
    app.add_middleware(DirectRoutes, exception_handlers=app.exception_handlers, max_paths=max_paths)
    app.add_middleware(_RecordExceptions)
    return app


ran: list[str] = []  # what `named` ran for
escaped: list[str] = []  # exceptions that went up through the middlewares


class _RecordExceptions:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            escaped.append(type(exc).__name__)
            raise


@contextmanager
def _routed() -> Iterator[list[str]]:
    """The paths of the requests that went through FastAPI's router."""
    paths: list[str] = []
    route = FastAPIRouter.__call__

    async def counting(self: Any, scope: Any, receive: Any, send: Any) -> None:
        paths.append(scope["path"])
        await route(self, scope, receive, send)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FastAPIRouter, "__call__", counting)
        yield paths


@asynccontextmanager
async def _serving(app: FastAPI) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """A client for `app`, and the paths of its requests that went through FastAPI's router."""
    with _routed() as routed:
        async with _client(app) as client:
            yield client, routed


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


@pytest.fixture(autouse=True)
def _clean() -> None:
    ran.clear()
    escaped.clear()


@pytest.mark.asyncio
async def test_a_path_served_by_a_plan_skips_routing_from_then_on():
    app = _app()
    async with _serving(app) as (client, routed):
        answers = [await client.post("/echo", json={"name": f"n{i}"}) for i in range(3)]
    assert [a.json() for a in answers] == [
        {"name": f"n{i}", "seen": ["dependency"]} for i in range(3)
    ]
    assert routed == ["/echo"]


@pytest.mark.asyncio
async def test_requests_the_plan_declines_are_answered_by_fastapi():
    app = _app()
    async with _serving(app) as (client, routed):
        await client.post("/echo", json={"name": "first"})
        invalid = await client.post("/echo", json={"name": 5})
        broken = await client.post(
            "/echo", content=b"{", headers={"Content-Type": "application/json"}
        )
        app.dependency_overrides[_dependency] = lambda: "overridden"
        overridden = await client.post("/echo", json={"name": "o"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "name"]
    assert broken.status_code == 422
    assert overridden.json() == {"name": "o", "seen": ["overridden"]}
    # Each of them reached FastAPI's router whole, body included.
    assert routed == ["/echo"] * 4


@pytest.mark.asyncio
async def test_paths_with_parameters_are_learned_one_path_at_a_time():
    app = _app()
    async with _serving(app) as (client, routed):
        answers = [
            await client.post(f"/items/{name}", json={"name": "x"})
            for name in ("a", "a", "b", "a", "b")
        ]
    assert [a.json()["name"] for a in answers] == ["a", "a", "b", "a", "b"]
    assert routed == ["/items/a", "/items/b"]


@pytest.mark.asyncio
async def test_the_table_keeps_the_newest_paths_up_to_its_bound():
    app = _app(max_paths=2)
    async with _serving(app) as (client, routed):
        for name in ("a", "b", "c", "c", "b", "a"):
            answer = await client.post(f"/items/{name}", json={"name": "x"})
            assert answer.json()["name"] == name
    # Learning c pushed a out; b and c stayed; a, back, is routed and learned again.
    assert routed == ["/items/a", "/items/b", "/items/c", "/items/a"]


@pytest.mark.asyncio
async def test_exceptions_are_answered_by_the_apps_handlers_as_starlette_looks_them_up():
    app = _app()
    async with _serving(app) as (client, routed):
        await client.post("/echo", json={"name": "first"})
        teapot = await client.post("/echo", json={"name": "teapot"})
        gone = await client.post("/echo", json={"name": "gone"})
        boom = await client.post("/echo", json={"name": "boom"})
    assert routed == ["/echo"]
    assert (teapot.status_code, teapot.json()) == (418, {"handled": "Teapot"})
    # A status handler comes before the HTTPException class's; a sync one runs in a thread.
    assert (gone.status_code, gone.text) == (410, "status handler")
    # Only the handler for Exception matches: the exception goes up through the middlewares
    # to Starlette's outermost layer, which answers with that handler.
    assert (boom.status_code, boom.text) == (500, "unexpected")
    assert escaped[-1:] == ["RuntimeError"]


@pytest.mark.asyncio
async def test_answers_match_fastapis_stack_for_the_same_requests():
    requests: list[dict[str, Any]] = [
        {"json": {"name": "a"}},
        {"json": {"name": "teapot"}},
        {"json": {"name": "gone"}},
        {"json": {}},
        {"content": b"[", "headers": {"Content-Type": "application/json"}},
        {"content": b"", "headers": {"Content-Type": "application/json"}},
        {"content": b"name=a", "headers": {"Content-Type": "text/plain"}},
    ]

    async def answers(app: FastAPI) -> list[tuple[int, bytes, list[tuple[str, str]]]]:
        out = []
        async with _client(app) as client:
            await client.post("/echo", json={"name": "learn"})
            for kwargs in requests:
                answer = await client.post("/echo", **kwargs)
                out.append((answer.status_code, answer.content, sorted(answer.headers.items())))
        return out

    direct = await answers(_app())
    routed_app = _app()
    routed_app.user_middleware.clear()  # the same app without DirectRoutes
    assert direct == await answers(routed_app)


@pytest.mark.asyncio
async def test_a_direct_request_carries_the_route_routing_found():
    app = _app()
    async with _serving(app) as (client, routed):
        answers = [(await client.get("/where/x")).json() for _ in range(2)]
    assert routed == ["/where/x"]
    assert answers == [{"name": "x", "seen": ["/where/{name}", "where"]}] * 2


@pytest.mark.asyncio
async def test_only_successes_are_learned():
    app = _app()
    async with _serving(app) as (client, routed):
        await client.post("/echo", json={"name": "teapot"})
        await client.post("/echo", json={"name": "gone"})
        missing = [await client.post("/echo", json={"name": "missing"}) for _ in range(2)]
        await client.post("/echo", json={"name": "a"})
        await client.post("/echo", json={"name": "b"})
    assert [answer.status_code for answer in missing] == [404, 404]
    assert routed == ["/echo"] * 5


@pytest.mark.asyncio
async def test_the_host_and_the_root_path_are_part_of_what_is_learned():
    app = _app()
    with _routed() as routed:
        for base, root_path in (("http://a", ""), ("http://b", ""), ("http://a", "/api")):
            transport = httpx.ASGITransport(app=app, root_path=root_path)
            async with httpx.AsyncClient(transport=transport, base_url=base) as client:
                for _ in range(2):
                    path = f"{root_path}/echo"
                    assert (await client.post(path, json={"name": "n"})).status_code == 200
        # Learned under root path /api, the same path without it is not the same request.
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://a") as client:
            assert (await client.post("/api/echo", json={"name": "n"})).status_code == 404
    assert routed == ["/echo", "/echo", "/api/echo", "/api/echo"]


@pytest.mark.asyncio
async def test_requests_served_inside_a_mounted_app_are_not_learned():
    inner = FastAPI()
    router = APIRouter(route_class=PlannedRoute)

    @router.post("/echo")
    async def echo(item: Item) -> Echo:
        return Echo(name=item.name, seen=["inner"])

    inner.include_router(router)
    app = _app()
    app.mount("/inner", inner)
    async with _serving(app) as (client, routed):
        for _ in range(2):
            answer = await client.post("/inner/echo", json={"name": "n"})
            assert answer.json() == {"name": "n", "seen": ["inner"]}
    # The outer router routed both (the inner one is counted too).
    assert routed.count("/inner/echo") == 4


@pytest.mark.asyncio
async def test_a_route_with_its_own_body_limit_is_not_learned():
    app = _app()
    async with _serving(app) as (client, routed):
        small = [await client.post("/limited", json={"name": "n"}) for _ in range(2)]
        large = await client.post("/limited", json={"name": "n" * 100})
    assert [answer.status_code for answer in small] == [200, 200]
    assert large.status_code == 413
    assert routed == ["/limited"] * 3


@pytest.mark.asyncio
async def test_a_body_cut_short_by_a_disconnect_runs_nothing():
    async def answer(app: FastAPI) -> tuple[int, bytes]:
        async with _client(app) as client:
            await client.post("/items/learned", json={"name": "x"})
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        headers = [(b"host", b"t"), (b"content-type", b"application/json")]
        scope = http_scope("POST", "/items/learned", headers)
        receive = disconnecting_after(b'{"name": "x"}')
        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    direct = await answer(_app())
    assert ran == ["learned"]  # only the request that taught the path
    without = _app()
    without.user_middleware = [m for m in without.user_middleware if m.cls is not DirectRoutes]
    assert direct == await answer(without)


@pytest.mark.asyncio
async def test_a_body_over_the_limit_on_a_learned_path_is_counted_under_its_route(
    settings: Settings,
):
    app = create_app(settings)
    quote = {"currency": "usd", "items": [{"product_id": "gift_wrap", "quantity": 1}]}

    async def too_much() -> AsyncIterator[bytes]:  # chunked: refused while it is read
        for _ in range(100):
            yield b"x" * 1000

    async with LifespanManager(app) as manager, _serving(manager.app) as (client, routed):
        assert (await client.post("/v1/quotes", json=quote)).status_code == 200
        refused = await client.post(
            "/v1/quotes", content=too_much(), headers={"Content-Type": "application/json"}
        )
        metrics = (await client.get("/metrics")).text
    assert (refused.status_code, refused.json()["code"]) == (413, "payload_too_large")
    assert routed.count("/v1/quotes") == 1
    assert 'route="/v1/quotes",status="413"' in metrics
