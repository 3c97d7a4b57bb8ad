-- GET /products/{id} over many products, each request a product at random: what a shop's
-- catalogue traffic looks like to the gateway's response cache (every product cached on
-- its own, for at most GATEWAY_CACHE_MAX_TTL_MS), unlike one URL asked again and again.
-- Arguments: the run id (unused: the harness makes it unique per run), comma-separated
-- product ids. The requests are formatted once, in init, so a
-- request costs the generator a table index and a random number.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done

local requests = {}

function init(args)
  for id in string.gmatch(args[2] or "", "[^,]+") do
    requests[#requests + 1] = wrk.format("GET", "/products/" .. id)
  end
  if #requests == 0 then error("get_spread.lua: no product ids given") end
  math.randomseed((tid or 1) * 7919)
end

function request()
  return requests[math.random(#requests)]
end
