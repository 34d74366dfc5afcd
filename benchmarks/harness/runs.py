"""Scenarios, and one measured run: start a server, check one answer, warm up, measure, stop."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.procs import StartupError, free_port, running
from harness.procstat import CpuMeter, CpuUse, RssPeak, RssSampler, background_cores
from harness.servers import ServerSpec
from harness.tools import LoadTools
from harness.upstream import Upstream
from harness.wrk import (
    THREADS,
    UPDATE_SCRIPT,
    UPSTREAM_SCRIPT,
    WrkError,
    WrkResult,
    run_wrk,
    write_sessions,
)

GUARD_TIMEOUT_S = 30
QUIET_CORES = 0.2  # other processes using more than this before/while a run: say so
QUIET_WAIT_S = 30.0
PRODUCT_ID = "gift_wrap"  # not in the stand-in's session: every update adds it (GET + POST)


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    title: str
    slow_upstream: bool  # the 100 ms server
    connections: int
    hot: bool = False  # every request on one session id
    latency: bool = False  # report the latency the server adds to the upstream's
    driver: str = "wrk"  # or "flash" (flash_sale.py), "open" (open_loop.py)


SCENARIOS = (
    Scenario("A", "upstream 0 ms, 32 connections", False, 32),
    Scenario("B", "upstream 100 ms, 512 connections", True, 512),
    Scenario("L", "service-added latency: upstream 0 ms, 16 connections", False, 16, latency=True),
    Scenario(
        "H", "one hot session: upstream 0 ms, 32 connections, 1 session id", False, 32, hot=True
    ),
    Scenario("F", "flash sale at Stripe's limits", False, 0, driver="flash"),
    Scenario("O", "100 updates/s, open loop, upstream 0 ms", False, 0, driver="open"),
)
DEFAULT_SCENARIOS = ("F", "A", "B", "O")


@dataclass(frozen=True, slots=True)
class RunResult:
    server: ServerSpec
    scenario: Scenario
    wrk: WrkResult | None  # None: not measured (see note)
    rss: RssPeak | None
    cpu: CpuUse | None = None
    note: str = ""
    # Set on the median run of several rounds, in round order (None: not measured that round),
    # so that the tables show the spread and hold every round's errors and RSS against targets.
    rounds: tuple[float | None, ...] = ()
    round_errors: tuple[int, ...] = ()
    round_peak_process_mb: float | None = None

    @property
    def errors_in_every_round(self) -> int:
        if self.round_errors:
            return sum(self.round_errors)
        return self.wrk.errors if self.wrk is not None else 0

    @property
    def peak_process_mb(self) -> float | None:
        if self.round_peak_process_mb is not None:
            return self.round_peak_process_mb
        return self.rss.process_mb if self.rss is not None else None


def median_run(runs: Sequence[RunResult]) -> RunResult:
    """The run with the median updates/s (the lower one of the middle two for an even count),
    carrying every round's updates/s, errors and peak RSS. A round that was not measured shows
    as None; the median is taken over the measured ones."""
    measured = [run for run in runs if run.wrk is not None]
    if not measured:
        return runs[-1]
    ranked = sorted(measured, key=lambda run: run.wrk.ok_per_s if run.wrk else 0.0)
    middle = ranked[(len(ranked) - 1) // 2]
    peaks = [run.rss.process_mb for run in measured if run.rss is not None]
    unmeasured = [run.note for run in runs if run.wrk is None and run.note]
    return replace(
        middle,
        rounds=tuple(run.wrk.ok_per_s if run.wrk else None for run in runs),
        round_errors=tuple(run.wrk.errors for run in measured if run.wrk),
        round_peak_process_mb=max(peaks) if peaks else None,
        note="; ".join([middle.note, *unmeasured]).strip("; "),
    )


@dataclass(frozen=True, slots=True)
class Sessions:
    """The shopper sessions and the Lua data files that list them, with and without tokens."""

    ids: list[str]
    tokens: list[str]
    workdir: Path

    def data_file(self, *, authenticated: bool, hot: bool) -> Path:
        name = f"sessions-{'tokens' if authenticated else 'plain'}{'-hot' if hot else ''}.lua"
        return self.workdir / name

    def write_files(self) -> None:
        for authenticated in (False, True):
            tokens: list[str | None] = (
                list(self.tokens) if authenticated else [None] * len(self.ids)
            )
            rows = list(zip(self.ids, tokens, strict=True))
            for hot in (False, True):
                path = self.data_file(authenticated=authenticated, hot=hot)
                write_sessions(path, rows[:1] if hot else rows)


@dataclass(frozen=True, slots=True)
class Bench:
    """What every run shares."""

    tools: LoadTools
    upstream: Upstream
    sessions: Sessions
    workdir: Path
    duration_s: float
    warmup_s: float
    quiet_wait_s: float = QUIET_WAIT_S


@dataclass(frozen=True, slots=True)
class UpstreamLatency:
    """wrk straight at nginx (0 ms server), with the connections of the latency scenario."""

    get: WrkResult
    post: WrkResult

    @property
    def p50_ms(self) -> float:
        return self.get.p50_ms + self.post.p50_ms

    @property
    def p99_ms(self) -> float:
        return self.get.p99_ms + self.post.p99_ms


def session_ids(count: int) -> list[str]:
    return [f"cs_test_bench_{n:06d}" for n in range(count)]


def guard(port: int, session_id: str, token: str | None) -> str | None:
    """None if one update answers 200 with an amount_total; otherwise what went wrong."""
    body = json.dumps({"checkout_session_id": session_id, "product_id": PRODUCT_ID}).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/update-custom-amount", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=GUARD_TIMEOUT_S) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}: {exc.read()[:300].decode(errors='replace')}"
    except OSError as exc:
        return f"no answer: {exc}"
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = None
    if status != 200 or not isinstance(answer, dict) or "amount_total" not in answer:
        return f"HTTP {status} without amount_total: {payload[:300].decode(errors='replace')}"
    return None


def _load(
    bench: Bench, port: int, spec: ServerSpec, scenario: Scenario, seconds: float
) -> WrkResult:
    data = bench.sessions.data_file(authenticated=spec.authenticated, hot=scenario.hot)
    return run_wrk(
        bench.tools.wrk,
        f"http://127.0.0.1:{port}/update-custom-amount",
        script=UPDATE_SCRIPT,
        script_args=[str(data), str(THREADS)],
        connections=scenario.connections,
        duration_s=seconds,
    )


def wait_for_quiet(max_wait_s: float = QUIET_WAIT_S) -> float:
    """Wait (bounded) until other processes leave the cores alone; their last load in cores."""
    deadline = time.monotonic() + max_wait_s
    load = background_cores()
    while load > QUIET_CORES and time.monotonic() < deadline:
        load = background_cores()
    return load


def _notes(proc_code: int | None, before: float, cpu: CpuUse) -> str:
    notes = []
    if proc_code is not None:
        notes.append(f"server exited with {proc_code}")
    if max(before, cpu.other_cores) > QUIET_CORES:
        notes.append(
            f"machine busy: other processes used {cpu.other_cores:.2f} cores during the run "
            f"({before:.2f} before)"
        )
    return "; ".join(notes)


def measure(bench: Bench, spec: ServerSpec, scenario: Scenario) -> RunResult:
    """One fresh server process: guard request, warm-up (discarded), measured run, RSS peak."""
    before = wait_for_quiet(bench.quiet_wait_s)
    port = free_port()
    upstream_port = bench.upstream.slow_port if scenario.slow_upstream else bench.upstream.fast_port
    launch = spec.launcher(port, upstream_port)
    cwd = bench.workdir / "cwd"
    cwd.mkdir(exist_ok=True)
    log = bench.workdir / f"{spec.key}-{scenario.key}.log"
    token = bench.sessions.tokens[0] if spec.authenticated else None
    try:
        with running(launch.command, port=port, env=launch.env, cwd=cwd, log=log) as proc:
            problem = guard(port, bench.sessions.ids[0], token)
            if problem is not None:
                return RunResult(
                    spec, scenario, None, None, note=f"skipped, guard failed: {problem}"
                )
            with RssSampler(proc.pid) as sampler:
                if bench.warmup_s > 0:
                    _load(bench, port, spec, scenario, bench.warmup_s)
                meter = CpuMeter(proc.pid)
                result = _load(bench, port, spec, scenario, bench.duration_s)
                cpu = meter.stop()
            note = _notes(proc.poll(), before, cpu)
            return RunResult(spec, scenario, result, sampler.peak, cpu, note)
    except StartupError as exc:
        return RunResult(spec, scenario, None, None, note=f"skipped, did not start: {exc}")
    except WrkError as exc:
        return RunResult(spec, scenario, None, None, note=f"not measured: {exc}")


def upstream_wrk(
    bench: Bench, *, method: str, slow: bool, connections: int, seconds: float
) -> WrkResult:
    return run_wrk(
        bench.tools.wrk,
        bench.upstream.session_url(bench.sessions.ids[0], slow=slow),
        script=UPSTREAM_SCRIPT,
        script_args=[method],
        connections=connections,
        duration_s=seconds,
    )


def upstream_latency(bench: Bench, connections: int) -> UpstreamLatency:
    get = upstream_wrk(
        bench, method="GET", slow=False, connections=connections, seconds=bench.duration_s
    )
    post = upstream_wrk(
        bench, method="POST", slow=False, connections=connections, seconds=bench.duration_s
    )
    return UpstreamLatency(get, post)
