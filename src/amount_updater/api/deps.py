"""Dependencies built once in the app's lifespan, handed to routes through Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from amount_updater.api.schemas import SESSION_ID_PATTERN
from amount_updater.auth.authenticator import Authenticator, Caller
from amount_updater.catalog.repository import CatalogRepository
from amount_updater.service.checkout_sessions import CheckoutSessionService

_bearer = HTTPBearer(auto_error=False, description="Update token for one object")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Server-to-server key")


def _sessions(request: Request) -> CheckoutSessionService:
    service: CheckoutSessionService = request.state.sessions
    return service


def _catalog(request: Request) -> CatalogRepository:
    catalog: CatalogRepository = request.state.catalog
    return catalog


def _authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.state.authenticator
    return authenticator


SessionServiceDep = Annotated[CheckoutSessionService, Depends(_sessions)]
CatalogDep = Annotated[CatalogRepository, Depends(_catalog)]
AuthenticatorDep = Annotated[Authenticator, Depends(_authenticator)]
SessionId = Annotated[str, Path(pattern=SESSION_ID_PATTERN, examples=["cs_test_a1b2c3"])]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
ApiKeyDep = Annotated[str | None, Security(_api_key)]


def _session_caller(
    session_id: SessionId, authenticator: AuthenticatorDep, bearer: BearerDep, api_key: ApiKeyDep
) -> Caller:
    return authenticator.object_caller(session_id, bearer.credentials if bearer else None, api_key)


def _api_key_caller(authenticator: AuthenticatorDep, api_key: ApiKeyDep) -> Caller:
    return authenticator.api_key_caller(api_key)


SessionCaller = Annotated[Caller, Depends(_session_caller)]
ApiKeyCaller = Annotated[Caller, Depends(_api_key_caller)]
