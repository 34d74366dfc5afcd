-- Shared by the benchmark scripts: done() prints one machine-readable line that
-- benchmarks/harness/wrk.py parses (wrk's own summary stays above it for humans).
-- errors.status counts responses with a status >= 400 (wrk's "Non-2xx or 3xx" line); none of
-- the measured servers answers 3xx, so it is the non-2xx count.

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "status": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(90)),
    math.floor(latency:percentile(99)), math.floor(latency.max)))
end
