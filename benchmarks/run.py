"""`make bench`: amount-updater against the reference endpoint and a straight Python port.

Starts an nginx Stripe stand-in (0 ms and 100 ms servers), the reference endpoint (Express +
stripe-node, from ../shared/bench/express-seed when that folder exists), the Python baseline
(benchmarks/baseline_app.py) and the service with 1 and 2 workers; loads each with wrk and prints
one table per scenario, every figure also as a ratio to the reference. See benchmarks/README.md.

    .venv/bin/python benchmarks/run.py [--duration 15] [--warmup 3] [--scenario all]
        [--only reference,baseline,floor,service,service2] [--sessions 2000] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from harness.flash_sale import FlashResult, flash_sale_table, run_flash_sale
from harness.open_loop import OpenLoopResult, open_loop_table, run_open_loop
from harness.procs import StartupError
from harness.report import latency_table, throughput_table
from harness.runs import (
    DEFAULT_SCENARIOS,
    QUIET_CORES,
    QUIET_WAIT_S,
    SCENARIOS,
    Bench,
    RunResult,
    Scenario,
    Sessions,
    UpstreamLatency,
    measure,
    median_run,
    session_ids,
    upstream_latency,
    upstream_wrk,
    wait_for_quiet,
)
from harness.servers import (
    EXTRA_SERVER_KEYS,
    REFERENCE_SOURCE,
    SERVER_KEYS,
    ServerSpec,
    baseline_spec,
    floor_spec,
    mint_tokens,
    prepare_reference,
    reference_spec,
    service_spec,
)
from harness.tools import LoadTools, ToolError, ensure_load_tools, ensure_npm, version_of
from harness.upstream import UpstreamError, check_upstream, nginx_upstream
from harness.wrk import THREADS, WrkError

SPEED_CHECK_S = 3.0
FLASH_SERVERS = ("reference", "service")
OPEN_SERVERS = ("reference", "floor", "service", *EXTRA_SERVER_KEYS)
FD_LIMIT = 65536


def say(line: str = "") -> None:
    """A progress line on stdout, flushed at once."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _choices(value: str, allowed: Sequence[str], everything: Sequence[str]) -> tuple[str, ...]:
    names = [part.strip() for part in value.split(",") if part.strip()]
    if names == ["all"]:
        return tuple(everything)
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{value!r}: choose from {', '.join(allowed)} (comma-separated) or all"
        )
    return tuple(dict.fromkeys(names))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    scenario_keys = [s.key for s in SCENARIOS]
    parser = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0, help="measured s per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="discarded s before each run")
    parser.add_argument(
        "--scenario",
        type=lambda v: _choices(v.upper() if v != "all" else v, scenario_keys, DEFAULT_SCENARIOS),
        default=DEFAULT_SCENARIOS,
        help="F (flash sale at Stripe's limits), A (0 ms, 32 conns), B (100 ms, 512 conns), "
        "O (100 updates/s open loop), L (added latency, 16 conns), H (one hot session), "
        "comma-separated, or all (= F,A,B,O; L and H only when named)",
    )
    parser.add_argument(
        "--only",
        type=lambda v: _choices(v, SERVER_KEYS + EXTRA_SERVER_KEYS, SERVER_KEYS),
        default=SERVER_KEYS,
        help="servers to measure, comma-separated: " + ",".join(SERVER_KEYS) + " (all of "
        "them by default), or " + ",".join(EXTRA_SERVER_KEYS) + " (the floor and the service "
        "under uvicorn instead of granian)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="throughput scenarios: measure every server this many times, the servers taking "
        "turns, and report each one's median run (L is measured once)",
    )
    parser.add_argument("--sessions", type=int, default=2000, help="session ids, round robin")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument(
        "--retries",
        type=int,
        default=1,
        help="measure a run again when other processes used more than "
        f"{QUIET_CORES} cores during it (the least disturbed run is kept)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=QUIET_WAIT_S,
        help="before each run, wait up to this many s for other processes to leave the cores",
    )
    parser.add_argument(
        "--reference-dir",
        type=Path,
        default=REFERENCE_SOURCE,
        help="the reference endpoint's folder (skipped with a note when missing)",
    )
    args = parser.parse_args(argv)
    if (
        args.duration < 1
        or args.warmup < 0
        or args.sessions < 1
        or args.retries < 0
        or args.rounds < 1
    ):
        parser.error(
            "--duration >= 1, --warmup >= 0, --sessions >= 1, --retries >= 0, --rounds >= 1"
        )
    return args


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through every context manager: processes stop, dirs go


def raise_fd_limit() -> None:
    """512 connections in, as many out to the upstream: more than the usual 1,024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FD_LIMIT if hard == resource.RLIM_INFINITY else min(FD_LIMIT, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def machine_line(tools: LoadTools) -> str:
    cores = len(os.sched_getaffinity(0))
    return (
        f"machine: {cores} cores (nproc), {cpu_model()}, Linux {platform.release()}; "
        f"Python {platform.python_version()}, node {version_of(['node', '--version'])}, "
        f"{version_of([tools.nginx, '-v']).replace('nginx version: ', '')}, "
        f"{version_of([tools.wrk, '-v']).split(' [')[0]}"
    )


def speed_check(bench: Bench) -> str:
    """nginx alone must be far faster than any measured server: measure and say it."""
    get = upstream_wrk(bench, method="GET", slow=False, connections=32, seconds=SPEED_CHECK_S)
    post = upstream_wrk(bench, method="POST", slow=False, connections=32, seconds=SPEED_CHECK_S)
    slow = upstream_wrk(bench, method="POST", slow=True, connections=512, seconds=SPEED_CHECK_S)
    return (
        f"upstream alone (nginx, 1 worker; wrk -t{THREADS}): 0 ms server GET "
        f"{get.ok_per_s:,.0f} req/s, POST {post.ok_per_s:,.0f} req/s at 32 connections; "
        f"100 ms server {slow.ok_per_s:,.0f} req/s at 512 connections (p50 {slow.p50_ms:.0f} ms,"
        f" p99 {slow.p99_ms:.0f} ms), errors {get.errors + post.errors + slow.errors}"
    )


def reference_server(source: Path, workdir: Path) -> tuple[ServerSpec | None, str]:
    """The reference endpoint installed in a temp copy, or None and why it is skipped."""
    if not (source / "server.js").is_file():
        return None, f"reference endpoint skipped: {source} not found (ratios are left out)"
    npm, node = ensure_npm(say), shutil.which("node")
    if npm is None or node is None:
        return None, "reference endpoint skipped: npm/node not available"
    say(f"npm install in a temp copy of {source}")
    try:
        app = prepare_reference(source, workdir, npm)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return None, f"reference endpoint skipped: {exc}"
    return reference_spec(app, node), ""


def select_servers(
    only: Sequence[str], workdir: Path, token_secret: str, reference_dir: Path
) -> tuple[list[ServerSpec], list[str]]:
    servers: list[ServerSpec] = []
    notes: list[str] = []
    for key in only:
        if key == "reference":
            spec, note = reference_server(reference_dir, workdir)
            servers += [spec] if spec else []
            notes += [note] if note else []
        elif key == "baseline":
            servers.append(baseline_spec())
        elif key == "floor":
            servers.append(floor_spec())
        elif key.startswith("floor_"):
            servers.append(floor_spec(key.removeprefix("floor_"), key))
        elif key.startswith("service_"):
            servers.append(service_spec(token_secret, 1, key.removeprefix("service_")))
        else:
            servers.append(service_spec(token_secret, 2 if key == "service2" else 1))
    return servers, notes


def progress(run: RunResult) -> str:
    prefix = f"[{run.scenario.key}] {run.server.key}:"
    if run.wrk is None or run.rss is None:
        return f"{prefix} {run.note}"
    w = run.wrk
    errors = f"{w.errors:,}" + (f" ({w.error_detail()})" if w.errors else "")
    cpu = (
        f", CPU {run.cpu.server_cores:.2f} cores (others {run.cpu.other_cores:.2f})"
        if run.cpu
        else ""
    )
    return (
        f"{prefix} {w.ok_per_s:,.0f} updates/s, p50 {w.p50_ms:.1f} ms, p99 {w.p99_ms:.1f} ms, "
        f"errors {errors}, peak RSS {run.rss.total_mb:.0f} MB{cpu} {run.note}"
    ).rstrip()


def flash_run(spec: ServerSpec, workdir: Path) -> FlashResult:
    say(f"[F] {spec.key}: flash sale ...")
    result = run_flash_sale(spec, workdir)
    say(
        f"[F] {spec.key}: {result.accepted:,} of {result.sent:,} changes accepted, carts right "
        f"{result.carts_correct}/{result.carts}, Stripe calls {result.stripe_calls:,}, "
        f"429s {result.stripe_429:,}, p99 {result.percentile(99):,.0f} ms {result.note}".rstrip()
    )
    return result


def open_run(bench: Bench, spec: ServerSpec) -> OpenLoopResult:
    say(f"[O] {spec.key}: 100 updates/s, open loop ...")
    wait_for_quiet(bench.quiet_wait_s)
    result = run_open_loop(bench, spec)
    say(
        f"[O] {spec.key}: p50 {result.percentile(50):.1f} ms, p99 {result.percentile(99):.1f} "
        f"ms, errors {result.errors} {result.note}".rstrip()
    )
    return result


def _disturbance(run: RunResult) -> float:
    return run.cpu.other_cores if run.cpu else 0.0


def measure_best(bench: Bench, spec: ServerSpec, scenario: Scenario, retries: int) -> RunResult:
    """Measure; while other processes disturbed the run, measure again (at most `retries`
    times) and keep the least disturbed run."""
    runs: list[RunResult] = []
    for attempt in range(retries + 1):
        say(f"[{scenario.key}] {spec.key}: {scenario.title} ..." + (" (again)" if attempt else ""))
        run = measure(bench, spec, scenario)
        say(progress(run))
        runs.append(run)
        if run.wrk is None or _disturbance(run) <= QUIET_CORES:
            break
    return min(runs, key=_disturbance)


def run_scenario(
    bench: Bench, scenario: Scenario, servers: Sequence[ServerSpec], retries: int, rounds: int
) -> list[RunResult]:
    """Each server's median run over `rounds`. The servers take turns (round 1: every server,
    then round 2...), so that a slow spell of this shared machine falls on all of them rather
    than on one, and each round starts one server later than the last, so that no server is
    always the one measured first."""
    runs: dict[str, list[RunResult]] = {spec.key: [] for spec in servers}
    for number in range(rounds):
        if rounds > 1:
            say(f"[{scenario.key}] round {number + 1} of {rounds}")
        shift = number % len(servers)
        for spec in [*servers[shift:], *servers[:shift]]:
            runs[spec.key].append(measure_best(bench, spec, scenario, retries))
    return [median_run(runs[spec.key]) for spec in servers]


def tables(
    bench: Bench,
    scenarios: Sequence[Scenario],
    servers: Sequence[ServerSpec],
    retries: int,
    rounds: int,
) -> list[str]:
    lines: list[str] = []
    for scenario in scenarios:
        if scenario.driver == "flash":
            lines += flash_sale_table(
                [flash_run(spec, bench.workdir) for spec in servers if spec.key in FLASH_SERVERS]
            )
            continue
        if scenario.driver == "open":
            runs = [open_run(bench, spec) for spec in servers if spec.key in OPEN_SERVERS]
            lines += open_loop_table(runs, bench.duration_s)
            continue
        latency: UpstreamLatency | None = None
        if scenario.latency:
            say(f"[{scenario.key}] upstream alone: GET and POST at {scenario.connections} conns")
            latency = upstream_latency(bench, scenario.connections)
        results = run_scenario(bench, scenario, servers, retries, 1 if scenario.latency else rounds)
        if latency is not None:
            lines += latency_table(scenario, results, latency)
        else:
            lines += throughput_table(scenario, results)
    return lines


def header(args: argparse.Namespace, machine: str, speed: str, notes: Sequence[str]) -> list[str]:
    command = " ".join(["benchmarks/run.py", *sys.argv[1:]])
    return [
        "## amount-updater benchmark",
        "",
        f"- {machine}",
        f"- command: `{command}`",
        f"- each run: a fresh server process, one checked request, {args.warmup:g} s warm-up "
        f"(discarded), {args.duration:g} s measured; wrk -t{THREADS} --timeout 10s, closed loop, "
        f"{args.sessions:,} sessions round robin; one update = 1 GET + 1 POST to the stand-in",
        f"- throughput scenarios: {args.rounds} round(s), the servers taking turns; each row is "
        "that server's median run, its errors are every round's; L: one run each",
        f"- {speed}",
        "- wrk, nginx and the server share the cores: compare ratios, not absolute numbers; "
        "errors = non-2xx + socket errors/timeouts; RSS = process tree peak (0.2 s samples)",
        *(f"- note: {note}" for note in notes),
        "",
    ]


def bench_main(args: argparse.Namespace, workdir: Path) -> list[str]:
    tools = ensure_load_tools(say)
    token_secret = secrets.token_hex(32)
    ids = session_ids(args.sessions)
    sessions = Sessions(ids, mint_tokens(token_secret, ids), workdir)
    sessions.write_files()
    servers, notes = select_servers(args.only, workdir, token_secret, args.reference_dir)
    for note in notes:
        say(note)
    scenarios = [s for s in SCENARIOS if s.key in args.scenario]
    runs = sum(1 if s.latency or s.driver != "wrk" else args.rounds for s in scenarios) * len(
        servers
    )
    run_s = args.warmup + args.duration
    say(f"{runs} runs of {run_s:g} s: about {runs * (run_s + 4) / 60:.0f} min")
    with nginx_upstream(tools, workdir) as upstream:
        for line in check_upstream(upstream):
            say(f"upstream check: {line}")
        bench = Bench(
            tools, upstream, sessions, workdir, args.duration, args.warmup, args.quiet_wait
        )
        speed = speed_check(bench)
        say(speed)
        body = tables(bench, scenarios, servers, args.retries, args.rounds)
    return header(args, machine_line(tools), speed, notes) + body


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    raise_fd_limit()
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="amount-updater-bench-") as tmp:
            lines = bench_main(args, Path(tmp))
    except KeyboardInterrupt:
        say("interrupted: every process stopped, temp files removed")
        return 130
    except (ToolError, UpstreamError, WrkError, StartupError) as exc:
        say(f"bench failed: {exc}")
        return 1
    text = "\n".join(lines)
    say()
    say(text)
    say(f"(took {time.monotonic() - started:.0f} s)")
    if args.markdown:
        args.markdown.write_text(text + "\n")
        say(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
