"""End-to-end: the real service process (started with the Dockerfile's CMD) against the
stateful Stripe emulator on a real port. No respx here: stripe-python speaks HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from amount_updater.sandbox.emulator import EmulatorState, create_emulator_app
from tests.support.servers import free_port, serve_in_thread
from tests.test_dockerfile import container_command

API_KEY = "e2e-api-key-0123456789"


@pytest.fixture(scope="module")
def emulator_state() -> EmulatorState:
    return EmulatorState()


@pytest.fixture(scope="module")
def emulator_url(emulator_state: EmulatorState) -> Iterator[str]:
    with serve_in_thread(create_emulator_app(emulator_state)) as url:
        yield url


def serve_command(port: int) -> list[str]:
    """The container's CMD, bound to loopback on a free port, run from this virtualenv."""
    command = container_command()
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    command[0] = str(Path(sys.executable).with_name(command[0]))
    return command


@pytest.fixture(scope="module")
def service_url(emulator_url: str, tmp_path_factory) -> Iterator[str]:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_test_e2e",
        "AMOUNT_UPDATER_STRIPE_API_BASE": emulator_url,
        "AMOUNT_UPDATER_API_KEYS": API_KEY,
        "AMOUNT_UPDATER_TOKEN_SECRET": "e" * 32,
        "AMOUNT_UPDATER_STRIPE_MAX_RETRIES": "0",
    }
    log = tmp_path_factory.mktemp("service") / "service.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            serve_command(port), env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the service did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def api(service_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service_url, timeout=30) as client:
        yield client


@pytest.fixture
def stripe_api(emulator_url: str) -> Iterator[httpx.Client]:
    """Direct access to the emulator, as a shop's own backend (or curl) would have."""
    with httpx.Client(
        base_url=emulator_url, headers={"Authorization": "Bearer sk_test_shop"}, timeout=30
    ) as client:
        yield client
