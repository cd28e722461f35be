-- wrk script of bench/gcsim_ceiling.py: the two requests `gcmsg bulk` makes per message into a web
-- messaging conversation, GET /api/v2/conversations/{id} then POST .../communications/{commId}/messages,
-- alternating, spread over the scenario's conversations (each wrk thread starts elsewhere).
-- Arguments after `--`: TOKEN NCONV NTHREADS. The ids follow gcsim_ceiling.py's scenario.
--
-- done() prints one line, "RESULT {json}", that gcsim_ceiling.py reads.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local token, nconv, nthreads, counter, headers_get, headers_post

function init(args)
  token = args[1]
  nconv = tonumber(args[2])
  nthreads = tonumber(args[3])
  counter = 0
  headers_get = { ["Authorization"] = "Bearer " .. token }
  headers_post = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

local function conv_id(i) return string.format("11111111-0000-4000-8000-%012d", i) end
local function agent_comm(i) return string.format("44444444-0000-4001-8000-%012d", i) end

function request()
  local k = counter
  counter = counter + 1
  local i = (math.floor(k / 2) * nthreads + tid) % nconv + 1
  if k % 2 == 0 then
    return wrk.format("GET", "/api/v2/conversations/" .. conv_id(i), headers_get, nil)
  end
  local body = string.format('{"textBody":"Hello, this is message %d from the ceiling benchmark."}', k)
  return wrk.format("POST", "/api/v2/conversations/messages/" .. conv_id(i) .. "/communications/" ..
                    agent_comm(i) .. "/messages", headers_post, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "lat_mean_us": %.1f, "lat_max_us": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
