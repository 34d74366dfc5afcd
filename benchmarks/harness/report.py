"""The result tables (Markdown, printed and optionally written to a file)."""

from __future__ import annotations

from collections.abc import Sequence

from harness.runs import RunResult, Scenario, UpstreamLatency

# The cost floor's targets: the share of the reference's throughput one worker must reach.
TARGET_RATIOS = {"A": 0.5, "B": 0.7}
TARGET_RATIO = 1.0  # any other scenario
TARGET_RSS_MB = 150.0
TARGET_SERVER = "service"


def _ratio(value: float, reference: float | None) -> str:
    if reference is None or reference <= 0:
        return ""
    return f" ({value / reference:.2f}x)"


def one_line(note: str, limit: int = 240) -> str:
    """A note fit for a table cell: first and last line of a log excerpt, shortened."""
    lines = [line.strip() for line in note.splitlines() if line.strip()]
    text = lines[0] if len(lines) < 2 else f"{lines[0]} ... {lines[-1]}"
    text = text.replace("|", "/")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _ms(value: float, reference: float | None, *, measured: bool) -> str:
    return f"{value:.1f}{_ratio(value, reference)}" if measured else "-"


def _cpu_cell(run: RunResult) -> str:
    return f"{run.cpu.server_cores:.2f} / {run.cpu.other_cores:.2f}" if run.cpu else ""


def _reference(results: Sequence[RunResult]) -> RunResult | None:
    return next((r for r in results if r.server.key == "reference" and r.wrk is not None), None)


def _rss_cell(run: RunResult, reference: RunResult | None) -> str:
    if run.rss is None:
        return ""
    ref = reference.rss.total_mb if reference and reference.rss else None
    cell = f"{run.rss.total_mb:.0f}{_ratio(run.rss.total_mb, ref)}"
    if run.server.workers > 1:
        cell += f"; max {run.rss.process_mb:.0f}/process"
    return cell


def _errors_cell(run: RunResult) -> str:
    assert run.wrk is not None
    others = run.errors_in_every_round - run.wrk.errors  # the other rounds'
    cell = "0" if not run.wrk.errors else f"{run.wrk.errors:,} ({run.wrk.error_detail()})"
    if others:
        cell += f"; other rounds {others:,}"
    return cell


def _throughput_row(run: RunResult, reference: RunResult | None) -> str:
    label = run.server.label + (" (separate line: not 1:1)" if run.server.workers > 1 else "")
    if run.wrk is None:
        return f"| {label} | {one_line(run.note)} | | | | | |"
    ref = reference.wrk if reference else None
    w = run.wrk
    measured = w.requests > 0
    cells = [
        label,
        f"{w.ok_per_s:,.0f}{_ratio(w.ok_per_s, ref.ok_per_s if ref else None)}",
        _ms(w.p50_ms, ref.p50_ms if ref else None, measured=measured),
        _ms(w.p99_ms, ref.p99_ms if ref else None, measured=measured),
        _errors_cell(run),
        _rss_cell(run, reference),
        _cpu_cell(run),
    ]
    row = "| " + " | ".join(cells) + " |"
    return row + (f" {one_line(run.note)}" if run.note else "")


def _target_line(scenario: Scenario, results: Sequence[RunResult]) -> str:
    reference = _reference(results)
    run = next((r for r in results if r.server.key == TARGET_SERVER), None)
    target = TARGET_RATIOS.get(scenario.key, TARGET_RATIO)
    wanted = f"target for the service (1 worker): >= {target:.1f}x the reference, 0 errors"
    if scenario.slow_upstream:
        wanted += f", RSS < {TARGET_RSS_MB:.0f} MB per worker"
    if run is None or run.wrk is None or run.rss is None:
        return f"{wanted}: not measured"
    if reference is None or reference.wrk is None:
        return f"{wanted}: no reference in this run"
    ratio = run.wrk.ok_per_s / reference.wrk.ok_per_s
    errors = run.errors_in_every_round
    met = ratio >= target and errors == 0
    detail = f"{ratio:.2f}x, {errors:,} errors"
    if scenario.slow_upstream:
        peak = run.peak_process_mb or run.rss.process_mb
        met = met and peak < TARGET_RSS_MB
        detail += f", {peak:.0f} MB/worker"
    return f"{wanted}: **{'MET' if met else 'NOT MET'}** ({detail})"


def throughput_table(scenario: Scenario, results: Sequence[RunResult]) -> list[str]:
    reference = _reference(results)
    lines = [
        f"### {scenario.key}: {scenario.title}",
        "",
        "| server | updates/s (x ref) | p50 ms (x ref) | p99 ms (x ref) | errors "
        "| peak RSS MB (x ref) | CPU cores: server / other |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(_throughput_row(run, reference) for run in results),
        "",
    ]
    lines += _rounds_lines(results, reference)
    if not scenario.hot:
        lines += [_target_line(scenario, results), ""]
    return lines


def _rounds_lines(results: Sequence[RunResult], reference: RunResult | None) -> list[str]:
    """Every round's updates/s (- for a round not measured), and the service's ratio to the
    reference round by round."""
    measured = [run for run in results if len(run.rounds) > 1]
    if not measured:
        return []
    lines = [
        "updates/s by round: "
        + "; ".join(
            f"{run.server.key} {' / '.join(_round_cell(value) for value in run.rounds)}"
            for run in measured
        )
    ]
    service = next((run for run in measured if run.server.key == TARGET_SERVER), None)
    if service is not None and reference is not None and len(reference.rounds) > 1:
        ratios = [
            f"{ours / theirs:.2f}x" if ours is not None and theirs else "-"
            for ours, theirs in zip(service.rounds, reference.rounds, strict=True)
        ]
        lines.append(f"{TARGET_SERVER} / reference, round by round: {', '.join(ratios)}")
    return [*lines, ""]


def _round_cell(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _latency_row(run: RunResult, upstream: UpstreamLatency, reference: RunResult | None) -> str:
    if run.wrk is None:
        return f"| {run.server.label} | {one_line(run.note)} | | | | | | |"
    w = run.wrk
    added_p50, added_p99 = w.p50_ms - upstream.p50_ms, w.p99_ms - upstream.p99_ms
    ref_p99 = reference.wrk.p99_ms - upstream.p99_ms if reference and reference.wrk else None
    cells = [
        run.server.label,
        f"{w.ok_per_s:,.0f}",
        f"{w.p50_ms:.2f}",
        f"{w.p99_ms:.2f}",
        f"{added_p50:.2f}",
        f"{added_p99:.2f}{_ratio(added_p99, ref_p99)}",
        _errors_cell(run),
        _cpu_cell(run),
    ]
    return "| " + " | ".join(cells) + " |" + (f" {one_line(run.note)}" if run.note else "")


def latency_table(
    scenario: Scenario, results: Sequence[RunResult], upstream: UpstreamLatency
) -> list[str]:
    reference = _reference(results)
    g, p = upstream.get, upstream.post
    return [
        f"### {scenario.key}: {scenario.title}",
        "",
        f"Upstream alone (wrk -> nginx, {scenario.connections} connections): GET p50 "
        f"{g.p50_ms:.2f} / p99 {g.p99_ms:.2f} ms, POST p50 {p.p50_ms:.2f} / p99 {p.p99_ms:.2f} ms;"
        f" GET+POST p50 {upstream.p50_ms:.2f}, p99 {upstream.p99_ms:.2f} ms. Added = server's "
        "latency minus GET+POST (percentiles subtracted: an estimate).",
        "",
        "| server | updates/s | p50 ms | p99 ms | added p50 ms | added p99 ms (x ref) | errors "
        "| CPU cores: server / other |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(_latency_row(run, upstream, reference) for run in results),
        "",
    ]
