-- wrk script: plain GET of the URL given on the command line (keep-alive);
-- with BENCH_TOKEN set, every request carries it as a bearer token.
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
