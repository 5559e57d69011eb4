-- wrk script of benchmarks/api.py: each thread sends the request paths of the
-- file named by $WRK_PATHS (one a line), thread k starting at line k and taking
-- every n-th line (n = $WRK_THREADS), and stops when its share is sent and
-- answered: each path is requested once per run. A thread that is done writes
-- the file <$WRK_PATHS>.done<k>; benchmarks/api.py then ends wrk with SIGINT
-- (wrk otherwise runs for its whole -d). done() prints the latency figures as
-- one JSON line.
local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

function init(args)
   local all = {}
   for line in io.lines(os.getenv("WRK_PATHS")) do table.insert(all, line) end
   local step = tonumber(os.getenv("WRK_THREADS"))
   paths = {}
   for i = id, #all, step do table.insert(paths, all[i]) end
   sent, answered, bad = 0, 0, 0
end

function request()
   if sent >= #paths then
      return wrk.format("GET", paths[#paths])  -- only while the last answers arrive
   end
   sent = sent + 1
   return wrk.format("GET", paths[sent])
end

function response(status, headers, body)
   answered = answered + 1
   if status ~= 200 then bad = bad + 1 end
   if answered == #paths then
      io.open(os.getenv("WRK_PATHS") .. ".done" .. id, "w"):close()
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local bad_total = 0
   for _, thread in ipairs(threads) do bad_total = bad_total + thread:get("bad") end
   io.write(string.format(
      '{"requests": %d, "seconds": %.6f, "non_200": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
      summary.requests, summary.duration / 1e6, bad_total,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
      latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
