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

# Requests are matched against routers in this order, one route at a time: the change routes
# come first because they carry the traffic, the reference-endpoint contract (one route) before
# the two cart APIs.
ROUTERS = (
    legacy.router,
    checkout_sessions.router,
    payment_intents.router,
    tokens.router,
    quotes.router,
    catalog.router,
    webhooks.router,
    health.router,
)
