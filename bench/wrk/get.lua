-- wrk script: plain GET of the URL given on the command line (keep-alive).
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
