-- A mixed catalogue workload through the gateway: reads and writes over products and
-- customers. Arguments: run id, comma-separated product ids, comma-separated customer ids.
--   40 % GET /products/{id}      10 % GET /products?limit=20&offset=k
--   15 % GET /customers/{id}      5 % GET /customers?limit=20
--   10 % GET /products?q=bench&limit=10
--   10 % POST /products           5 % PUT /products/{id} {price}
--    5 % POST /customers
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done

local run, n = "r", 0
local products, customers = {}, {}
local headers = { ["Content-Type"] = "application/json" }

local function split(s)
  local out = {}
  for id in string.gmatch(s or "", "[^,]+") do out[#out + 1] = id end
  return out
end

function init(args)
  run = args[1] or "r"
  products = split(args[2])
  customers = split(args[3])
  math.randomseed((tid or 1) * 7919)
end

function request()
  n = n + 1
  local r = math.random(100)
  local p = products[math.random(#products)]
  local c = customers[math.random(#customers)]
  if r <= 40 then
    return wrk.format("GET", "/products/" .. p)
  elseif r <= 50 then
    return wrk.format("GET", "/products?limit=20&offset=" .. math.random(0, 200))
  elseif r <= 65 then
    return wrk.format("GET", "/customers/" .. c)
  elseif r <= 70 then
    return wrk.format("GET", "/customers?limit=20")
  elseif r <= 80 then
    return wrk.format("GET", "/products?q=bench&limit=10")
  elseif r <= 90 then
    local body = string.format('{"name":"mixed %s-%d-%d","price":%d.%02d,"stock":10}',
      run, tid or 0, n, 1 + n % 300, n % 100)
    return wrk.format("POST", "/products", headers, body)
  elseif r <= 95 then
    return wrk.format("PUT", "/products/" .. p, headers,
      string.format('{"price":%d.%02d}', 1 + n % 300, n % 100))
  else
    local body = string.format('{"name":"Mixed %d","address":"%d Mixed Road","email":"mixed-%s-%d-%d@example.com"}',
      n, n, run, tid or 0, n)
    return wrk.format("POST", "/customers", headers, body)
  end
end
