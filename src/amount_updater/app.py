"""The app factory. Every dependency is built here, once, and torn down with the app."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypedDict

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from amount_updater import __version__, deployment
from amount_updater.api.deps import document_credentials
from amount_updater.api.docs import mount_docs
from amount_updater.api.routes import ROUTERS
from amount_updater.auth.api_keys import ApiKeys
from amount_updater.auth.authenticator import Authenticator
from amount_updater.auth.tokens import TokenSigner
from amount_updater.catalog.repository import CatalogRepository, load_catalog_source
from amount_updater.config import STRIPE_API_BASE, Settings, SettingsError, load_settings
from amount_updater.coordination.admission import Admission, queue_wait_s, step_aside
from amount_updater.coordination.backends import build_coordination
from amount_updater.coordination.caller_limits import CallerLimiter, CallerLimits
from amount_updater.coordination.idempotency import IdempotencyStore
from amount_updater.gc_tuning import tune_garbage_collector
from amount_updater.http.request_middleware import RequestMiddleware
from amount_updater.logs import configure_logging
from amount_updater.observability.metrics import Metrics
from amount_updater.problems import install_problem_handlers
from amount_updater.sandbox import (
    SANDBOX_STRIPE_KEY,
    SANDBOX_STRIPE_PATH,
    mount_demo,
    mount_sandbox,
)
from amount_updater.service.change_workflow import ChangeSetup
from amount_updater.service.checkout_sessions import CheckoutSessionService
from amount_updater.service.payment_intents import PaymentIntentService
from amount_updater.service.pricer import CartPricer
from amount_updater.service.readiness import Readiness
from amount_updater.service.return_urls import ReturnUrls
from amount_updater.service.session_options import SessionDefaults
from amount_updater.service.webhooks import WebhookService
from amount_updater.stripe_gateway import StripeGateway
from amount_updater.stripe_gateway.rate_budget import (
    StripeRateBudget,
    account_rate,
    endpoint_rate,
)

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Server-side cart pricing for Stripe Elements. The storefront sends changes (add a product, set a
quantity, pick shipping, apply a code); the service checks who is asking, re-reads the Stripe
object, recomputes every amount from its own catalog and retransmits the whole cart to Stripe.
Amounts are integers in the currency's minor unit. Errors are RFC 9457 problems with a stable
`code`.
"""


class State(TypedDict):
    metrics: Metrics
    admission: Admission | None
    caller_limiter: CallerLimiter
    pricer: CartPricer
    gateway: StripeGateway
    sessions: CheckoutSessionService
    intents: PaymentIntentService
    idempotency: IdempotencyStore
    readiness: Readiness
    webhooks: WebhookService
    authenticator: Authenticator
    stripe_mode: str


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], float] = time.time,
    stripe_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the app. The catalog is validated here, so a bad one stops start-up at once.

    `stripe_transport` replaces the HTTP transport to Stripe (tests pass respx's router).
    """
    settings = settings or load_settings()
    stripe_mode = deployment.stripe_mode(settings)
    for warning in deployment.check_start(settings):
        logger.warning("config.warning", extra={"detail": warning})
    sandbox = stripe_mode == "sandbox"
    if sandbox:
        # The embedded emulator speaks for Stripe, over HTTP like the real one, so the gateway
        # runs exactly the code it runs against api.stripe.com.
        if settings.stripe_api_base == STRIPE_API_BASE:
            raise SettingsError(
                "AMOUNT_UPDATER_STRIPE_API_BASE: sandbox mode needs this server's own address +"
                f" {SANDBOX_STRIPE_PATH}; `amount-updater serve --sandbox` sets it"
            )
        secret_key = SANDBOX_STRIPE_KEY
    else:
        assert settings.stripe_secret_key is not None
        secret_key = settings.stripe_secret_key.get_secret_value()
    loaded_catalog, catalog_source = load_catalog_source(settings.catalog_path)
    deployment.check_catalog(settings, loaded_catalog)
    catalog = CatalogRepository(loaded_catalog)
    return_url = settings.return_url
    if sandbox and return_url is None:
        return_url = settings.stripe_api_base.removesuffix(SANDBOX_STRIPE_PATH) + "/"  # the demo
    return_urls = ReturnUrls.of(return_url, settings.return_url_origins)
    session_defaults = SessionDefaults.of(
        catalog,
        automatic_tax=settings.automatic_tax,
        collect_address=settings.collect_shipping_address,
    )
    token_secret = (
        secrets.token_bytes(32)
        if settings.token_secret is None
        else settings.token_secret.get_secret_value().encode()
    )
    signer = TokenSigner(token_secret)
    authenticator = Authenticator(signer, ApiKeys(settings.api_keys), clock=clock)
    metrics = Metrics()
    webhook_secret = (
        settings.stripe_webhook_secret.get_secret_value()
        if settings.stripe_webhook_secret
        else None
    )
    caller_limits = CallerLimits.from_settings(settings)
    admission = None
    if settings.max_active_requests:
        admission = Admission(
            settings.max_active_requests,
            max_wait_s=queue_wait_s(settings.request_budget_s),
            on_wait=metrics.admission_waits.inc,
            on_refusal=metrics.overloaded.inc,
        )
        metrics.admission_limit.set(settings.max_active_requests)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        shared = build_coordination(settings, metrics)
        gateway = StripeGateway.connect(
            secret_key,
            api_base=settings.stripe_api_base,
            timeout_s=settings.stripe_timeout_s,
            max_retries=settings.stripe_max_retries,
            max_connections=settings.stripe_max_connections,
            rate_budget=StripeRateBudget(
                shared.limiter,
                per_second=account_rate(secret_key, settings.stripe_requests_per_second, sandbox),
                per_endpoint=endpoint_rate(settings.stripe_endpoint_requests_per_second, sandbox),
                on_wait=metrics.stripe_budget_waits.inc,
            ),
            metrics=metrics,
            transport=stripe_transport,
        )
        pricer = CartPricer(catalog, clock)
        changes = ChangeSetup(
            pricer,
            gateway,
            shared.locks,
            shared.pending,
            budget_s=settings.request_budget_s,
            clock=clock,
            read_ttl_s=settings.cart_read_cache_s,
            on_batch=metrics.observe_batch,
            on_queued=lambda: _queued(metrics),
        )
        caller_limiter = CallerLimiter(
            shared.limiter,
            caller_limits,
            on_refusal=lambda name: metrics.rate_limited.labels(name).inc(),
        )
        try:
            yield State(
                metrics=metrics,
                admission=admission,
                caller_limiter=caller_limiter,
                pricer=pricer,
                gateway=gateway,
                sessions=CheckoutSessionService(
                    changes, signer, return_urls=return_urls, defaults=session_defaults
                ),
                intents=PaymentIntentService(changes, signer),
                idempotency=shared.idempotency,
                readiness=Readiness(
                    gateway, shared.redis, catalog_source, caller_limits.described()
                ),
                webhooks=WebhookService(
                    webhook_secret, gateway, pricer, shared.idempotency, metrics
                ),
                authenticator=authenticator,
                stripe_mode=stripe_mode,
            )
        finally:
            await gateway.aclose()
            await shared.aclose()

    app = FastAPI(
        title="amount-updater",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # api/docs.py serves the pages, with no CDN
        redoc_url=None,
    )
    mount_docs(app, app.openapi_url or "/openapi.json")
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        schema = app.openapi_schema
        if schema is None:
            schema = generate_openapi()  # which FastAPI keeps in app.openapi_schema
            document_credentials(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it
    install_problem_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_api_route(
        "/metrics",
        _metrics_endpoint(metrics),
        methods=["GET"],
        include_in_schema=False,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Cache-Control",
                "Content-Type",
                "Idempotency-Key",
                "X-Request-ID",
            ],
        )
    if sandbox:
        mount_sandbox(app, clock=clock)
    demo_key = deployment.demo_storefront_key(settings)
    if sandbox or demo_key is not None:
        mount_demo(
            app,
            publishable_key=demo_key,
            sandbox=sandbox,
            shipping_countries=session_defaults.shipping_countries,
        )
    app.add_middleware(
        RequestMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
    )
    return app


def _metrics_endpoint(metrics: Metrics) -> Callable[[], Awaitable[Response]]:
    async def render_metrics() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return render_metrics


def _queued(metrics: Metrics) -> None:
    """A change waits behind a batch of changes to its object: counted, and not at work."""
    metrics.lock_waits.inc()
    step_aside()


def create_app_from_environment() -> FastAPI:
    """The app factory `amount-updater serve` gives granian: each worker process builds its
    app, and its logging, here."""
    settings = load_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    tune_garbage_collector()
    return app
