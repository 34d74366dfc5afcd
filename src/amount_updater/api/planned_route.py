"""API routes whose parameters are resolved by a plan made once per route.

On every request FastAPI walks the endpoint's dependency tree: for each node it looks up
overrides, classifies the callable, builds a cache key and runs its four parameter readers, most
of them over empty lists. For a route shaped like the ones that carry the traffic (a JSON body,
two dependencies, a header) that walk is about 65 us of CPU per request, a tenth of a whole
change (measured in process on a bare FastAPI app: 167-181 us per request through FastAPI's
handler, 105-109 us through this one).

`PlannedRoute` walks the tree once, when the route is built, and keeps what a request needs: the
dependency calls in FastAPI's order, the parameters each node reads, the body field. A request
then goes through FastAPI's own validators (`request_body_to_args`, each parameter field's
validation as `request_params_to_args` runs it, `serialize_response`), so values, answers and
errors are FastAPI's. Plain parameters (one name, not a sequence, a model or JSON) are read the
way `request_params_to_args` reads them, with what it works out per request decided once (a source
with any other kind of field is read by that function, whole).

The handler has two halves, `prepare` (validate) and `respond` (run): `DirectRoutes`
(api/direct_routes.py) calls them without FastAPI's routing, for the paths a planned handler
told it it served (with a success: learning from refusals would let anyone fill its table).

It only takes the common path. Anything else is handed, whole and untouched, to the handler
FastAPI built for the same route:
- a request whose body is not a JSON document sent as `application/json`, or whose parameters
  or body do not validate: FastAPI then reports the errors in its own words. No dependency has
  run by then, so none runs twice;
- an app with dependency overrides (tests);
- routes the plan does not cover (no response model, generator or wrapped dependencies,
  security scopes, `Response`, `BackgroundTasks` or cookie parameters, form bodies, body
  parameters in dependencies, custom response classes, streaming): they always use FastAPI's
  handler.

FastAPI's own telemetry spans (off unless an OpenTelemetry provider is configured; this app
configures none) do not cover the dependencies and endpoint of a planned request, nor name the
route of a request `DirectRoutes` serves.

It relies on FastAPI internals (those readers, and the context FastAPI 0.165+ builds an included
route's handler in), so pyproject pins FastAPI's minor version; tests/api/test_planned_route.py
runs every API route through both handlers.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from fastapi import params
from fastapi._compat import Undefined, field_annotation_is_sequence
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import (
    _get_param_aliases,
    _get_param_model,
    _is_json_field,
    _validate_value_with_model_field,
    request_body_to_args,
    request_params_to_args,
)
from fastapi.routing import APIRoute, serialize_response
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

_JSON = "application/json"


@dataclass(frozen=True, slots=True)
class _Node:
    """One node of the dependency tree: the endpoint or one dependency."""

    call: Callable[..., Coroutine[Any, Any, Any]]
    name: str | None  # the parameter its value goes to; None for `dependencies=[...]`
    cache_key: object
    use_cache: bool
    dependencies: tuple[_Node, ...]
    # The parameters it reads, with where from: path, query string or headers.
    readers: tuple[tuple[Callable[[Request], Any], _Reader], ...]
    request_names: tuple[str, ...]  # parameters that receive the Request itself


@dataclass(frozen=True, slots=True)
class _Plan:
    endpoint: _Node
    body_fields: list[Any]
    embed_body_fields: bool
    response_field: Any
    status_code: int | None
    response_model_options: dict[str, Any]  # `serialize_response`'s include, exclude, by_alias...
    overrides: Any  # who holds `dependency_overrides` (the app)
    endpoint_context: Any  # where the endpoint is, for a ResponseValidationError's message
    max_body_size: int | None  # the route's own limit (FastAPI checks it around the handler)


class PlannedRoute(APIRoute):
    """An APIRoute that resolves common requests with a plan (see the module's docstring)."""

    def get_route_handler(self) -> Handler:
        fallback = super().get_route_handler()
        route = _route_being_built(self)
        plan = None if route is None else _plan(route)
        return fallback if plan is None else PlannedHandler(plan, fallback)


def _route_being_built(route: APIRoute) -> Any:
    """The route whose handler FastAPI is building: the route itself, or the context of the
    router inclusion it is served through (FastAPI 0.165), which carries the merged
    dependencies, response class and overrides provider. None when this FastAPI builds
    handlers some other way: no plan then, rather than one that could miss a dependency."""
    context_var = getattr(fastapi.routing, "_effective_route_context_var", None)
    if context_var is None:
        return None
    context = context_var.get()
    if context is not None and getattr(context, "original_route", None) is route:
        return context
    return route


def _plan(route: Any) -> _Plan | None:
    response_class = getattr(route, "response_class", None)
    if (
        not isinstance(response_class, DefaultPlaceholder)
        or route.response_field is None
        or getattr(route, "stream_item_field", None) is not None
        or getattr(route, "is_json_stream", False)
        or (route.body_field is not None and isinstance(route.body_field.field_info, params.Form))
    ):
        return None
    dependant: Dependant = route.dependant
    endpoint = _node(dependant, name=None, root=True)
    if endpoint is None:
        return None
    return _Plan(
        endpoint=endpoint,
        body_fields=list(dependant.body_params),
        embed_body_fields=route._embed_body_fields,
        response_field=route.response_field,
        status_code=route.status_code,
        response_model_options={
            option: getattr(route, f"response_model_{option}")
            for option in (
                "include",
                "exclude",
                "by_alias",
                "exclude_unset",
                "exclude_defaults",
                "exclude_none",
            )
        },
        overrides=route.dependency_overrides_provider,
        endpoint_context=_endpoint_context(dependant.call),
        max_body_size=getattr(route, "max_body_size", None),
    )


def _endpoint_context(call: Any) -> Any:
    extract = getattr(fastapi.routing, "_extract_endpoint_context", None)
    return extract(call) if extract is not None else None


def _node(dependant: Dependant, *, name: str | None, root: bool) -> _Node | None:
    call = dependant.call
    if (
        call is None
        or not _is_coroutine_function(call)
        or dependant.cookie_params
        or (dependant.body_params and not root)
        or dependant.websocket_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or dependant.parent_oauth_scopes
        or dependant.concurrency is not None
    ):
        return None
    dependencies = []
    for sub in dependant.dependencies:
        node = _node(sub, name=sub.name, root=False)
        if node is None:
            return None
        dependencies.append(node)
    readers = tuple(
        (source, _reader(fields))
        for source, fields in (
            (_path_params, dependant.path_params),
            (_query_params, dependant.query_params),
            (_headers, dependant.header_params),
        )
        if fields
    )
    request_names = tuple(
        n for n in (dependant.http_connection_param_name, dependant.request_param_name) if n
    )
    return _Node(
        call=call,
        name=name,
        # FastAPI's own key, less the OAuth scopes a planned tree never has.
        cache_key=(call, dependant.scope or ""),
        use_cache=dependant.use_cache,
        dependencies=tuple(dependencies),
        readers=readers,
        request_names=request_names,
    )


def _is_coroutine_function(call: Callable[..., Any]) -> bool:
    """An `async def` function, or an object whose `__call__` is one (a security scheme), and
    nothing wrapped: FastAPI looks through `functools.wraps` and `partial` to decide how to run
    a dependency, so those, plain functions (run in a thread) and generators (with an exit
    step) are left to it."""
    if isinstance(call, functools.partial) or hasattr(call, "__wrapped__"):
        return False
    if inspect.isroutine(call) or inspect.isclass(call):
        return inspect.iscoroutinefunction(call)
    return inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004


@dataclass(frozen=True, slots=True)
class _Ready:
    """A request that the plan can serve: its body and parameters, validated."""

    body_values: dict[str, Any]
    values: dict[int, dict[str, Any]]


class PlannedHandler:
    """A planned route's handler. `prepare` and `respond` are its two halves, for `DirectRoutes`
    (api/direct_routes.py), which calls them without FastAPI's routing around them."""

    def __init__(self, plan: _Plan, fallback: Handler) -> None:
        self._plan = plan
        self._fallback = fallback
        self.reads_body = bool(plan.body_fields)

    async def __call__(self, request: Request) -> Response:
        ready = await self.prepare(request)
        if ready is None:
            return await self._fallback(request)
        response = await self.respond(request, ready)
        learn = request.scope.get(LEARN)
        if learn is not None and response.status_code < 400 and self._plan.max_body_size is None:
            learn(request.scope, self)
        return response

    async def prepare(self, request: Request) -> _Ready | None:
        """The validated body and parameters, or None when the plan does not take this request
        (FastAPI's handler does). Nothing has run then."""
        plan = self._plan
        if plan.overrides is not None and plan.overrides.dependency_overrides:
            return None
        body_values: dict[str, Any] = {}
        if plan.body_fields:
            body = await _json_body(request)
            if body is _UNREADABLE:
                return None
            body_values, errors = await request_body_to_args(
                body_fields=plan.body_fields,
                received_body=body,
                embed_body_fields=plan.embed_body_fields,
            )
            if errors:
                return None
        values: dict[int, dict[str, Any]] = {}
        if not _read_parameters(plan.endpoint, request, values):
            return None
        return _Ready(body_values, values)

    async def respond(self, request: Request, ready: _Ready) -> Response:
        """Run the dependencies and the endpoint, and serialize its answer."""
        plan = self._plan
        arguments = await _arguments(plan.endpoint, request, ready.values, {})
        arguments.update(ready.body_values)
        raw = await plan.endpoint.call(**arguments)
        if isinstance(raw, Response):
            return raw
        content = await serialize_response(
            field=plan.response_field,
            response_content=raw,
            endpoint_ctx=plan.endpoint_context,
            **plan.response_model_options,
            dump_json=True,
        )
        response = (
            Response(content, media_type=_JSON)
            if plan.status_code is None
            else Response(content, status_code=plan.status_code, media_type=_JSON)
        )
        if not is_body_allowed_for_status_code(response.status_code):
            response.body = b""
        return response


# The scope key under which `DirectRoutes` asks to be told which planned handler served a request.
LEARN = "amount_updater.learn_route"


_UNREADABLE = object()


async def _json_body(request: Request) -> Any:
    """The decoded body when it is JSON sent as JSON, else `_UNREADABLE`: FastAPI then reads it
    its own way, and answers an empty body, another media type, broken JSON, JSON nested too
    deep or a client gone mid-body as it does (a 400 or a 422, never a 500)."""
    content_type = request.headers.get("content-type")
    media = "" if content_type is None else content_type.partition(";")[0].strip().lower()
    if media != _JSON and not (media.startswith("application/") and media.endswith("+json")):
        return _UNREADABLE
    try:
        raw = await request.body()
        if not raw:
            return _UNREADABLE
        return json.loads(raw)  # what Starlette's `Request.json()` does
    except HTTPException:
        raise  # the edge's size limit (413), as FastAPI lets it through
    except Exception:  # FastAPI's handler answers every other failure its own way
        return _UNREADABLE


def _path_params(request: Request) -> Any:
    return request.path_params


def _query_params(request: Request) -> Any:
    return request.query_params


def _headers(request: Request) -> Any:
    return request.headers


def _read_parameters(node: _Node, request: Request, values: dict[int, dict[str, Any]]) -> bool:
    """Validate every node's path, query and header parameters into `values` (keyed by node),
    before any dependency runs; False as soon as one does not validate."""
    for sub in node.dependencies:
        if not _read_parameters(sub, request, values):
            return False
    if not node.readers:
        return True
    own: dict[str, Any] = {}
    for source, read in node.readers:
        values_read = read(source(request))
        if values_read is None:
            return False
        own.update(values_read)
    values[id(node)] = own
    return True


# Reads one source's parameters (path, query string or headers); None when one does not validate.
_Reader = Callable[[Any], dict[str, Any] | None]


def _reader(fields: list[Any]) -> _Reader:
    """A reader for `fields`, as `request_params_to_args` reads them.

    That function works out, on every request and for every field, whether the field is a
    model, a sequence or a JSON value and which names it may come under (walking its typing
    metadata: about 25 us per request for one optional header). For a field that is none of
    those and has one name, all it does is take that name's value (absent: the default) and
    validate it; that much is decided here, once. Other fields keep FastAPI's reading.
    """
    simple = []
    for field in fields:
        aliases = _get_param_aliases(field)
        if (
            _get_param_model(field) is not None
            or _is_json_field(field)
            or field_annotation_is_sequence(field.field_info.annotation)
            or len(aliases) != 1
        ):
            return functools.partial(_read_with_fastapi, fields)
        alias = aliases[0][1]
        simple.append((field, field.name, alias, (field.field_info.in_.value, alias)))

    def read(received: Any) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        for field, name, alias, loc in simple:
            value = received.get(alias)
            valid, errors = _validate_value_with_model_field(
                field=field, value=Undefined if value is None else value, values=values, loc=loc
            )
            if errors:
                return None
            values[name] = valid
        return values

    return read


def _read_with_fastapi(fields: list[Any], received: Any) -> dict[str, Any] | None:
    values, errors = request_params_to_args(fields, received)
    return None if errors else values


async def _arguments(
    node: _Node,
    request: Request,
    values: dict[int, dict[str, Any]],
    cache: dict[object, Any],
) -> dict[str, Any]:
    """`node`'s arguments, its dependencies solved depth first as FastAPI solves them (a
    dependency's own dependencies first, then the per-request cache, then the call)."""
    arguments: dict[str, Any] = {}
    for sub in node.dependencies:
        sub_arguments = await _arguments(sub, request, values, cache)
        if sub.use_cache and sub.cache_key in cache:
            value = cache[sub.cache_key]
        else:
            value = await sub.call(**sub_arguments)
            cache.setdefault(sub.cache_key, value)
        if sub.name is not None:
            arguments[sub.name] = value
    arguments.update(values.get(id(node), {}))
    for name in node.request_names:
        arguments[name] = request
    return arguments
