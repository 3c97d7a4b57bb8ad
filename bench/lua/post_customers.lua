-- POST /customers with a distinct e-mail per request (e-mails are unique). Argument: a run id.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("report").post_script("/customers", function(run, tid, n)
  return string.format(
    '{"name":"Bench Customer %d","address":"%d Bench Street, Springfield","contact":"+1 555 %04d",' ..
    '"email":"bench-%s-%d-%d@example.com"}',
    n, n, n % 10000, run, tid, n)
end)
