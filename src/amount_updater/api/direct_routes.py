"""Requests served straight by the planned handler FastAPI chose for the same request line.

Between the middlewares and a route's handler FastAPI runs, for every request, its exception
layer, an exit-stack layer, its router (for included routers: scope bookkeeping per router
tried) and a wrapper that opens two exit stacks: about 47 us of CPU per request, 15 % of a whole
change (measured in process, Stripe answering from memory: 317 us per `/update-custom-amount`
through FastAPI's stack, 270 us straight to the handler).

This layer sits under the app's own middlewares and learns where FastAPI sends a request. A
request whose method, host, root path and path are new is routed by FastAPI; when a planned
handler (api/planned_route.py) serves it with a success, that handler tells this layer, which
keeps the handler and what routing found (the route, the path parameters). Later requests with
the same four go straight to it: Starlette's and FastAPI's routing read nothing else, so FastAPI
would send them there too. A request routed into a mounted app (another `app` or root path in
the scope by the time a handler serves it) is not learned. The table is bounded (`MAX_PATHS`,
the oldest out first), so paths with ids in them (a session's cart, changed a few times over a
checkout) are learned too without letting it grow with every id; and since only successes are
learned, filling it takes valid credentials for that many objects (each one rate-limited).

A request the handler's plan does not take (a body or parameter that does not validate, a body
cut short by a disconnect, dependency overrides) is handed, unchanged, to FastAPI's stack, which
answers it its own way. Nothing has run by then. An exception is answered by the app's exception
handlers, looked up as Starlette's exception layer looks them up (from the handlers the app has
when its first request comes, as that layer copies them); the handlers for `Exception` and 500,
and exceptions without a handler, go up to the middlewares, as they do from that layer.

Routes added or removed after the first requests are not seen; the app changes none.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Starlette's own lookup and test, so that an exception is handled as its exception layer would.
from starlette._exception_handler import _lookup_exception_handler
from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from amount_updater.api.planned_route import LEARN, PlannedHandler
from amount_updater.http.bodies import read_body, replay_body

_Key = tuple[str, bytes | None, str, str]  # method, Host header, root path, path
# About 6 MB when full of Checkout Session paths, 10 MB with the longest ids the API accepts
# (measured with tracemalloc).
MAX_PATHS = 10_000


@dataclass(frozen=True, slots=True)
class _Routed:
    """Where FastAPI sent a request: the handler, and what its routing set in the scope that the
    rest of the stack reads (the metrics label each request with its route's template)."""

    handler: PlannedHandler
    route: Any
    endpoint: Any
    path_params: dict[str, Any]


class DirectRoutes:
    def __init__(
        self,
        app: ASGIApp,
        *,
        exception_handlers: Mapping[Any, Any],
        max_paths: int = MAX_PATHS,
    ) -> None:
        self.app = app
        self.max_paths = max_paths
        # Taken as Starlette's exception layer takes them, when the app builds its middleware
        # stack (at its first request): the handlers for Exception and 500 go to its outermost
        # layer instead.
        self._handlers = {
            key: handler
            for key, handler in exception_handlers.items()
            if key not in (500, Exception)
        }
        self._paths: dict[_Key, _Routed] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((value for name, value in scope["headers"] if name == b"host"), None)
        root_path = scope.get("root_path", "")
        key = (scope["method"], host, root_path, scope["path"])
        routed = self._paths.get(key)
        if routed is None:
            scope[LEARN] = functools.partial(self._learn, key, scope.get("app"), root_path)
            await self.app(scope, receive, send)
            return
        scope["route"] = routed.route
        scope["endpoint"] = routed.endpoint
        scope["path_params"] = dict(routed.path_params)
        body = None
        try:
            if routed.handler.reads_body:
                # Read here, so that FastAPI can be handed the request whole if the plan
                # declines it.
                body = await read_body(receive)
                receive = replay_body(body)  # cut short, it fails to read: FastAPI answers
            request = Request(scope, receive)
            ready = await routed.handler.prepare(request)
            if ready is None:
                await self.app(scope, receive if body is None else replay_body(body), send)
                return
            response = await routed.handler.respond(request, ready)
        except Exception as exc:
            answer = await self._answer(Request(scope, receive), exc)
            if answer is None:
                return
            response = answer
        await response(scope, receive, send)

    def _learn(
        self, key: _Key, app: Any, root_path: str, scope: Scope, handler: PlannedHandler
    ) -> None:
        if scope.get("app") is not app or scope.get("root_path", "") != root_path:
            return  # served inside a mounted app: its routing is not only the path's
        if key not in self._paths and len(self._paths) >= self.max_paths:
            del self._paths[next(iter(self._paths))]  # the oldest
        self._paths[key] = _Routed(
            handler, scope.get("route"), scope.get("endpoint"), dict(scope.get("path_params", {}))
        )

    async def _answer(self, request: Request, exc: Exception) -> Response | None:
        """The answer of the app's handler for `exc`, as Starlette's exception layer finds and
        calls it; `exc` is raised again when no handler takes it."""
        handler: Any = None  # Starlette types a handler for either a Request or a WebSocket
        if isinstance(exc, HTTPException):
            handler = self._handlers.get(exc.status_code)
        if handler is None:
            handler = _lookup_exception_handler(self._handlers, exc)
        if handler is None:
            raise exc
        if is_async_callable(handler):
            response: Response | None = await handler(request, exc)
        else:
            response = await run_in_threadpool(handler, request, exc)
        return response
