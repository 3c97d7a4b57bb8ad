"""The scenarios: (a) GET with (e) pgbench in the same rounds, (b) POSTs, (c) the mixed
catalogue, (d) the order saga, and the micro-benchmarks. Each fills RESULT["scenarios"].
"""

import json
import os
import statistics
import subprocess
import time

from .api import create_customer, create_product, gateway_cache_lookups, http, wait_inventory_knows
from .loads import pgbench_run, rate_run, saga_run, wrk_run
from .proc import roots, settle
from .saturation import saga_saturating_workers
from .state import (BIN, CONNECTIONS, E, FIXED_RATE, GATEWAY, MODE, NGINX_PIDFILE, NGINX_PORT, NO_CACHE, P, PGBENCH,
                    RESULT, RUN_ID, SAGA_CUSTOMERS, THREADS, WRK, log, service_url, step, wanted)
from .stats import alternate, paired_ratio, record_paired, summarize


# Products the cached GETs of (a) spread over: each is cached on its own, so clients reading
# a catalogue meet misses a single hot URL never does.
CATALOGUE_SIZE = {"full": 1000, "quick": 1000, "smoke": 50}


def scenario_get_and_pgbench():
    # `--only pgbench` (e.g. `--only saga,pgbench` for the saga's ratio) runs pgbench alone.
    get_wanted = wanted("get")
    path = f"/products/{create_product(f'bench get {RUN_ID}', stock=1000)}" if get_wanted else None
    # `gateway` is what clients get: GETs of products at random over a catalogue of
    # CATALOGUE_SIZE, each answered from the gateway's response cache while its copy is fresh
    # (at most GATEWAY_CACHE_MAX_TTL_MS) and fetched again after. The proxy comparison asks
    # one product with `Cache-Control: no-cache`, which makes the gateway forward every
    # request: `gateway_proxy`, `nginx` (a plain keep-alive proxy, no cache) and `direct` all
    # send exactly the same request to the service.
    spread = []
    if WRK and get_wanted:
        spread = [create_product(f"bench get {RUN_ID} {i}", stock=1000) for i in range(CATALOGUE_SIZE[MODE])]
    variants = []
    if WRK and get_wanted:
        variants.append(("gateway", lambda: with_cache_hits(
            lambda: wrk_run(GATEWAY, "get_spread.lua", [RUN_ID, ",".join(map(str, spread))], tail=False))))
        variants.append(("gateway_proxy", lambda: wrk_run(GATEWAY + path, "get.lua", tail=False, headers=NO_CACHE)))
        variants.append(("direct", lambda: wrk_run(service_url("product") + path, "get.lua", tail=False,
                                                   headers=NO_CACHE)))
        if NGINX_PORT:
            variants.append(("nginx", lambda: wrk_run(f"http://127.0.0.1:{NGINX_PORT}" + path, "get.lua", tail=False,
                                                      headers=NO_CACHE)))
    if PGBENCH and wanted("pgbench"):
        variants.append(("pgbench_select", lambda: pgbench_run("select")))
        variants.append(("pgbench_tpcb", lambda: pgbench_run("tpcb")))
    step(f"{f'(a)+(e) GET {path}' if get_wanted else '(e)'}: {', '.join(n for n, _ in variants)}, alternating, "
         f"{P['rounds']} rounds "
         f"of {P['duration']} s")
    runs, errors = alternate(variants, P["rounds"])
    get = {k: runs[k] for k in ("gateway", "gateway_proxy", "direct", "nginx") if k in runs}
    if not get_wanted:
        record_pgbench(runs, errors, get)
        return
    RESULT["scenarios"]["get_product"] = {
        "path": path, "cached_over_products": len(spread), "tool": "wrk",
        "variants": {k: summarize(v) for k, v in get.items()}, "runs": get,
        "errors": {k: v for k, v in errors.items() if k in get}}
    sc = RESULT["scenarios"]["get_product"]
    if get.get("nginx") and any(r["non2xx"] for r in get["nginx"]) and NGINX_PIDFILE:
        # Why the yardstick answered errors (a 502 from a closed upstream connection, …).
        try:
            with open(os.path.join(os.path.dirname(NGINX_PIDFILE), "error.log"), errors="replace") as f:
                sc["nginx_error_log_tail"] = f.read().splitlines()[-20:]
        except OSError:
            pass
    if "gateway_proxy" in get and "nginx" in get:
        record_paired(sc, "ratio_gateway_vs_nginx_throughput", get["gateway_proxy"], get["nginx"],
                      lambda r: r["throughput"])
        record_paired(sc, "ratio_gateway_vs_nginx_cpu", get["gateway_proxy"], get["nginx"],
                      lambda r: r["cpu_us_per_req"].get("gateway"), lambda r: r["cpu_us_per_req"].get("nginx"))
    if "gateway_proxy" in get and "direct" in get:
        sc["ratio_gateway_vs_direct_throughput"] = paired_ratio(get["gateway_proxy"], get["direct"],
                                                                lambda r: r["throughput"])
    record_pgbench(runs, errors, get)

    # Open loop at a fixed rate: half of the slowest variant's closed-loop throughput.
    tputs = [s["throughput"] for s in sc["variants"].values() if s]
    rate = FIXED_RATE or (round(0.5 * min(tputs)) if tputs else 200)
    if MODE == "smoke" and not FIXED_RATE:
        rate = min(rate, 300)
    lv = [("gateway", lambda: rate_run(GATEWAY, path, rate)),
          ("gateway_proxy", lambda: rate_run(GATEWAY, path, rate, headers=NO_CACHE)),
          ("direct", lambda: rate_run(service_url("product"), path, rate, headers=NO_CACHE))]
    if NGINX_PORT:
        lv.append(("nginx", lambda: rate_run(f"http://127.0.0.1:{NGINX_PORT}", path, rate, headers=NO_CACHE)))
    rounds = min(P["rounds"], 3)
    step(f"(a) open loop at {rate} req/s (bench_rate_load): {', '.join(n for n, _ in lv)}, {rounds} rounds")
    lruns, lerr = alternate(lv, rounds)
    RESULT["scenarios"]["get_product_fixed_rate"] = {
        "path": path, "tool": "bench_rate_load", "rate": rate,
        "variants": {k: summarize(v) for k, v in lruns.items()}, "runs": lruns, "errors": lerr}


def with_cache_hits(run):
    """The run, with the share of its requests the gateway's response cache answered
    (`cache_hit_pct`, from gateway_cache_lookups_total before and after)."""
    before = gateway_cache_lookups()
    res = run()
    after = gateway_cache_lookups()
    if before and after:
        hits, misses = after[0] - before[0], after[1] - before[1]
        res["cache_hit_pct"] = round(100 * hits / (hits + misses), 2) if hits + misses > 0 else None
    return res


def record_pgbench(runs, errors, get):
    if "pgbench_select" not in runs:
        return
    pg = {k: runs[k] for k in ("pgbench_select", "pgbench_tpcb") if k in runs}
    RESULT["scenarios"]["pgbench"] = {
        "scale": int(E.get("BENCH_PGBENCH_SCALE", "10")), "clients": CONNECTIONS, "threads": THREADS,
        "protocol": "prepared", "connection": "unix socket, superuser, database bench_db",
        "variants": {k: summarize(v) for k, v in pg.items()}, "runs": pg,
        "errors": {k: v for k, v in errors.items() if k in pg}}
    for variant in ("gateway", "gateway_proxy"):
        if variant in get:
            record_paired(RESULT["scenarios"]["get_product"], f"ratio_{variant}_vs_pgbench_select", get[variant],
                          runs["pgbench_select"], lambda r: r["throughput"])


def scenario_posts():
    variants = [("post_products", lambda: wrk_run(GATEWAY, "post_products.lua", [f"{RUN_ID}"])),
                ("post_customers", lambda: wrk_run(GATEWAY, "post_customers.lua", [f"{RUN_ID}"]))]
    step(f"(b) POST /products, POST /customers through the gateway, alternating, {P['rounds']} rounds")
    runs, errors = alternate(variants, P["rounds"])
    RESULT["scenarios"]["post"] = {"tool": "wrk", "variants": {k: summarize(v) for k, v in runs.items()},
                                   "runs": runs, "errors": errors}


def scenario_mixed():
    products = [create_product(f"bench mixed {RUN_ID} {i}", stock=100, price=5 + i) for i in range(20)]
    customers = [create_customer(f"Mixed {i}", f"mixed-{RUN_ID}-seed{i}@example.com") for i in range(20)]
    args = [RUN_ID, ",".join(map(str, products)), ",".join(map(str, customers))]
    # Lists and searches count every match (DESIGN's exact `total`), so their cost grows with
    # the catalogue, which every run's POST scenarios enlarge: the size goes into the report.
    st, b = http("GET", f"{service_url('product')}/products?limit=1")
    catalogue = b.get("total") if st == 200 and isinstance(b, dict) else None
    step(f"(c) mixed catalogue workload through the gateway ({catalogue} products), {P['rounds']} rounds")
    runs, errors = alternate([("mixed", lambda: wrk_run(GATEWAY, "mixed.lua", args))], P["rounds"])
    RESULT["scenarios"]["mixed"] = {"tool": "wrk", "catalogue_products": catalogue,
                                    "mix": "40% GET product, 10% list products, 15% GET customer, "
                                    "5% list customers, 10% search products, 10% POST product, "
                                    "5% PUT product, 5% POST customer",
                                    "variants": {k: summarize(v) for k, v in runs.items()},
                                    "runs": runs, "errors": errors}


def scenario_saga():
    st, _ = http("GET", f"{GATEWAY}/orders?limit=1")
    if st == 404:
        RESULT["skipped"]["saga"] = "the order service does not serve /orders yet (404)"
        log("skipped: " + RESULT["skipped"]["saga"])
        return
    customer = create_customer("Saga Bench", f"saga-{RUN_ID}@example.com")
    SAGA_CUSTOMERS.append(customer)
    products = [create_product(f"bench saga {RUN_ID} {i}", stock=1_000_000, price=3 + i) for i in range(8)]
    # The inventory learns each product from product.created; wait for it, then top up.
    deadline = time.monotonic() + 20
    for p in products:
        b = wait_inventory_knows(p, deadline)
        if isinstance(b, dict) and b.get("stock", 0) < 500_000:
            http("POST", f"{service_url('inventory')}/inventory/stock/{p}/adjust", {"delta": 1_000_000})
    workers, probes = saga_saturating_workers(customer, products)
    # TPC-B runs between the saga's rounds, so the saga's ratio divides figures taken minutes
    # apart at most, not (e)'s rounds from the start of the run (the host's speed drifts).
    sat_variants = [("saturation", lambda: saga_run("closed", customer, products, workers))]
    if PGBENCH and wanted("pgbench"):
        sat_variants.append(("pgbench_tpcb", lambda: pgbench_run("tpcb", P["saga_duration"])))
    step(f"(d) order saga, saturation: {workers} closed-loop workers, {P['saga_rounds']} rounds of "
         f"{P['saga_duration']} s" + (", alternating with pgbench TPC-B" if len(sat_variants) > 1 else ""))
    sat, err1 = alternate(sat_variants, P["saga_rounds"])
    s = summarize(sat["saturation"])
    tpcb = sat.get("pgbench_tpcb") or []
    rate = max(1.0, round((s["throughput"] if s else 10) / 2, 1))
    step(f"(d) order saga, open loop at half that rate: {rate} orders/s")
    half, err2 = alternate([("half_rate", lambda: saga_run("open", customer, products, workers, rate=rate))],
                           P["saga_rounds"])
    RESULT["scenarios"]["saga"] = {"tool": "bench_saga_load", "customer": customer, "products": products,
                                   "workers": workers, "probes": probes, "poll_ms": 2, "half_rate": rate,
                                   "watch": (sat["saturation"] or [{}])[0].get("watch"),
                                   "variants": {"saturation": s, "half_rate": summarize(half["half_rate"])},
                                   "runs": {"saturation": sat["saturation"], "half_rate": half["half_rate"],
                                            **({"pgbench_tpcb": tpcb} if tpcb else {})},
                                   "errors": {**err1, **err2}}
    if tpcb:
        RESULT["scenarios"]["saga"]["tpcb_paired"] = summarize(tpcb)
        record_paired(RESULT["scenarios"]["saga"], "ratio_vs_tpcb_paired", sat["saturation"], tpcb,
                      lambda r: r["throughput"])


def scenario_stock_copy():
    """(h) DESIGN: the product's `stock` is a read copy of inventory's, "normally within a
    second". One change of stock at a time through the gateway (POST …/adjust), then the
    product service read directly every 2 ms until it shows the new level: the lag is from the
    adjust's answer (its COMMIT) to the first read that shows it."""
    samples = {"full": 40, "quick": 15}.get(MODE, 3)
    product = create_product(f"bench stock copy {RUN_ID}", stock=100)
    product_url = f"{service_url('product')}/products/{product}"
    wait_inventory_knows(product, time.monotonic() + 20)
    settle(roots(), P["settle"])  # the saga's tail drained: its flushes are not in the lags
    step(f"(h) stock read copy: {samples} changes of stock, one at a time, product read every 2 ms")
    lags = []
    for _ in range(samples):
        st, b = http("POST", f"{GATEWAY}/inventory/stock/{product}/adjust", {"delta": 1})
        if st != 200 or not isinstance(b, dict):
            raise RuntimeError(f"POST /inventory/stock/{product}/adjust → {st} {b}")
        level, changed = b["stock"], time.monotonic()
        while True:
            st, b = http("GET", product_url)
            if st == 200 and isinstance(b, dict) and b.get("stock") == level:
                lags.append((time.monotonic() - changed) * 1000)
                break
            if time.monotonic() - changed > 10:
                raise RuntimeError(f"product {product} still shows {b} 10 s after inventory's stock became {level}")
            time.sleep(0.002)
        # Let the flusher go idle, so each change waits a whole STOCK_FEED_INTERVAL_MS, as a
        # lone change does, instead of riding a flush the previous one started.
        time.sleep(0.1)
    deciles = statistics.quantiles(lags, n=10, method="inclusive") if len(lags) > 1 else lags * 9
    RESULT["scenarios"]["stock_copy"] = {
        "samples": samples, "lag_ms": [round(x, 1) for x in sorted(lags)],
        "summary_ms": {"p50": round(statistics.median(lags), 1), "p90": round(deciles[8], 1),
                       "max": round(max(lags), 1)}}


def micro():
    exe = os.path.join(BIN, "micro_bench")
    if not os.access(exe, os.X_OK):
        RESULT["skipped"]["micro"] = "micro_bench was not built (Google Benchmark missing?)"
        return
    step("micro-benchmarks (Google Benchmark)")
    p = subprocess.run([exe, "--benchmark_format=json", f"--benchmark_min_time={P['micro_min']}"],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        RESULT["failed"]["micro"] = p.stderr.strip()[:300]
        return
    data = json.loads(p.stdout)
    RESULT["scenarios"]["micro"] = {"benchmarks": [
        {"name": b["name"], "real_ns": round(b["real_time"], 1), "cpu_ns": round(b["cpu_time"], 1),
         "iterations": b["iterations"]} for b in data["benchmarks"]]}
