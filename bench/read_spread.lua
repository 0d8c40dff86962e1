-- wrk script: GET /api/v1/requests/ID over ids FIRST..LAST in turn, each
-- thread from its own offset, so that a request comes round again only
-- after LAST-FIRST+1 reads: far more requests than serve keeps answers
-- for (web/read_cache.h), so every read builds its answer.
local first = tonumber(os.getenv("FIRST"))
local last = tonumber(os.getenv("LAST"))
local token = os.getenv("TOKEN")
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  next_id = first + (tid * 7919) % (last - first + 1)
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  local path = "/api/v1/requests/" .. next_id
  next_id = next_id + 1
  if next_id > last then next_id = first end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  io.write(string.format("spread_requests=%d non2xx=%d\n", summary.requests, summary.errors.status))
end
