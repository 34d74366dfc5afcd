"""One router per resource."""

from amount_updater.api.routes import catalog, checkout_sessions, health, legacy, quotes, tokens

ROUTERS = (
    health.router,
    catalog.router,
    quotes.router,
    checkout_sessions.router,
    tokens.router,
    legacy.router,
)
