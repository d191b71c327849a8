-- wrk script for `make bench` (tests/benches/e2e.rs): one request, repeated.
--   wrk ... -s request.lua URL -- METHOD [BODY_FILE]
-- The token comes from BENCH_TOKEN. At the end, one machine-readable line:
--   WRK requests=N duration_us=D p50_us=X p99_us=Y non2xx=S socket_errors=E
local token = os.getenv("BENCH_TOKEN") or ""

function init(args)
  wrk.method = args[1] or "GET"
  wrk.headers["X-Vault-Token"] = token
  if args[2] then
    local f = assert(io.open(args[2], "rb"))
    wrk.body = f:read("*a")
    f:close()
    wrk.headers["Content-Type"] = "application/json"
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
