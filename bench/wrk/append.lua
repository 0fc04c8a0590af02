-- wrk script: POST /streams/<prefix><n>/events, n uniform in 1..streams, with a
-- body of `batch` small events and the default expected_version ("any").
--   wrk ... -s bench/wrk/append.lua URL -- <batch> <streams> <prefix>
-- Prints one machine-readable "BENCH ..." line when done (see report.lua).
local batch, streams, prefix, body
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  batch = tonumber(args[1]) or 1
  streams = tonumber(args[2]) or 1000
  prefix = args[3] or "bench-"
  math.randomseed(os.time() * 7919 + (tid or 0))
  local ev = {}
  for i = 1, batch do
    ev[i] = string.format('{"type": "Bench", "data": {"order": %d, "sku": "abc-123", "qty": 1}}', i)
  end
  body = '{"events": [' .. table.concat(ev, ", ") .. ']}'
  wrk.headers["Content-Type"] = "application/json"
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then -- a bearer token on every request (bench/streams.sh phase g)
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

function request()
  return wrk.format("POST", "/streams/" .. prefix .. math.random(streams) .. "/events", nil, body)
end

dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
