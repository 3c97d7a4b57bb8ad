-- Shared by every wrk script: done() prints one machine-readable line for the harness.
-- wrk's summary.errors.status counts responses with status >= 400 (the API never answers
-- 1xx or 3xx), so it is reported as the non-2xx count.
local M = {}

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"latency_ms":{"mean":%.3f,"p50":%.3f,"p90":%.3f,"p99":%.3f,"p999":%.3f,"max":%.3f}}\n',
    summary.requests, summary.duration, summary.bytes, e.status,
    e.connect, e.read, e.write, e.timeout,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000))
end

-- Gives each wrk thread a distinct number (thread-local global `tid` in init/request).
local next_tid = 1
function M.setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

-- A script that POSTs a distinct JSON body per request: `body(run, tid, n)` makes the n-th
-- body of this thread; the script's argument is the run id. Sets wrk's globals.
function M.post_script(path, body)
  local run, n = "r", 0
  local headers = { ["Content-Type"] = "application/json" }
  setup = M.setup
  done = M.done
  init = function(args) run = args[1] or "r" end
  request = function()
    n = n + 1
    return wrk.format("POST", path, headers, body(run, tid or 0, n))
  end
end

return M
