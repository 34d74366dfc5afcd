"""`amount-updater serve | openapi | check-catalog`."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

from amount_updater.catalog.repository import CatalogError, load_catalog
from amount_updater.config import ENV_PREFIX, Settings, SettingsError, load_settings
from amount_updater.logs import configure_logging

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amount-updater", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="processes (one per core)")
    serve.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="behind a proxy: its addresses, so X-Forwarded-For gives the client's address",
    )

    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, default=DEFAULT_OPENAPI_PATH)

    check = commands.add_parser("check-catalog", help="validate a catalog TOML file")
    check.add_argument("path", type=Path)

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args.host, args.port, args.workers, args.forwarded_allow_ips)
    if args.command == "openapi":
        return _write_openapi(args.output)
    return _check_catalog(args.path)


def _fail(message: str) -> int:
    print(f"amount-updater: {message}", file=sys.stderr)  # noqa: T201 - CLI output
    return 2


def _serve(host: str, port: int, workers: int, forwarded_allow_ips: str | None) -> int:
    import uvicorn

    try:
        settings = load_settings()
        if settings.token_secret is None:
            # Workers must share one secret, or a token minted by one is refused by another.
            os.environ[ENV_PREFIX + "TOKEN_SECRET"] = secrets.token_hex(32)
        if settings.stripe_secret_key is None:
            workers = _enter_sandbox(host, port, workers)
        settings = load_settings()
        from amount_updater.app import create_app

        create_app(settings)  # validates settings and catalog before binding the port
    except (SettingsError, CatalogError) as exc:
        return _fail(str(exc))
    configure_logging(settings.log_level)
    uvicorn.run(
        "amount_updater.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
    )
    return 0


def _enter_sandbox(host: str, port: int, workers: int) -> int:
    """Point the gateway at the emulator mounted in this very server; one worker only."""
    from amount_updater.sandbox import SANDBOX_STRIPE_PATH

    local = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
    if ":" in local:
        local = f"[{local}]"
    os.environ[ENV_PREFIX + "STRIPE_API_BASE"] = f"http://{local}:{port}{SANDBOX_STRIPE_PATH}"
    print(  # noqa: T201 - start-up banner
        "amount-updater: SANDBOX MODE (AMOUNT_UPDATER_STRIPE_SECRET_KEY is not set): Stripe is "
        f"emulated in this process at http://{local}:{port}{SANDBOX_STRIPE_PATH}; nothing reaches "
        f"the real Stripe. Demo storefront: http://{local}:{port}/",
        file=sys.stderr,
    )
    if workers != 1:
        print(  # noqa: T201
            "amount-updater: sandbox mode runs one worker (the emulator keeps its state in memory)",
            file=sys.stderr,
        )
    return 1


def _write_openapi(output: Path) -> int:
    from amount_updater.app import create_app

    settings = Settings(stripe_secret_key="sk_test_openapi", token_secret="x" * 32)
    app = create_app(settings)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {output}")  # noqa: T201 - CLI output
    return 0


def _check_catalog(path: Path) -> int:
    try:
        catalog = load_catalog(path)
    except CatalogError as exc:
        print(f"{exc.source}: invalid catalog", file=sys.stderr)  # noqa: T201
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)  # noqa: T201
        return 1
    currencies = ", ".join(sorted(catalog.currencies))
    print(  # noqa: T201
        f"{path}: ok: {len(catalog.products)} products, {len(catalog.shipping)} shipping rates, "
        f"{len(catalog.discounts)} discount codes; currencies {currencies}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
