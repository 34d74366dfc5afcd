"""amount-updater: server-side cart pricing for Stripe Elements.

Commands: `serve` the API, write the `openapi` document, `check-catalog` a catalog file.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from amount_updater import __version__
from amount_updater.catalog.repository import (
    SAMPLE_CATALOG,
    CatalogError,
    catalog_notes,
    load_catalog,
)
from amount_updater.config import ENV_PREFIX, Settings, SettingsError, load_settings
from amount_updater.deployment import check_catalog, check_start, stripe_mode
from amount_updater.logs import configure_logging

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
APP_FACTORY = "amount_updater.app:create_app_from_environment"
# Connections waiting to be accepted (as uvicorn's default). granian's backpressure, the
# connections a worker serves at once, is this divided by the workers; past it, connections wait
# to be accepted. Requests that call Stripe then queue for admission in the app.
BACKLOG = 2048
# granian's own log lines go to the root logger, so that they are JSON lines like the app's.
GRANIAN_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {},
    "handlers": {},
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": True},
    },
}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults after each option; the epilog (the settings table) as written."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="amount-updater", description=__doc__, formatter_class=_HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"amount-updater {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve the API",
        description="Serve the API. Settings come from the environment (or a .env file).",
        epilog=settings_help(),
        formatter_class=_HelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind")
    serve.add_argument("--port", type=int, default=8000, help="port to bind")
    serve.add_argument("--workers", type=int, default=1, help="processes (one per core)")
    serve.add_argument(
        "--sandbox",
        action="store_true",
        help=f"emulate Stripe in this process and serve a demo storefront ({ENV_PREFIX}SANDBOX)",
    )

    openapi = commands.add_parser(
        "openapi", help="write the OpenAPI document", formatter_class=_HelpFormatter
    )
    openapi.add_argument(
        "--output", default=str(DEFAULT_OPENAPI_PATH), help="file, or - for stdout"
    )

    check = commands.add_parser("check-catalog", help="validate a catalog TOML file")
    check.add_argument("path", type=Path)

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args.host, args.port, args.workers, args.sandbox)
    if args.command == "openapi":
        return _write_openapi(args.output)
    return _check_catalog(args.path)


def settings_help() -> str:
    """Every setting as its environment variable and default, for `serve --help`."""
    lines = ["environment variables (default):"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "unset" if default in (None, []) else str(default)
        lines.append(f"  {ENV_PREFIX}{name.upper():<38} {shown}")
    return "\n".join(lines)


def _say(message: str) -> None:
    print(f"amount-updater: {message}", file=sys.stderr)  # noqa: T201 - CLI output


def _fail(message: str) -> int:
    _say(message)
    return 2


def _serve(host: str, port: int, workers: int, sandbox: bool) -> int:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels

    if sandbox:
        os.environ[ENV_PREFIX + "SANDBOX"] = "true"  # for the worker processes too
    try:
        settings = load_settings()
        if stripe_mode(settings) == "sandbox":
            workers = 1  # the emulator keeps its state in this process
            from amount_updater.sandbox.defaults import sandbox_environment

            # Tax and address collection on, unless set: the demo's whole flow, offline.
            os.environ.update(sandbox_environment(settings))  # for the worker processes too
            settings = load_settings(stripe_api_base=_sandbox_api_base(host, port))
        check_start(settings, workers=workers)  # the workers log its warnings
        check_catalog(settings, load_catalog(settings.catalog_path))
    except (SettingsError, CatalogError) as exc:
        return _fail(str(exc))
    if settings.sandbox:
        os.environ[ENV_PREFIX + "STRIPE_API_BASE"] = settings.stripe_api_base
        _sandbox_banner(host, settings.stripe_api_base)
    configure_logging(settings.log_level)
    # granian: its main process starts the workers and stops them on SIGTERM / SIGINT (each
    # finishes its requests, then runs the app's shutdown); each worker builds its app with the
    # factory (`load_app`) and serves it on uvloop, HTTP/1.1 only, no access log.
    server = Granian(
        APP_FACTORY,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=False,
        backlog=BACKLOG,
        factory=True,
        log_level=LogLevels(settings.log_level.lower()),
        log_dictconfig=GRANIAN_LOGGING,
        log_access=False,
    )
    server.serve(target_loader=partial(load_app, trusted_proxies=tuple(settings.trusted_proxies)))
    return 0


def load_app(target: str, *, trusted_proxies: Sequence[str] = ()) -> Any:
    """The app a worker serves: the factory `target` ("module:function") builds it. With
    trusted proxies, their X-Forwarded-For (and X-Forwarded-Proto) set the client's address
    (and scheme); from anyone else those headers are ignored and the address is the socket's."""
    module, _, name = target.partition(":")
    app = getattr(importlib.import_module(module), name)()
    if trusted_proxies:
        from granian.utils.proxies import wrap_asgi_with_proxy_headers

        app = wrap_asgi_with_proxy_headers(app, list(trusted_proxies))
    return app


def _sandbox_api_base(host: str, port: int) -> str:
    """The emulator mounted in this very server, as the gateway reaches it."""
    from amount_updater.sandbox import SANDBOX_STRIPE_PATH

    local = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
    if ":" in local:
        local = f"[{local}]"
    return f"http://{local}:{port}{SANDBOX_STRIPE_PATH}"


def _sandbox_banner(host: str, api_base: str) -> None:
    from amount_updater.sandbox import SANDBOX_STRIPE_PATH

    _say(
        f"SANDBOX MODE: Stripe is emulated in this process at {api_base}; nothing reaches the "
        f"real Stripe. Demo storefront: {api_base.removesuffix(SANDBOX_STRIPE_PATH)}/ "
        "(one worker: the emulator keeps its state in memory)"
    )
    if host not in LOOPBACK_HOSTS:
        _say(
            f"WARNING: the sandbox is bound to {host}: anyone who reaches it can read and "
            "complete every emulated session. Keep it on 127.0.0.1 unless you mean it."
        )


def _write_openapi(output: str) -> int:
    from amount_updater.app import create_app

    # Settings of a start with nothing to warn about: the document does not depend on them.
    sample = resources.files("amount_updater.catalog") / SAMPLE_CATALOG
    settings = Settings(
        stripe_secret_key="sk_test_openapi", token_secret="x" * 32, catalog_path=Path(str(sample))
    )
    document = json.dumps(create_app(settings).openapi(), indent=2, sort_keys=True) + "\n"
    if output == "-":
        sys.stdout.write(document)
        return 0
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document)
    print(f"wrote {path}")  # noqa: T201 - CLI output
    return 0


def _check_catalog(path: Path) -> int:
    try:
        catalog = load_catalog(path)
    except CatalogError as exc:
        print(f"{exc.source}: invalid catalog, {len(exc.problems)} problem(s)", file=sys.stderr)  # noqa: T201
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)  # noqa: T201
        return 1
    currencies = ", ".join(sorted(catalog.currencies))
    print(  # noqa: T201
        f"{path}: ok: {len(catalog.products)} products, {len(catalog.shipping)} shipping rates, "
        f"{len(catalog.discounts)} discount codes; currencies {currencies}"
    )
    for note in catalog_notes(catalog, datetime.now(UTC)):
        print(f"  note: {note}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
