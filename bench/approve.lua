-- wrk script: each request approves a different pending request.
-- ids FIRST..LAST are split evenly between wrk's threads; a thread that
-- runs out stops sending new approvals (it re-reads /healthz).
local first = tonumber(os.getenv("FIRST"))
local last = tonumber(os.getenv("LAST"))
local token = os.getenv("TOKEN")
local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local n = tonumber(os.getenv("THREADS"))
  local per = math.floor((last - first + 1) / n)
  next_id = first + (tid - 1) * per
  stop_id = next_id + per - 1
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  if next_id > stop_id then
    return wrk.format("GET", "/healthz")
  end
  local path = "/api/v1/requests/" .. next_id .. "/approve"
  next_id = next_id + 1
  return wrk.format("POST", path, nil, "{}")
end

function done(summary, latency, requests)
  local bad = summary.errors.status
  io.write(string.format("approve_requests=%d non2xx=%d\n", summary.requests, bad))
end
