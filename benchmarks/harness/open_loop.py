"""Scenario O: the latency a shopper sees at a steady, moderate load.

Updates are sent at a fixed rate (100/s, open loop: each is due at its own moment, whatever
the answers before it did) for the measured seconds, against the 0 ms stand-in, and each one's
latency is counted from when it was due, so a stall shows in full. wrk is closed loop; this
is the measure for "p99 under 10 ms at 100 updates/s".
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field

import aiohttp

from harness.procs import StartupError, free_port, running
from harness.runs import Bench
from harness.servers import ServerSpec

RATE_PER_S = 100


@dataclass
class OpenLoopResult:
    server: ServerSpec
    sent: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    note: str = ""

    def percentile(self, q: int) -> float:
        if len(self.latencies_ms) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies_ms, n=100)[q - 1]


async def _drive(port: int, bench: Bench, spec: ServerSpec, seconds: float, result: OpenLoopResult):
    ids, tokens = bench.sessions.ids, bench.sessions.tokens
    url = f"http://127.0.0.1:{port}/update-custom-amount"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        start = time.monotonic()

        async def one(n: int) -> None:
            due = start + n / RATE_PER_S
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            body = json.dumps({"checkout_session_id": ids[n % len(ids)], "product_id": "gift_wrap"})
            headers = {"Content-Type": "application/json"}
            if spec.authenticated:
                headers["Authorization"] = f"Bearer {tokens[n % len(ids)]}"
            try:
                async with http.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    ok = answer.status == 200
            except aiohttp.ClientError:
                ok = False
            result.latencies_ms.append((time.monotonic() - due) * 1000)
            result.errors += not ok

        count = int(seconds * RATE_PER_S)
        result.sent = count
        await asyncio.gather(*(one(n) for n in range(count)))


def run_open_loop(bench: Bench, spec: ServerSpec) -> OpenLoopResult:
    result = OpenLoopResult(spec)
    port = free_port()
    launch = spec.launcher(port, bench.upstream.fast_port)
    cwd = bench.workdir / "cwd"
    cwd.mkdir(exist_ok=True)
    try:
        with running(
            launch.command,
            port=port,
            env=launch.env,
            cwd=cwd,
            log=bench.workdir / f"{spec.key}-O.log",
        ):
            asyncio.run(_drive(port, bench, spec, bench.warmup_s, OpenLoopResult(spec)))
            asyncio.run(_drive(port, bench, spec, bench.duration_s, result))
    except StartupError as exc:
        result.note = f"not measured: {exc}"
    return result


def open_loop_table(results: list[OpenLoopResult], seconds: float) -> list[str]:
    lines = [
        f"### O: {RATE_PER_S} updates/s, open loop, upstream 0 ms ({seconds:g} s)",
        "",
        "| server | sent | errors | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.note:
            lines.append(f"| {r.server.label} | {r.note} | | | | |")
            continue
        lines.append(
            f"| {r.server.label} | {r.sent:,} | {r.errors} | {r.percentile(50):.1f} "
            f"| {r.percentile(99):.1f} | {max(r.latencies_ms):.1f} |"
        )
    service = next((r for r in results if r.server.key == "service" and not r.note), None)
    if service is not None:
        met = service.errors == 0 and service.percentile(99) < 10
        lines += [
            "",
            f"target for the service: p99 under 10 ms, 0 errors: **{'MET' if met else 'NOT MET'}**",
        ]
    return [*lines, ""]
