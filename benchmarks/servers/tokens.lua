-- wrk script of the load benchmark: every request carries the next token of a token file.
--
--   wrk -t1 -c16 -d5s -s tokens.lua http://127.0.0.1:PORT/guarded -- TOKEN_FILE FIRST
--
-- The file holds one token per line: 16 tokens for "reused tokens" (cycled, so each is
-- sent again every 16 requests), or a large pool of distinct tokens for "a new token per
-- request" (walked from index FIRST, 0-based, wrapping only if the pool runs out).
-- Every variant, the unguarded one included, goes through this same script, so the load
-- generator spends the same on every request and sends requests of the same size.
-- done() prints one line, "LOADBENCH {json}", that benchmarks/servers/wrk.py parses.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local tokens = {}
local prefix
pool = 0        -- globals, so that done() can read them with thread:get()
first = 0
generated = 0

function init(args)
   local file = assert(io.open(args[1], "r"))
   for line in file:lines() do
      if #line > 0 then
         pool = pool + 1
         tokens[pool] = line
      end
   end
   file:close()
   assert(pool > 0, "no token in " .. args[1])
   first = (tonumber(args[2]) or 0) % pool
   prefix = "GET " .. wrk.path .. " HTTP/1.1\r\nHost: " .. wrk.headers["Host"]
      .. "\r\nAuthorization: Bearer "
end

function request()
   local token = tokens[(first + generated) % pool + 1]
   generated = generated + 1
   return prefix .. token .. "\r\n\r\n"
end

function done(summary, latency, requests)
   local sent, size, start = 0, 0, 0
   for _, thread in ipairs(threads) do
      sent = sent + thread:get("generated")
      size = thread:get("pool")
      start = thread:get("first")
   end
   local errors = summary.errors
   io.write(string.format(
      'LOADBENCH {"requests": %d, "duration_us": %d, "bytes": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "mean": %.1f, "max": %d}, '
         .. '"generated": %d, "pool": %d, "first": %d}\n',
      summary.requests, summary.duration, summary.bytes,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.mean, latency.max, sent, size, start))
end
