"""Requests served straight by the planned handler FastAPI chose for the same method and path.

Between the middlewares and a route's handler FastAPI runs, for every request, its exception
layer, an exit-stack layer, its router (for included routers: a context variable and scope
bookkeeping per router tried) and a wrapper that opens two exit stacks: about 50 us of CPU per
request, an eighth of a whole change (measured in process, Stripe answering from memory: 317 us
per `/update-custom-amount` through FastAPI's stack, 269 us straight to the handler).

This layer sits under the app's own middlewares and learns where FastAPI sends a request: a
request to a method and path not seen before is routed by FastAPI, and when a planned handler
(api/planned_route.py) serves it, that handler tells this layer, which keeps the handler and
what routing found (the route, the path parameters). Later requests with the same method and
path go straight to it: routing depends on nothing else, so FastAPI would have sent them there
too. The table is bounded (`MAX_PATHS`; the oldest path goes first), so paths with ids in them
(a session's cart, changed a few times over a checkout) are learned too without letting the
table grow with every id a client sends.

A request the handler's plan does not take (a body or parameter that does not validate,
dependency overrides) is handed, unchanged, to FastAPI's stack, which answers it its own way.
Nothing has run by then. An exception is answered by the app's exception handlers, looked up as
Starlette's exception layer looks them up; the handlers for `Exception` and 500, and exceptions
without a handler, go up to the middlewares, as they do from that layer.

Routes added or removed after the first requests are not seen; the app changes none.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from amount_updater.api.planned_route import LEARN, PlannedHandler
from amount_updater.http.bodies import read_body, replay_body

_Key = tuple[str, str, str]  # method, root path, path
MAX_PATHS = 10_000  # about 6 MB when full of Checkout Session paths (tracemalloc)


@dataclass(frozen=True, slots=True)
class _Routed:
    """Where FastAPI sent a path: the handler, and what its routing set in the scope that the
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
        # The app's own mapping, so that handlers added later are seen.
        self.exception_handlers = exception_handlers
        self.max_paths = max_paths
        self._paths: dict[_Key, _Routed] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        routed = self._paths.get((scope["method"], scope.get("root_path", ""), scope["path"]))
        if routed is None:
            scope[LEARN] = self._learn
            await self.app(scope, receive, send)
            return
        body = None
        if routed.handler.reads_body:
            # Read here, so that FastAPI can be handed the request whole if the plan declines it.
            body = await read_body(receive)
            receive = replay_body(body)
        scope["route"] = routed.route
        scope["endpoint"] = routed.endpoint
        scope["path_params"] = dict(routed.path_params)
        request = Request(scope, receive)
        try:
            ready = await routed.handler.prepare(request)
            if ready is None:
                await self.app(scope, receive if body is None else replay_body(body), send)
                return
            response = await routed.handler.respond(request, ready)
        except Exception as exc:
            response = await self._answer(request, exc)
        await response(scope, receive, send)

    def _learn(self, scope: Scope, handler: PlannedHandler) -> None:
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        if key not in self._paths and len(self._paths) >= self.max_paths:
            del self._paths[next(iter(self._paths))]  # the oldest
        self._paths[key] = _Routed(
            handler, scope.get("route"), scope.get("endpoint"), dict(scope.get("path_params", {}))
        )

    async def _answer(self, request: Request, exc: Exception) -> Response:
        handler = None
        if isinstance(exc, HTTPException) and exc.status_code != 500:
            handler = self.exception_handlers.get(exc.status_code)
        if handler is None:
            handler = next(
                (
                    self.exception_handlers[cls]
                    for cls in type(exc).__mro__
                    if cls is not Exception and cls in self.exception_handlers
                ),
                None,
            )
        if handler is None:
            raise exc
        if inspect.iscoroutinefunction(handler):
            response: Response = await handler(request, exc)
        else:
            response = await run_in_threadpool(handler, request, exc)
        return response
