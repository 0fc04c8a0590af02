-- Shared done(): one line the bench scripts parse, latencies in microseconds.
-- non2xx counts responses with status >= 400 (wrk's "status" errors); errors
-- counts socket connect/read/write errors and timeouts.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
