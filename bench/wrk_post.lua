-- POST one JSON body on every request; print what was measured as one JSON line.
-- Body and key come from the environment: WRK_BODY, WRK_KEY.
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("WRK_KEY")
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end

done = function(summary, latency, requests)
  local e = summary.errors
  local failed = e.connect + e.read + e.write + e.timeout + e.status
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "failed": %d, "non2xx": %d, "p50Ms": %.2f, "p99Ms": %.2f, "maxMs": %.2f}\n',
    summary.requests, summary.duration / 1e6, failed, e.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
