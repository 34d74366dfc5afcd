"""DirectRoutes sends a request straight to the planned handler FastAPI sent the same method and
path to before, answers as FastAPI's stack does, and leaves everything else to it.

(No `from __future__ import annotations` here: FastAPI reads the small app's closures'
annotations.)
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import APIRouter as FastAPIRouter
from pydantic import BaseModel

from amount_updater.api.direct_routes import DirectRoutes
from amount_updater.api.planned_route import PlannedRoute


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
        return Echo(name=item.name, seen=[seen])

    @router.post("/items/{name}")
    async def named(name: Annotated[str, Path()], item: Item) -> Echo:
        return Echo(name=name, seen=[item.name])

    app = FastAPI()
    app.include_router(router)

    async def teapot(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"handled": type(exc).__name__}, status_code=418)

    def gone(request: Request, exc: Exception) -> PlainTextResponse:  # a plain def: a thread
        return PlainTextResponse("status handler", status_code=410)

    app.add_exception_handler(Teapot, teapot)
    app.add_exception_handler(410, gone)
    app.add_middleware(DirectRoutes, exception_handlers=app.exception_handlers, max_paths=max_paths)
    return app


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


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


@pytest.mark.asyncio
async def test_a_path_served_by_a_plan_skips_routing_from_then_on():
    app = _app()
    with _routed() as routed:
        async with _client(app) as client:
            answers = [await client.post("/echo", json={"name": f"n{i}"}) for i in range(3)]
    assert [a.json() for a in answers] == [
        {"name": f"n{i}", "seen": ["dependency"]} for i in range(3)
    ]
    assert routed == ["/echo"]


@pytest.mark.asyncio
async def test_requests_the_plan_declines_are_answered_by_fastapi():
    app = _app()
    with _routed() as routed:
        async with _client(app) as client:
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
    with _routed() as routed:
        async with _client(app) as client:
            answers = [
                await client.post(f"/items/{name}", json={"name": "x"})
                for name in ("a", "a", "b", "a", "b")
            ]
    assert [a.json()["name"] for a in answers] == ["a", "a", "b", "a", "b"]
    assert routed == ["/items/a", "/items/b"]


@pytest.mark.asyncio
async def test_the_table_keeps_the_newest_paths_up_to_its_bound():
    app = _app(max_paths=2)
    with _routed() as routed:
        async with _client(app) as client:
            for name in ("a", "b", "c", "c", "b", "a"):
                answer = await client.post(f"/items/{name}", json={"name": "x"})
                assert answer.json()["name"] == name
    # Learning c pushed a out; b and c stayed; a, back, is routed and learned again.
    assert routed == ["/items/a", "/items/b", "/items/c", "/items/a"]


@pytest.mark.asyncio
async def test_exceptions_are_answered_by_the_apps_handlers_as_starlette_looks_them_up():
    app = _app()
    with _routed() as routed:
        async with _client(app) as client:
            await client.post("/echo", json={"name": "first"})
            teapot = await client.post("/echo", json={"name": "teapot"})
            gone = await client.post("/echo", json={"name": "gone"})
            boom = await client.post("/echo", json={"name": "boom"})
    assert routed == ["/echo"]
    assert (teapot.status_code, teapot.json()) == (418, {"handled": "Teapot"})
    # A status handler comes before the HTTPException class's; a sync one runs in a thread.
    assert (gone.status_code, gone.text) == (410, "status handler")
    # No handler but the one for Exception: it goes up, to Starlette's 500.
    assert boom.status_code == 500


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
