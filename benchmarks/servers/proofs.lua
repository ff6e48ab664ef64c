-- wrk script of the load benchmark's DPoP variants: one bound token, a new proof per request.
--
--   wrk -t1 -c16 -d5s -s proofs.lua http://127.0.0.1:PORT/dpop -- PROOF_FILE
--
-- The file's first line is the Authorization value ("DPoP <token>"), and every other line
-- a proof signed for this very URL (benchmarks/servers/proofs.py writes it just before the
-- run, so that every proof is fresh). Proofs are sent in order, each once; should the file
-- run out, they would wrap, and the server refuse the replays: a void measurement, as it
-- must be. The guarded route and the floor route go through this same script.
-- done() prints the "LOADBENCH {json}" line of tokens.lua; "pool" is the number of proofs.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local proofs = {}
local prefix
pool = 0        -- globals, so that done() can read them with thread:get()
first = 0
generated = 0

function init(args)
   local file = assert(io.open(args[1], "r"))
   local authorization = file:read("*l")
   for line in file:lines() do
      if #line > 0 then
         pool = pool + 1
         proofs[pool] = line
      end
   end
   file:close()
   assert(authorization and pool > 0, "no token or no proof in " .. args[1])
   prefix = "GET " .. wrk.path .. " HTTP/1.1\r\nHost: " .. wrk.headers["Host"]
      .. "\r\nAuthorization: " .. authorization .. "\r\nDPoP: "
end

function request()
   local proof = proofs[generated % pool + 1]
   generated = generated + 1
   return prefix .. proof .. "\r\n\r\n"
end

function done(summary, latency, requests)
   local sent, size = 0, 0
   for _, thread in ipairs(threads) do
      sent = sent + thread:get("generated")
      size = thread:get("pool")
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
      latency.mean, latency.max, sent, size, 0))
end
