-- POST /products with a distinct product per request. Argument: a run id.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("report").post_script("/products", function(run, tid, n)
  return string.format(
    '{"name":"bench %s-%d-%d","price":%d.%02d,"description":"benchmark product","stock":100}',
    run, tid, n, 1 + n % 500, n % 100)
end)
