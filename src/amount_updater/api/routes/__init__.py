"""One router per resource."""

from amount_updater.api.routes import (
    catalog,
    checkout_sessions,
    health,
    legacy,
    payment_intents,
    quotes,
    tokens,
    webhooks,
)

ROUTERS = (
    health.router,
    catalog.router,
    quotes.router,
    checkout_sessions.router,
    payment_intents.router,
    tokens.router,
    legacy.router,
    webhooks.router,
)
