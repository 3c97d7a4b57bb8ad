-- GET of the URL given to wrk (e.g. /products/1): no request() hook, so wrk sends its
-- pre-built request and the generator's own cost stays minimal.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")
done = report.done
