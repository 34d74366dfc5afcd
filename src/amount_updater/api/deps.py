"""Dependencies built once in the app's lifespan, handed to routes through Annotated aliases.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in a worker thread, a
thread hop per request that cost a measurable share of the hot path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from amount_updater.auth.authenticator import Authenticator, Caller
from amount_updater.catalog.repository import CatalogRepository
from amount_updater.service.checkout_sessions import CheckoutSessionService
from amount_updater.service.payment_intents import PaymentIntentService
from amount_updater.service.pricer import CartPricer

_bearer = HTTPBearer(auto_error=False, description="Update token for one object")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Server-to-server key")


async def _sessions(request: Request) -> CheckoutSessionService:
    service: CheckoutSessionService = request.state.sessions
    return service


async def _intents(request: Request) -> PaymentIntentService:
    service: PaymentIntentService = request.state.intents
    return service


async def _pricer(request: Request) -> CartPricer:
    pricer: CartPricer = request.state.pricer
    return pricer


async def _catalog(request: Request) -> CatalogRepository:
    catalog: CatalogRepository = request.state.pricer.catalog
    return catalog


async def _authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.state.authenticator
    return authenticator


SessionServiceDep = Annotated[CheckoutSessionService, Depends(_sessions)]
IntentServiceDep = Annotated[PaymentIntentService, Depends(_intents)]
PricerDep = Annotated[CartPricer, Depends(_pricer)]
CatalogDep = Annotated[CatalogRepository, Depends(_catalog)]
AuthenticatorDep = Annotated[Authenticator, Depends(_authenticator)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
ApiKeyDep = Annotated[str | None, Security(_api_key)]
IdempotencyKeyDep = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Makes a retry safe: the first answer is replayed for 24 hours, and the "
        "change is applied once. Use a new random key (a UUID) per intended change.",
    ),
]


async def _api_key_caller(authenticator: AuthenticatorDep, api_key: ApiKeyDep) -> Caller:
    return authenticator.api_key_caller(api_key)


ApiKeyCaller = Annotated[Caller, Depends(_api_key_caller)]


async def idempotency_header(idempotency_key: IdempotencyKeyDep = None) -> str | None:
    """Declares `Idempotency-Key` on a route whose body does not need its value."""
    return idempotency_key
