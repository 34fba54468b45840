-- wrk script: POST $REQUEST_PATH (default /v1/search) with the request bodies of BODIES (one JSON object per line),
-- each thread cycling through them from its own offset. Non-2xx answers are counted by wrk.
local bodies = {}
local next_body = 1
local path = os.getenv("REQUEST_PATH") or "/v1/search"

function init(args)
  for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
  next_body = (tonumber(args[1] or "0") or 0) % #bodies + 1
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local key = os.getenv("VECTORSEARCH_API_KEY")
  if key then wrk.headers["Authorization"] = "Bearer " .. key end
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format(nil, path, nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
