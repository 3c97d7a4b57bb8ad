-- POST /customers with a distinct e-mail per request (e-mails are unique). Argument: a run id.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done

local run, n = "r", 0
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  run = args[1] or "r"
end

function request()
  n = n + 1
  local body = string.format(
    '{"name":"Bench Customer %d","address":"%d Bench Street, Springfield","contact":"+1 555 %04d",' ..
    '"email":"bench-%s-%d-%d@example.com"}',
    n, n, n % 10000, run, tid or 0, n)
  return wrk.format("POST", "/customers", headers, body)
end
