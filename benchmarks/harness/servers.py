"""The measured servers: how each one is prepared and started against a given upstream port."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from harness.procs import log_tail

BENCH_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = BENCH_DIR.parent
REFERENCE_SOURCE = REPO_DIR.parent / "shared" / "bench" / "express-seed"
STRIPE_KEY = "sk_test_bench"
TOKEN_EXPIRES_AT = 4102444800  # 2100-01-01, like the stand-in's sessions
NPM_TIMEOUT_S = 600
SERVER_KEYS = ("reference", "baseline", "floor", "service", "service2")
# On request only: the floor and the service under uvicorn (uvloop, httptools) instead of
# granian, to compare the servers.
EXTRA_SERVER_KEYS = ("floor_uvicorn", "service_uvicorn")


@dataclass(frozen=True, slots=True)
class Launch:
    command: list[str]
    env: dict[str, str]


Launcher = Callable[[int, int], Launch]  # (server port, upstream port) -> how to start it


@dataclass(frozen=True, slots=True)
class ServerSpec:
    key: str
    label: str
    workers: int
    authenticated: bool  # requests need `Authorization: Bearer <token>`
    launcher: Launcher


def _base_env() -> dict[str, str]:
    """The harness's environment without the service's settings (a stray one would change it)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AMOUNT_UPDATER_")}


def _python_bin(name: str) -> str:
    """A console script of the Python running the harness (the project's venv)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


def prepare_reference(source: Path, workdir: Path, npm: str) -> Path:
    """Copy the reference endpoint into `workdir` and `npm install` it there; the app dir.

    Raises RuntimeError with npm's last lines when the install fails.
    """
    app = workdir / "express-seed"
    app.mkdir(parents=True)
    for item in source.iterdir():
        if item.is_file():
            shutil.copyfile(item, app / item.name)  # the source is read-only: no mode copy
    log = workdir / "npm-install.log"
    with log.open("wb") as out:
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund"],
            cwd=app,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=NPM_TIMEOUT_S,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"npm install failed:\n{log_tail(log)}")
    return app


def _reference_launch(app: Path, node: str, port: int, upstream_port: int) -> Launch:
    env = {
        **_base_env(),
        "PORT": str(port),
        "STRIPE_HOST": "127.0.0.1",
        "STRIPE_PORT": str(upstream_port),
        "STRIPE_SECRET_KEY": STRIPE_KEY,
    }
    return Launch([node, str(app / "server.js")], env)


def uvicorn_app(factory: str, port: int) -> list[str]:
    """uvicorn serving `factory` from benchmarks/, one worker, as the service runs."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--app-dir",
        str(BENCH_DIR),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def granian_app(factory: str, port: int) -> list[str]:
    """granian serving `factory` from benchmarks/, one worker, as the service runs."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "--working-dir",
        str(BENCH_DIR),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--http",
        "1",
        "--no-ws",
        "--no-access-log",
        "--log-level",
        "warning",
        factory,
    ]


def _baseline_launch(port: int, upstream_port: int) -> Launch:
    env = {
        **_base_env(),
        "BASELINE_STRIPE_API_BASE": f"http://127.0.0.1:{upstream_port}",
        "BASELINE_STRIPE_SECRET_KEY": STRIPE_KEY,
    }
    return Launch(uvicorn_app("baseline_app:create_app", port), env)


def _floor_launch(server: str, port: int, upstream_port: int) -> Launch:
    env = {
        **_base_env(),
        "FLOOR_STRIPE_API_BASE": f"http://127.0.0.1:{upstream_port}",
        "FLOOR_STRIPE_SECRET_KEY": STRIPE_KEY,
    }
    if server == "uvicorn":
        return Launch(uvicorn_app("floor_app:create_app", port), env)
    return Launch(granian_app("floor_app:create_app", port), env)


def _service_launch(
    token_secret: str, workers: int, server: str | None, port: int, upstream_port: int
) -> Launch:
    command = [
        _python_bin("amount-updater"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    env = {
        **_base_env(),
        "AMOUNT_UPDATER_STRIPE_SECRET_KEY": STRIPE_KEY,
        "AMOUNT_UPDATER_STRIPE_API_BASE": f"http://127.0.0.1:{upstream_port}",
        "AMOUNT_UPDATER_STRIPE_MAX_RETRIES": "0",
        "AMOUNT_UPDATER_TOKEN_SECRET": token_secret,
        "AMOUNT_UPDATER_RETURN_URL": "https://shop.example/checkout/done",
        "AMOUNT_UPDATER_LOG_LEVEL": "WARNING",
        # The cost floor: the stand-in has no rate limits, so the service spends no budget.
        "AMOUNT_UPDATER_STRIPE_REQUESTS_PER_SECOND": "0",
        "AMOUNT_UPDATER_STRIPE_ENDPOINT_REQUESTS_PER_SECOND": "0",
    }
    if server == "uvicorn":  # as `serve` ran before it moved to granian
        command = [
            *uvicorn_app("amount_updater.app:create_app_from_environment", port),
            "--no-proxy-headers",
        ]
    return Launch(command, env)


def reference_spec(app: Path, node: str) -> ServerSpec:
    return ServerSpec(
        "reference",
        "reference: Express 5 + stripe-node 23, 1 process",
        1,
        False,
        partial(_reference_launch, app, node),
    )


def baseline_spec() -> ServerSpec:
    return ServerSpec(
        "baseline",
        "baseline: FastAPI + stripe-python objects, 1 worker",
        1,
        False,
        _baseline_launch,
    )


def floor_spec(server: str = "granian", key: str = "floor") -> ServerSpec:
    return ServerSpec(
        key,
        f"floor: FastAPI + httpx over aiohttp, GET + POST only, 1 worker ({server})",
        1,
        False,
        partial(_floor_launch, server),
    )


def service_spec(token_secret: str, workers: int, server: str | None = None) -> ServerSpec:
    """`amount-updater serve`, or with `server="uvicorn"` its app factory under uvicorn's
    command line, to compare the servers."""
    key = "service" if workers == 1 else f"service{workers}"
    label = f"service: amount-updater, {workers} worker{'s' if workers > 1 else ''}"
    if server is not None:
        key, label = f"service_{server}", f"{label} ({server} command line)"
    return ServerSpec(
        key, label, workers, True, partial(_service_launch, token_secret, workers, server)
    )


def mint_tokens(token_secret: str, session_ids: list[str]) -> list[str]:
    """The service's update tokens, one per session (imported here: only the service needs it)."""
    from amount_updater.auth.tokens import TokenSigner

    signer = TokenSigner(token_secret.encode())
    return [signer.mint(session_id, TOKEN_EXPIRES_AT) for session_id in session_ids]
