"""Dependencies built once in the app's lifespan, handed to routes through Annotated aliases.

They are `async def`: FastAPI runs a plain `def` dependency in a worker thread. The credentials
a caller presents (a token or an API key) are read in one dependency (`CredentialsDep`), since
either will do; routes that take it declare `TOKEN_OR_API_KEY` for the OpenAPI document, as
FastAPI's two security classes would have.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from amount_updater.auth.authenticator import Authenticator, Caller
from amount_updater.catalog.repository import CatalogRepository
from amount_updater.coordination.admission import Admission
from amount_updater.service.checkout_sessions import CheckoutSessionService
from amount_updater.service.payment_intents import PaymentIntentService
from amount_updater.service.pricer import CartPricer
from amount_updater.service.request_history import Origin

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


async def admitted(request: Request) -> AsyncIterator[None]:
    """A slot among the requests at work that call Stripe (503 `overloaded` if none frees in
    time); declared by the routers whose routes call Stripe. The body has been read by then, so
    a client that sends it slowly holds no slot."""
    admission: Admission | None = request.state.admission
    if admission is None:
        yield
        return
    slot = await admission.enter()
    try:
        yield
    finally:
        slot.release()


async def _authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.state.authenticator
    return authenticator


SessionServiceDep = Annotated[CheckoutSessionService, Depends(_sessions)]
IntentServiceDep = Annotated[PaymentIntentService, Depends(_intents)]
PricerDep = Annotated[CartPricer, Depends(_pricer)]
CatalogDep = Annotated[CatalogRepository, Depends(_catalog)]
AuthenticatorDep = Annotated[Authenticator, Depends(_authenticator)]
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


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the caller presented (an update token, an API key, both or neither), from where,
    and who judges it."""

    authenticator: Authenticator
    # Kept out of repr(): a Credentials printed in a log or a traceback shows no secret.
    bearer: str | None = field(repr=False)
    api_key: str | None = field(repr=False)
    client: str

    def caller(self) -> Caller:
        """Who is asking, whatever the object (401 if a credential sent does not verify)."""
        return self.authenticator.identify(self.bearer, self.api_key, self.client)

    def object_caller(self, object_id: str) -> Caller:
        """The caller allowed to read or change `object_id`, else 401 or 403."""
        return self.authenticator.object_caller(object_id, self.bearer, self.api_key)


def read_credentials(request: Request) -> Credentials:
    """The credentials of `request`, read the way HTTPBearer and APIKeyHeader read them (with
    auto_error=False). The client address is the socket's, or the trusted proxy's account of
    it (granian's proxy headers wrapper, `amount-updater serve`)."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    bearer = token if token and scheme.lower() == "bearer" else None
    api_key = request.headers.get(_api_key.model.name) or None
    authenticator: Authenticator = request.state.authenticator
    client = request.client.host if request.client else "unknown"
    return Credentials(authenticator, bearer, api_key, client)


async def _credentials(request: Request) -> Credentials:
    return read_credentials(request)


CredentialsDep = Annotated[Credentials, Depends(_credentials)]


async def _origin(credentials: CredentialsDep, idempotency_key: IdempotencyKeyDep = None) -> Origin:
    return Origin(credentials.caller().scope, idempotency_key)


# Who asks for a creation and under which key: the Stripe idempotency key is derived from both.
OriginDep = Annotated[Origin, Depends(_origin)]


# What a route that takes `CredentialsDep` declares in its decorator (`openapi_extra=`): either
# credential will do, as FastAPI's security classes would have documented it.
TOKEN_OR_API_KEY: dict[str, Any] = {
    "security": [{_bearer.scheme_name: []}, {_api_key.scheme_name: []}]
}


# What a creation, catalog or quote route declares: anonymous callers are welcome (prices come
# from the catalog); a shop's server sends its key (then its own idempotency scope and rate
# limits apply).
ANONYMOUS_OR_API_KEY: dict[str, Any] = {"security": [{}, {_api_key.scheme_name: []}]}


def document_credentials(openapi: dict[str, Any]) -> None:
    """Add to `openapi` the two security schemes that `TOKEN_OR_API_KEY` refers to."""
    schemes = {
        scheme.scheme_name: scheme.model.model_dump(mode="json", by_alias=True, exclude_none=True)
        for scheme in (_bearer, _api_key)
    }
    components = openapi.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(schemes)
