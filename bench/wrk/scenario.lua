-- One wrk script for every scenario, chosen by the environment:
--   BENCH_MODE=plain          the request given on the command line (URL, -H headers)
--   BENCH_MODE=patch          PATCH /api/courses/{random id} {"completionRatio": random}
--   BENCH_MODE=rmw            the seed's progress update: GET the whole list, change one
--                             course's completionRatio, POST the whole list back. Needs
--                             one connection per thread (-t N -c N) so that a thread's
--                             GET and POST follow each other on its own connection.
--   BENCH_IDS=FILE            course ids, one a line (patch, rmw)
-- done() prints one line "WRK_JSON {...}" that bench/lib/wrk.mjs parses.
-- The mode is read at load time because wrk decides then whether it must hand
-- response bodies to Lua (only rmw needs them: copying 90 KB bodies costs the
-- load generator CPU that the server under test would otherwise get).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local mode = os.getenv("BENCH_MODE") or "plain"
local threads = {}
local ids = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

function init(args)
  if mode == "patch" or mode == "rmw" then
    for line in io.lines(os.getenv("BENCH_IDS")) do
      if line ~= "" then table.insert(ids, line) end
    end
  end
  math.randomseed(os.time() * 31 + (thread_index or 0) * 7919)
end

local json_headers = { ["Content-Type"] = "application/json" }

-- Per thread (= per connection in rmw mode): what the last response was for.
local awaiting = nil
local next_body = nil
local target_id = nil
local started_us = nil
update_latencies = {}
updates = 0
failed_updates = 0

-- The course list as the seed stores it is compact JSON (JSON.stringify).
local function set_ratio(body, id, ratio)
  local at = string.find(body, '"id":"' .. id .. '"', 1, true)
  if not at then return nil end
  local s, e = string.find(body, '"completionRatio":%-?%d+', at)
  if not s then return nil end
  return string.sub(body, 1, s - 1) .. '"completionRatio":' .. ratio .. string.sub(body, e + 1)
end

function request()
  if mode == "patch" then
    local id = ids[math.random(#ids)]
    return wrk.format("PATCH", "/api/courses/" .. id, json_headers,
      '{"completionRatio":' .. math.random(0, 100) .. '}')
  elseif mode == "rmw" then
    if next_body then
      local body = next_body
      next_body = nil
      awaiting = "post"
      return wrk.format("POST", "/api/courses", json_headers, body)
    end
    target_id = ids[math.random(#ids)]
    started_us = now_us()
    awaiting = "get"
    return wrk.format("GET", "/api/courses")
  end
  return wrk.request()
end

if mode == "rmw" then
  function response(status, headers, body)
    if awaiting == "get" then
      if status == 200 then next_body = set_ratio(body, target_id, math.random(0, 100)) end
      if not next_body then failed_updates = failed_updates + 1 end
    elseif awaiting == "post" then
      if status >= 200 and status < 300 then
        table.insert(update_latencies, now_us() - started_us)
        updates = updates + 1
      else
        failed_updates = failed_updates + 1
      end
    end
    awaiting = nil
  end
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, math.ceil(#sorted * p / 100))]
end

local function num(v)
  return string.format("%.3f", v)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local fields = {
    '"mode":"' .. mode .. '"',
    '"requests":' .. summary.requests,
    '"duration_s":' .. num(secs),
    '"rps":' .. num(summary.requests / secs),
    '"bytes":' .. summary.bytes,
    '"errors":{"connect":' .. e.connect .. ',"read":' .. e.read .. ',"write":' .. e.write
      .. ',"status":' .. e.status .. ',"timeout":' .. e.timeout .. '}',
    '"p50_us":' .. num(latency:percentile(50)),
    '"p99_us":' .. num(latency:percentile(99)),
    '"max_us":' .. num(latency.max),
  }
  if mode == "rmw" then
    -- One progress update is a GET and a POST: report updates and their latency.
    local all, total, failed = {}, 0, 0
    for _, t in ipairs(threads) do
      total = total + (t:get("updates") or 0)
      failed = failed + (t:get("failed_updates") or 0)
      for _, v in ipairs(t:get("update_latencies") or {}) do table.insert(all, v) end
    end
    table.sort(all)
    table.insert(fields, '"updates":' .. total)
    table.insert(fields, '"failed_updates":' .. failed)
    table.insert(fields, '"updates_per_s":' .. num(total / secs))
    table.insert(fields, '"update_p50_us":' .. num(percentile(all, 50)))
    table.insert(fields, '"update_p99_us":' .. num(percentile(all, 99)))
  end
  io.write("WRK_JSON {" .. table.concat(fields, ",") .. "}\n")
end
