"""Every error leaves as an RFC 9457 problem (application/problem+json) with a stable code."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from amount_updater.errors import ServiceError

logger = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://amount-updater.dev/problems/"
MEDIA_TYPE = "application/problem+json"

_HTTP_CODES = {
    400: ("invalid_request", "Invalid request"),
    401: ("unauthenticated", "Authentication required"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        **(extra or {}),
    }
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def problem_for(error: ServiceError) -> Response:
    return problem_response(
        error.status,
        error.code,
        error.title,
        error.detail,
        headers=error.headers,
        extra=error.extra,
    )


async def _service_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return problem_for(exc)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) if not isinstance(p, int) else p for p in e["loc"]], "msg": e["msg"]}
        for e in exc.errors()
    ]
    return problem_response(
        422,
        "invalid_request",
        "Invalid request",
        "The request does not match the API: see `errors`.",
        extra={"errors": errors},
    )


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 400:
        # FastAPI answers 400 for a body it cannot parse; to callers that is one more
        # invalid request, with the one status the API documents for those.
        status = 422
    code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem_response(status, code, title, detail, headers=exc.headers)


async def _unexpected_error(_: Request, exc: Exception) -> Response:
    # The trace goes to the log only; the caller learns nothing about the internals.
    logger.exception("request.unhandled_error", exc_info=exc)
    return internal_error()


def internal_error() -> Response:
    return problem_response(
        500, "internal_error", "Internal error", "Something went wrong on our side."
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
