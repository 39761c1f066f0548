-- wrk script: one request per line of $WRK_PATHS ("METHOD path"), each thread from its own offset;
-- PATCH lines send $WRK_BODY. Prints one JSON line with latency percentiles (microseconds) and totals.
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  local method, p = line:match("^(%S+)%s+(%S+)$")
  paths[#paths + 1] = {method, p}
end
local body = os.getenv("WRK_BODY") or ""
local auth = os.getenv("WRK_AUTH") or ""
local threads_seen = 0

function setup(thread)
  thread:set("offset", threads_seen * 7919)
  threads_seen = threads_seen + 1
end

local i = 0
function request()
  i = i + 1
  local entry = paths[((offset or 0) + i) % #paths + 1]
  local headers = {["Authorization"] = auth, ["Host"] = "127.0.0.1"}
  if entry[1] == "GET" then
    return wrk.format("GET", entry[2], headers)
  end
  headers["Content-Type"] = "application/json"
  return wrk.format(entry[1], entry[2], headers, body)
end

local max_requests = tonumber(os.getenv("WRK_MAX") or "0")
local responses = 0
if max_requests > 0 then
  -- Stop this thread after its share of the requests ($WRK_MAX per thread).
  function response(status, headers, body)
    responses = responses + 1
    if responses == max_requests then
      -- wrk runs for its whole duration: tell the bench, which interrupts it (wrk then reports as usual).
      local marker = io.open(os.getenv("WRK_DONE_DIR") .. "/thread-" .. tostring(offset or 0), "w")
      marker:close()
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'WRKJSON {"p50": %d, "p90": %d, "p99": %d, "requests": %d, "duration_us": %d, "non2xx": %d, "errors": %d}\n',
    latency:percentile(50), latency:percentile(90), latency:percentile(99), summary.requests,
    summary.duration, summary.errors.status, errors))
end
