"""The app factory. Every dependency is built here, once, and torn down with the app."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypedDict

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from redis.asyncio import BlockingConnectionPool, Redis

from amount_updater import __version__
from amount_updater.api.deps import document_credentials
from amount_updater.api.problems import install_problem_handlers
from amount_updater.api.rate_limits import RateLimits
from amount_updater.api.routes import ROUTERS
from amount_updater.auth.api_keys import ApiKeys
from amount_updater.auth.authenticator import Authenticator
from amount_updater.auth.tokens import TokenSigner
from amount_updater.catalog.repository import CatalogRepository, load_catalog
from amount_updater.config import STRIPE_API_BASE, Settings, SettingsError, load_settings
from amount_updater.coordination.idempotency import (
    IdempotencyStore,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
)
from amount_updater.coordination.locks import KeyedLocks, ObjectLocks, RedisLocks
from amount_updater.coordination.pending_writes import (
    MemoryPendingWrites,
    PendingWrites,
    RedisPendingWrites,
)
from amount_updater.coordination.rate_limits import (
    Limit,
    MemoryRateCounter,
    RateCounter,
    RateLimiter,
    RedisRateCounter,
)
from amount_updater.http.admission import Admission, queue_wait_s
from amount_updater.http.edge import EdgeMiddleware
from amount_updater.logs import configure_logging
from amount_updater.observability.metrics import Metrics
from amount_updater.runtime import tune_garbage_collector
from amount_updater.sandbox import SANDBOX_STRIPE_KEY, SANDBOX_STRIPE_PATH, mount_sandbox
from amount_updater.service.checkout_sessions import CheckoutSessionService
from amount_updater.service.payment_intents import PaymentIntentService
from amount_updater.service.pricer import CartPricer
from amount_updater.service.readiness import Readiness
from amount_updater.service.webhooks import WebhookService
from amount_updater.stripe_gateway import StripeGateway

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
    rate_limiter: RateLimiter
    rate_limits: RateLimits
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
    settings: Settings | None = None, *, clock: Callable[[], float] = time.time
) -> FastAPI:
    """Build the app. The catalog is validated here, so a bad one stops start-up at once."""
    settings = settings or load_settings()
    sandbox = settings.stripe_secret_key is None
    if sandbox:
        # No key: the embedded emulator speaks for Stripe, over HTTP like the real one, so the
        # gateway runs exactly the code it runs against api.stripe.com.
        if settings.stripe_api_base == STRIPE_API_BASE:
            raise SettingsError(
                "AMOUNT_UPDATER_STRIPE_API_BASE: sandbox mode (no AMOUNT_UPDATER_STRIPE_SECRET_KEY)"
                f" needs this server's own address + {SANDBOX_STRIPE_PATH}; `amount-updater serve`"
                " sets it"
            )
        secret_key = SANDBOX_STRIPE_KEY
    else:
        assert settings.stripe_secret_key is not None
        secret_key = settings.stripe_secret_key.get_secret_value()
    catalog = CatalogRepository(load_catalog(settings.catalog_path))
    if settings.token_secret is None:
        logger.warning(
            "config.token_secret_generated",
            extra={"hint": "set AMOUNT_UPDATER_TOKEN_SECRET so tokens survive restarts"},
        )
        token_secret = secrets.token_bytes(32)
    else:
        token_secret = settings.token_secret.get_secret_value().encode()
    signer = TokenSigner(token_secret)
    authenticator = Authenticator(signer, ApiKeys(settings.api_keys), clock=clock)
    metrics = Metrics()
    webhook_secret = (
        settings.stripe_webhook_secret.get_secret_value()
        if settings.stripe_webhook_secret
        else None
    )
    limits = RateLimits(
        creates=Limit("creates_per_client", settings.rate_limit_creates_per_minute, 60),
        changes_per_minute=Limit("changes_per_object", settings.rate_limit_changes_per_minute, 60),
        changes_per_hour=Limit(
            "changes_per_object_hourly", settings.rate_limit_changes_per_hour, 3600
        ),
        reads_per_minute=Limit("reads_per_object", settings.rate_limit_reads_per_minute, 60),
    )
    if sandbox:
        stripe_mode = "sandbox"
    elif secret_key.startswith(("sk_live_", "rk_live_")):
        stripe_mode = "live"
    else:
        stripe_mode = "test"

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        gateway = StripeGateway.connect(
            secret_key,
            api_base=settings.stripe_api_base,
            timeout_s=settings.stripe_timeout_s,
            max_retries=settings.stripe_max_retries,
            metrics=metrics,
        )
        pricer = CartPricer(catalog, clock)
        budget = settings.request_budget_s
        redis = _redis(settings)
        locks: ObjectLocks
        store: IdempotencyStore
        counter: RateCounter
        pending: PendingWrites
        # A request holds its key "in flight" for at most its budget (everything after the key
        # is taken runs within it); a little more, so a slow tail never frees it early. A replica
        # that died leaves its keys in flight that long: retries meanwhile get 409 and Retry-After.
        in_flight_s = budget + 2
        if redis is None:
            locks = KeyedLocks(on_wait=metrics.lock_waits.inc)
            store = MemoryIdempotencyStore(
                ttl_s=settings.idempotency_ttl_s,
                in_flight_ttl_s=in_flight_s,
                max_entries=settings.idempotency_max_entries,
                max_bytes=settings.idempotency_max_bytes,
                on_evict=metrics.idempotency_evictions.inc,
            )
            counter = MemoryRateCounter()
            pending = MemoryPendingWrites()
        else:
            # The lease is the request budget: the work under the lock is cancelled by then.
            locks = RedisLocks(redis, ttl_s=budget, wait_s=budget, on_wait=metrics.lock_waits.inc)
            store = RedisIdempotencyStore(
                redis, ttl_s=settings.idempotency_ttl_s, in_flight_ttl_s=in_flight_s
            )
            counter = RedisRateCounter(redis)
            pending = RedisPendingWrites(redis)
        limiter = RateLimiter(counter, lambda name: metrics.rate_limited.labels(name).inc())
        services = {"budget_s": budget, "clock": clock}
        try:
            yield State(
                metrics=metrics,
                rate_limiter=limiter,
                rate_limits=limits,
                pricer=pricer,
                gateway=gateway,
                sessions=CheckoutSessionService(
                    gateway, pricer, signer, locks, pending, **services
                ),
                intents=PaymentIntentService(gateway, pricer, signer, locks, pending, **services),
                idempotency=store,
                readiness=Readiness(gateway, redis),
                webhooks=WebhookService(webhook_secret, gateway, pricer, store, metrics),
                authenticator=authenticator,
                stripe_mode=stripe_mode,
            )
        finally:
            await gateway.aclose()
            if redis is not None:
                await redis.aclose()

    app = FastAPI(
        title="amount-updater",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
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
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        )
    if sandbox:
        mount_sandbox(app, clock=clock)
    admission = None
    if settings.max_active_requests:
        ceiling = settings.max_active_requests
        floor = min(settings.min_active_requests, ceiling)
        admission = Admission(
            ceiling,
            floor=floor,
            start=max(floor, min(ceiling, 128)),
            target_lag_s=settings.admission_target_lag_ms / 1000,
            max_wait_s=queue_wait_s(settings.request_budget_s),
            on_wait=metrics.admission_waits.inc,
            on_limit=metrics.admission_limit.set,
        )
    app.add_middleware(
        EdgeMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        admission=admission,
    )
    return app


def _metrics_endpoint(metrics: Metrics) -> Callable[[], Awaitable[Response]]:
    async def render_metrics() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return render_metrics


def _redis(settings: Settings) -> Redis | None:
    """A client whose pool has a connection for every request that may be at work at once (plus
    a few for health checks and late lock releases); past that, a request waits for one within
    its admission wait rather than failing at once."""
    if settings.redis_url is None:
        return None
    at_work = settings.max_active_requests or 256
    pool = BlockingConnectionPool.from_url(
        settings.redis_url.get_secret_value(),
        max_connections=at_work + 16,
        timeout=queue_wait_s(settings.request_budget_s),
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=30,
    )
    return Redis.from_pool(pool)


def create_app_from_environment() -> FastAPI:
    """Entry point for `uvicorn --factory` (used by `amount-updater serve`): each worker
    process builds its app, and its logging, here."""
    settings = load_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    tune_garbage_collector()
    return app
