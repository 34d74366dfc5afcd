"""Child processes and ports: start in their own process group, wait until ready, always stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 5.0


class StartupError(Exception):
    """A child process exited or did not open its port in time."""


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def wait_for_port(
    proc: subprocess.Popen[bytes], port: int, log: Path, timeout_s: float = READY_TIMEOUT_S
) -> None:
    """Return once `port` accepts connections; StartupError if `proc` exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartupError(f"exited with code {proc.returncode}:\n{log_tail(log)}")
        if port_open(port):
            return
        time.sleep(0.1)
    raise StartupError(f"port {port} not open after {timeout_s:.0f} s:\n{log_tail(log)}")


def start(
    command: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    """Start `command` in a new session (its own process group), output to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM the process group, SIGKILL it after `grace_s`; reap the leader."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace_s)
    # Workers of a pre-fork server may outlive their leader: the group gets SIGKILL regardless.
    _signal_group(proc.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace_s)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@contextmanager
def running(
    command: Sequence[str], *, port: int, env: Mapping[str, str], cwd: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `command`, wait for `port`, yield the process, stop its whole group on exit."""
    proc = start(command, env=env, cwd=cwd, log=log)
    try:
        wait_for_port(proc, port, log)
        yield proc
    finally:
        stop(proc)
