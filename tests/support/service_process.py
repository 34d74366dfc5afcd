"""The real service as a separate process, started with the Dockerfile's CMD (as `docker run`
would), bound to loopback on a free port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import free_port
from tests.test_dockerfile import container_command

# The environment of `amount-updater serve --sandbox`: the embedded emulator, no Stripe key.
SANDBOX_ENV = {"AMOUNT_UPDATER_SANDBOX": "true"}


def serve_command(port: int) -> list[str]:
    command = container_command()
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    command[0] = str(Path(sys.executable).with_name(command[0]))
    return command


@dataclass
class ServiceProcess:
    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL to the server and its workers, as a crashed replica (its container gone): no
        shutdown, no cleanup, locks left held."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def wait_until_serving(
    url: str, process: subprocess.Popen[Any], log: Path, *, timeout_s: float = 30
) -> None:
    """Until `url`/healthz answers; RuntimeError with the process's output if it ends first."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).is_success:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the service did not start:\n{log.read_text()}")
        time.sleep(0.1)


@contextmanager
def running_service(
    env: dict[str, str], workdir: Path, *, log_name: str | None = None
) -> Iterator[str]:
    """Start the service with exactly `env` (plus PATH) in `workdir` (where no .env lies);
    yield its base URL; stop it. Its output goes to `workdir / log_name`."""
    with service_process(env, workdir, log_name=log_name) as service:
        yield service.url


@contextmanager
def service_process(
    env: dict[str, str], workdir: Path, *, log_name: str | None = None
) -> Iterator[ServiceProcess]:
    """`running_service`, yielding the process too."""
    port = free_port()
    log = workdir / (log_name or f"service-{port}.log")
    with log.open("w") as sink:
        process = subprocess.Popen(
            serve_command(port),
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
            cwd=workdir,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the server and its workers
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, log)
        yield ServiceProcess(url, process)
    finally:
        if process.poll() is None:
            process.terminate()  # the server stops its workers, each after its requests
            process.wait(timeout=10)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # a worker left behind, if any
