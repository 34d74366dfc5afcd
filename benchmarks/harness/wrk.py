"""Run wrk with the Lua scripts in `benchmarks/wrk/` and read the line their done() prints."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

WRK_DIR = Path(__file__).resolve().parents[1] / "wrk"
UPDATE_SCRIPT = WRK_DIR / "update.lua"
UPSTREAM_SCRIPT = WRK_DIR / "upstream.lua"
THREADS = 2  # wrk shares the 2 cores with the server and nginx
TIMEOUT = "10s"
MARKER = "BENCH_JSON "


class WrkError(Exception):
    """wrk failed or printed no report."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int  # completed responses, any status
    duration_s: float
    status_errors: int  # responses with status >= 400
    connect: int
    read: int
    write: int
    timeout: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def socket_errors(self) -> int:
        return self.connect + self.read + self.write + self.timeout

    @property
    def errors(self) -> int:
        return self.status_errors + self.socket_errors

    @property
    def ok_per_s(self) -> float:
        """Successful (2xx) responses per second."""
        return (self.requests - self.status_errors) / self.duration_s if self.duration_s else 0.0

    def error_detail(self) -> str:
        parts = {
            "non-2xx": self.status_errors,
            "timeout": self.timeout,
            "connect": self.connect,
            "read": self.read,
            "write": self.write,
        }
        return ", ".join(f"{name} {count:,}" for name, count in parts.items() if count)


def parse_report(stdout: str) -> WrkResult:
    line = next((ln for ln in stdout.splitlines() if ln.startswith(MARKER)), None)
    if line is None:
        raise WrkError(f"no {MARKER.strip()} line in wrk's output:\n{stdout[-2000:]}")
    data = json.loads(line.removeprefix(MARKER))
    return WrkResult(
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        status_errors=data["status"],
        connect=data["connect"],
        read=data["read"],
        write=data["write"],
        timeout=data["timeout"],
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )


def run_wrk(
    wrk: str,
    url: str,
    *,
    script: Path,
    script_args: Sequence[str],
    connections: int,
    duration_s: float,
    threads: int = THREADS,
) -> WrkResult:
    """One closed-loop wrk run; a subprocess time limit guards against a hung wrk."""
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        f"--timeout={TIMEOUT}",
        "--latency",
        "-s",
        str(script),
        url,
        "--",
        *script_args,
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=duration_s + 60, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk did not finish: {' '.join(command)}") from exc
    if result.returncode != 0:
        raise WrkError(f"wrk exited with {result.returncode}: {result.stderr[-2000:]}")
    return parse_report(result.stdout)


def write_sessions(path: Path, sessions: Sequence[tuple[str, str | None]]) -> None:
    """The Lua data file update.lua reads: `return { {"cs_...", "token"}, ... }`."""
    rows = []
    for session_id, token in sessions:
        fields = [json.dumps(session_id)] + ([json.dumps(token)] if token else [])
        rows.append("{" + ", ".join(fields) + "}")
    path.write_text("return {\n" + ",\n".join(rows) + "\n}\n")
