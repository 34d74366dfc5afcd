"""The demo storefront: `/`, its static assets and `/_demo/config`.

The page is plain HTML, CSS and one script (no build step, no CDN). `/_demo/config` tells it
which Stripe.js to use: with a test-mode publishable key it loads Stripe.js from js.stripe.com
and mounts the Payment Element; without one (sandbox mode) it uses a local stand-in of the same
shape that talks to the emulated Stripe at `/_sandbox/stripe`, so nothing leaves the machine.
It also lists the countries for the page's shipping address form: the ones the catalog's shipping
rates serve. In sandbox mode the tax the page shows is computed by the emulator at fixed sandbox
rates per country (`emulator/sandbox_tax.py`), which the page labels "Tax (sandbox rates)".
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

DEMO_STATIC_PATH = "/_demo/static"
DEMO_CONFIG_PATH = "/_demo/config"
# The page's own Content-Security-Policy: this origin only, so that in sandbox mode the browser
# itself keeps every request on the machine...
SAME_ORIGIN = {
    "default-src": "'self'",
    "script-src": "'self'",
    "connect-src": "'self'",
    "img-src": "'self' data:",
    "frame-src": "'none'",
    "frame-ancestors": "'none'",
}
# ...plus, with a publishable key, what Stripe's integration security guide asks to allow for
# Stripe.js and its Elements (the script, their frames, the API they call).
STRIPE_JS_SOURCES = {
    "script-src": "https://js.stripe.com https://*.js.stripe.com",
    "frame-src": "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com",
    "connect-src": "https://api.stripe.com",
    "img-src": "https://*.stripe.com",
}


def content_security_policy(publishable_key: str | None) -> str:
    """The demo page's Content-Security-Policy header."""
    policy = dict(SAME_ORIGIN)
    if publishable_key is not None:
        for directive, sources in STRIPE_JS_SOURCES.items():
            own = policy[directive]
            policy[directive] = sources if own == "'none'" else f"{own} {sources}"
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


def mount_demo(
    app: FastAPI,
    *,
    publishable_key: str | None,
    sandbox: bool,
    shipping_countries: tuple[str, ...] = (),
) -> None:
    """Serve the demo storefront at `/`, its assets and its config (none of it in the API
    document). `publishable_key` is a test-mode key (`pk_test_...`) or None; in sandbox mode it
    must be None, because Stripe.js cannot open a session that only the emulator knows."""
    if publishable_key is not None:
        if sandbox:
            raise ValueError("the sandbox demo runs without a publishable key")
        if not publishable_key.startswith("pk_test_"):
            raise ValueError("the demo storefront takes a test-mode publishable key (pk_test_...)")
    static = resources.files("amount_updater.sandbox") / "static"
    index_html = (static / "index.html").read_text(encoding="utf-8")
    # The address form's countries: those the service collects addresses in (none: no form).
    config = {
        "publishable_key": publishable_key,
        "sandbox": sandbox,
        "shipping_countries": list(shipping_countries),
    }
    csp = content_security_policy(publishable_key)

    async def demo_storefront() -> HTMLResponse:
        return HTMLResponse(index_html, headers={"Content-Security-Policy": csp})

    async def demo_config() -> JSONResponse:
        return JSONResponse(config, headers={"Cache-Control": "no-store"})

    app.add_api_route("/", demo_storefront, methods=["GET"], include_in_schema=False)
    app.add_api_route(DEMO_CONFIG_PATH, demo_config, methods=["GET"], include_in_schema=False)
    app.mount(DEMO_STATIC_PATH, StaticFiles(directory=str(static)), name="demo")
