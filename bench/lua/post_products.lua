-- POST /products with a distinct product per request. Argument: a run id.
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
    '{"name":"bench %s-%d-%d","price":%d.%02d,"description":"benchmark product","stock":100}',
    run, tid or 0, n, 1 + n % 500, n % 100)
  return wrk.format("POST", "/products", headers, body)
end
