#!/usr/bin/env python3
"""The engine of `./sales bench` (scripts/lib-bench.sh prepares the ground and calls it).

Runs every scenario against the running system, alternating the variants that are compared
(A B C A B C …), measures throughput, latency, non-2xx responses and the CPU time per
request of each process involved (from /proc), and writes a JSON result and a Markdown
report. Standard library only. Every load is bounded in time and sent to 127.0.0.1 only.
See bench/README.md.
"""
import datetime
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

E = os.environ
ROOT = E["BENCH_ROOT"]
STATE = E["BENCH_STATE_DIR"]
BIN = E["BENCH_BIN_DIR"]
OUT = E["BENCH_OUT_DIR"]
MODE = E.get("BENCH_MODE", "full")
LUA = os.path.join(ROOT, "bench", "lua")
ONLY = {s for s in E.get("BENCH_ONLY", "").split(",") if s}

PROFILES = {
    # seconds per run, alternating rounds, micro-benchmark min time, settle timeout
    # saga_probe: seconds per closed-loop run while looking for the saturating worker count
    "full": {"duration": 10, "rounds": 5, "saga_duration": 10, "saga_rounds": 3, "saga_probe": 4, "micro_min": 0.5,
             "settle": 5},
    "quick": {"duration": 3, "rounds": 3, "saga_duration": 4, "saga_rounds": 2, "saga_probe": 2, "micro_min": 0.1,
              "settle": 3},
    "smoke": {"duration": 1, "rounds": 1, "saga_duration": 1.5, "saga_rounds": 1, "saga_probe": 0, "micro_min": 0.01,
              "settle": 2},
}
P = dict(PROFILES[MODE])
if E.get("BENCH_DURATION"):
    P["duration"] = float(E["BENCH_DURATION"])
if E.get("BENCH_ROUNDS"):
    P["rounds"] = int(E["BENCH_ROUNDS"])
CONNECTIONS = int(E.get("BENCH_CONNECTIONS", "16"))
THREADS = int(E.get("BENCH_THREADS", "2"))
# The saga's saturation: closed-loop worker counts tried in turn (each doubling while it still
# brings ≥ 5 % more orders/s); BENCH_SAGA_WORKERS fixes one count instead.
SAGA_WORKER_STEPS = [int(E["BENCH_SAGA_WORKERS"])] if E.get("BENCH_SAGA_WORKERS") else [16, 32, 64, 128, 256]
FIXED_RATE = float(E.get("BENCH_RATE", "0") or 0)

PORT_OFFSET = int(E.get("SALES_PORT_OFFSET", "0") or 0)  # as ./sales: a second system beside the first
SERVICE_PORTS = {name: port + PORT_OFFSET for name, port in {
    "gateway": 8080, "product": 8001, "order": 8002, "customer": 8003,
    "payment": 8004, "inventory": 8005, "shipping": 8006}.items()}
GATEWAY = f"http://127.0.0.1:{SERVICE_PORTS['gateway']}"
NO_CACHE = ("Cache-Control: no-cache",)  # a client asking for a fresh answer: the gateway forwards it


def service_url(name):
    return f"http://127.0.0.1:{SERVICE_PORTS[name]}"
SERVICES = list(SERVICE_PORTS)
NGINX_PORT = E.get("BENCH_NGINX_PORT", "")
NGINX_PIDFILE = E.get("BENCH_NGINX_PIDFILE", "")
PGBENCH = json.loads(E.get("BENCH_PGBENCH_CMD", "[]"))
PG_DATA = E.get("BENCH_PG_DATA", "")
WRK = shutil.which("wrk")
CLK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
RUN_ID = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
TARGETS = {"rss_idle_mb": 12, "rss_load_mb": 64, "up_s": 10, "cold_build_s": 300,
           "gw_vs_nginx": 1.0, "gw_vs_pgbench_select": 0.5, "saga_vs_tpcb": 0.25, "saga_p99_ms": 50}


def log(msg):
    print(f"    {msg}", flush=True)


def step(msg):
    print(f"==> {msg}", flush=True)


# ------------------------------------------------------------------ processes and /proc

def read_pid(path):
    try:
        with open(path) as f:
            s = f.readline().strip()
        return int(s) if s.isdigit() else None
    except OSError:
        return None


def alive(pid):
    return pid is not None and os.path.exists(f"/proc/{pid}")


def roots():
    """The process groups we account for: name -> pid of the group's root."""
    r = {}
    for name in SERVICES:
        pid = read_pid(os.path.join(STATE, "run", f"{name}.pid"))
        if alive(pid):
            r[name] = pid
    pg = read_pid(os.path.join(PG_DATA, "postmaster.pid")) if PG_DATA else None
    if alive(pg):
        r["postgres"] = pg
    rmq = read_pid(os.path.join(STATE, "run", "rabbitmq.pid"))
    if alive(rmq):
        r["rabbitmq"] = rmq
    ng = read_pid(NGINX_PIDFILE) if NGINX_PIDFILE else None
    if alive(ng):
        r["nginx"] = ng
    return r


def proc_table():
    """pid -> (ppid, utime+stime+cutime+cstime in ticks)."""
    t = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2:].split()
        t[int(d)] = (int(rest[1]), sum(int(x) for x in rest[11:15]))
    return t


def group_ticks(rts):
    """CPU ticks of each process tree, exited-and-reaped descendants included (cutime)."""
    table = proc_table()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out = {}
    for name, root in rts.items():
        total, stack = 0, [root]
        while stack:
            p = stack.pop()
            if p in table:
                total += table[p][1]
                stack.extend(children.get(p, []))
        out[name] = total
    return out


def machine_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])


def children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Snapshot:
    def __init__(self, rts):
        self.t = time.monotonic()
        self.groups = group_ticks(rts)
        self.busy, self.total = machine_ticks()
        self.loadgen = children_cpu_s()


def rss_kb(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def settle(rts, timeout):
    """Waits until our processes are quiet (asynchronous work of the last run drained)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        a = sum(group_ticks(rts).values())
        time.sleep(0.3)
        b = sum(group_ticks(rts).values())
        if (b - a) / CLK / 0.3 < 0.10:  # under a tenth of a core
            return True
    return False


# ------------------------------------------------------------------ HTTP set-up calls

def http(method, url, body=None, timeout=10):
    assert url.startswith("http://127.0.0.1:"), url
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)


def create_product(name, stock=100, price=9.99):
    st, b = http("POST", f"{GATEWAY}/products", {"name": name, "price": price, "description": "bench", "stock": stock})
    if st != 201:
        raise RuntimeError(f"POST /products → {st} {b}")
    return b["id"]


def create_customer(name, email):
    st, b = http("POST", f"{GATEWAY}/customers",
                 {"name": name, "address": "1 Bench Street, Springfield", "contact": "+1 555 0100", "email": email})
    if st != 201:
        raise RuntimeError(f"POST /customers → {st} {b}")
    return b["id"]


# ------------------------------------------------------------------ one measured run

def measured(cmd, rts, timeout, env=None, tail=True):
    """Runs one load command; returns (completed process, cpu dict)."""
    settle(rts, P["settle"])
    before = Snapshot(rts)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd="/")
    except subprocess.TimeoutExpired as e:
        proc = subprocess.CompletedProcess(cmd, 124, e.stdout or "", e.stderr or "")
    end_load = Snapshot(rts)
    if tail:  # asynchronous work the load caused (events, outbox) is charged to it
        settle(rts, P["settle"])
    after = Snapshot(rts)
    wall = end_load.t - before.t
    busy = (end_load.busy - before.busy) / max(1, end_load.total - before.total) * 100
    # A process that went away (restarted by someone) during the run counts as zero, not negative.
    groups_us = {k: max(0, after.groups.get(k, 0) - before.groups.get(k, 0)) * 1e6 / CLK for k in before.groups}
    loadgen_us = (after.loadgen - before.loadgen) * 1e6
    ours_load = sum(max(0, end_load.groups.get(k, 0) - before.groups.get(k, 0)) for k in before.groups) / CLK
    foreign = max(0.0, (end_load.busy - before.busy) / CLK - ours_load - (end_load.loadgen - before.loadgen))
    now = roots()
    restarted = sorted(k for k in set(rts) | set(now) if rts.get(k) != now.get(k))
    if restarted:
        log(f"warning: {', '.join(restarted)} started or stopped during this run: its numbers are disturbed")
        DISTURBED.append(restarted)
    cpu = {"wall_s": round(wall, 3), "machine_busy_pct": round(busy, 1),
           "foreign_cpu_pct": round(foreign / max(wall, 1e-9) / NCPU * 100, 1),
           "groups_us": groups_us, "loadgen_us": loadgen_us}
    return proc, cpu


def per_request(cpu, n):
    n = max(1, n)
    d = {k: round(v / n, 1) for k, v in cpu["groups_us"].items() if v > 0}
    d["loadgen"] = round(cpu["loadgen_us"] / n, 1)
    return d


def parse_wrk(out):
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON "):])
    return None


WRK_RUNS = [0]


def wrk_run(url, script, args=(), duration=None, connections=None, tail=True, headers=()):
    duration = duration or P["duration"]
    connections = connections or CONNECTIONS
    # The scripts' first argument makes names and e-mails unique: unique per invocation too.
    WRK_RUNS[0] += 1
    args = [f"{args[0]}-{WRK_RUNS[0]}"] + list(args[1:]) if args else args
    cmd = [WRK, f"-t{THREADS}", f"-c{connections}", f"-d{duration}s", "--timeout", "5s",
           "-s", os.path.join(LUA, script), url]
    for h in headers:
        cmd[1:1] = ["-H", h]
    if args:
        cmd += ["--"] + list(args)
    rts = roots()
    env = dict(E, BENCH_LUA_DIR=LUA)
    proc, cpu = measured(cmd, rts, timeout=duration + 30, env=env, tail=tail)
    w = parse_wrk(proc.stdout)
    if not w:
        raise RuntimeError(f"wrk gave no result (exit {proc.returncode}): {proc.stderr.strip()[:300]}")
    n = w["requests"]
    secs = w["duration_us"] / 1e6
    rss_sample(rts)
    # Throughput counts successful responses only: a proxy answering 502 fast must not look fast.
    return {"requests": n, "throughput": round((n - w["non2xx"]) / secs, 1), "non2xx": w["non2xx"],
            "errors": w["connect_errors"] + w["read_errors"] + w["write_errors"] + w["timeouts"],
            "latency_ms": w["latency_ms"], "cpu_us_per_req": per_request(cpu, n),
            "machine_busy_pct": cpu["machine_busy_pct"], "foreign_cpu_pct": cpu["foreign_cpu_pct"]}


def rate_run(url, path, rate, duration=None, headers=()):
    duration = duration or P["duration"]
    cmd = [os.path.join(BIN, "bench_rate_load"), "--url", url, "--path", path, "--rate", str(round(rate, 1)),
           "--duration", str(duration), "--connections", str(max(CONNECTIONS, 32))]
    for h in headers:
        cmd += ["--header", h]
    rts = roots()
    proc, cpu = measured(cmd, rts, timeout=duration + 30, tail=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"bench_rate_load failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    n = r["completed"]
    return {"requests": n, "target_rate": r["target_rate"],
            "throughput": round(r["achieved_rate"] * (n - r["non2xx"]) / max(1, n), 1),
            "non2xx": r["non2xx"], "errors": r["errors"], "sent_late": r["sent_late"],
            "latency_ms": r["latency_ms"], "cpu_us_per_req": per_request(cpu, n),
            "machine_busy_pct": cpu["machine_busy_pct"], "foreign_cpu_pct": cpu["foreign_cpu_pct"]}


def pgbench_run(kind, duration=None):
    duration = duration or P["duration"]
    cmd = list(PGBENCH) + ["-n", "-M", "prepared", "-c", str(CONNECTIONS), "-j", str(THREADS),
                           "-T", str(max(1, int(round(duration))))]
    if kind == "select":
        cmd.append("-S")
    cmd.append("bench_db")
    rts = roots()
    proc, cpu = measured(cmd, rts, timeout=duration + 60, tail=False)
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", proc.stdout)
    n = re.search(r"number of transactions actually processed: (\d+)", proc.stdout)
    lat = re.search(r"latency average = ([0-9.]+) ms", proc.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", proc.stdout)
    if not m or not n:
        raise RuntimeError(f"pgbench failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()[:300]}")
    count = int(n.group(1))
    return {"requests": count, "throughput": float(m.group(1)), "non2xx": int(failed.group(1)) if failed else 0,
            "errors": 0, "latency_ms": {"mean": float(lat.group(1)) if lat else None},
            "cpu_us_per_req": per_request(cpu, count), "machine_busy_pct": cpu["machine_busy_pct"],
            "foreign_cpu_pct": cpu["foreign_cpu_pct"]}


def saga_run(mode, customer, products, workers, rate=None, duration=None):
    duration = duration or P["saga_duration"]
    cmd = [os.path.join(BIN, "bench_saga_load"), "--mode", mode, "--post-url", GATEWAY,
           "--poll-url", service_url("order"), "--customer", str(customer),
           "--products", ",".join(str(p) for p in products), "--duration", str(duration),
           "--workers", str(workers if mode == "closed" else max(32, workers)),
           "--poll-ms", "2", "--timeout-ms", "10000"]
    if rate:
        cmd += ["--rate", str(round(rate, 2))]
    rts = roots()
    proc, cpu = measured(cmd, rts, timeout=duration + 60)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"bench_saga_load failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    if proc.stderr.strip():
        log("saga_load: " + proc.stderr.strip().splitlines()[0][:200])
    rss_sample(rts)
    n = r["confirmed"]
    # The conservative latency is the poll-observed one; the server's own timestamps are shown too.
    return {"requests": n, "throughput": r["orders_per_s"], "posted": r["posted"],
            "non2xx": r["post_non2xx"], "errors": r["post_errors"] + r["timed_out"],
            "rejected": r["rejected"], "timed_out": r["timed_out"], "polls": r["polls"], "watch": r.get("watch"),
            "latency_ms": r["observed_ms"], "server_latency_ms": r["server_ms"],
            "cpu_us_per_req": per_request(cpu, n), "machine_busy_pct": cpu["machine_busy_pct"],
            "foreign_cpu_pct": cpu["foreign_cpu_pct"], "target_rate": r["target_rate"]}


RSS_MAX = {}
DISTURBED = []  # runs during which one of our processes was restarted (by someone else)


def rss_sample(rts):
    for name in SERVICES:
        if name in rts:
            kb = rss_kb(rts[name])
            if kb:
                RSS_MAX[name] = max(RSS_MAX.get(name, 0), kb)


# ------------------------------------------------------------------ alternation and medians

def alternate(variants, rounds):
    """variants: [(name, fn)]. Runs A B C, A B C, … and returns name -> [run]."""
    runs = {name: [] for name, _ in variants}
    errors = {}
    for r in range(rounds):
        for name, fn in variants:
            if name in errors:
                continue
            try:
                res = fn()
                res["round"] = r + 1
                runs[name].append(res)
                lat = res.get("latency_ms", {})
                p99 = lat.get("p99")
                log(f"round {r + 1}/{rounds} {name:<16} {res['throughput']:>10.1f}/s"
                    + (f"  p50 {lat.get('p50'):.2f} ms  p99 {p99:.2f} ms" if p99 is not None else "")
                    + f"  non-2xx {res['non2xx']}  busy {res['machine_busy_pct']}% (foreign {res['foreign_cpu_pct']}%)")
            except Exception as e:  # noqa: BLE001 - one variant failing must not stop the others
                errors[name] = str(e)
                log(f"round {r + 1}/{rounds} {name}: FAILED: {e}")
    return runs, errors


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(runs):
    if not runs:
        return None
    s = {"runs": len(runs), "throughput": med([r["throughput"] for r in runs]),
         "requests": sum(r["requests"] for r in runs), "non2xx": sum(r["non2xx"] for r in runs),
         "errors": sum(r.get("errors", 0) for r in runs),
         "machine_busy_pct": med([r["machine_busy_pct"] for r in runs]),
         "foreign_cpu_pct": med([r["foreign_cpu_pct"] for r in runs])}
    s["latency_ms"] = {k: med([r["latency_ms"].get(k) for r in runs]) for k in runs[0]["latency_ms"]}
    if "server_latency_ms" in runs[0]:
        s["server_latency_ms"] = {k: med([r["server_latency_ms"].get(k) for r in runs])
                                  for k in runs[0]["server_latency_ms"]}
    keys = sorted({k for r in runs for k in r["cpu_us_per_req"]})
    s["cpu_us_per_req"] = {k: med([r["cpu_us_per_req"].get(k, 0.0) for r in runs]) for k in keys}
    for extra in ("target_rate", "sent_late", "rejected", "timed_out", "posted"):
        if extra in runs[0]:
            s[extra] = med([r[extra] for r in runs]) if extra == "target_rate" else sum(r[extra] for r in runs)
    return s


def paired_ratio(a_runs, b_runs, key, key_b=None):
    """Median over rounds of a/b, pairing the runs of the same round (alternation)."""
    key_b = key_b or key
    by_round = {r["round"]: r for r in b_runs}
    ratios = []
    for r in a_runs:
        b = by_round.get(r["round"])
        av, bv = key(r), key_b(b) if b else None
        if av is not None and bv:
            ratios.append(av / bv)
    return round(statistics.median(ratios), 3) if ratios else None


# ------------------------------------------------------------------ scenarios

RESULT = {"run_id": RUN_ID, "mode": MODE, "scenarios": {}, "skipped": {}, "failed": {}}


def wanted(name):
    return not ONLY or name in ONLY


def scenario_get_and_pgbench():
    # `--only pgbench` (e.g. `--only saga,pgbench` for the saga's ratio) runs pgbench alone.
    get_wanted = wanted("get")
    path = f"/products/{create_product(f'bench get {RUN_ID}', stock=1000)}" if get_wanted else None
    # `gateway` is what a client gets (the product is cacheable for a second, so the gateway's
    # response cache answers). The proxy comparison sends `Cache-Control: no-cache`, which
    # makes the gateway forward every request: `gateway_proxy`, `nginx` (a plain keep-alive
    # proxy, no cache) and `direct` all send exactly the same request to the service.
    variants = []
    if WRK and get_wanted:
        variants.append(("gateway", lambda: wrk_run(GATEWAY + path, "get.lua", tail=False)))
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
        "path": path, "tool": "wrk", "variants": {k: summarize(v) for k, v in get.items()}, "runs": get,
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
        sc["ratio_gateway_vs_nginx_throughput"] = paired_ratio(get["gateway_proxy"], get["nginx"],
                                                               lambda r: r["throughput"])
        sc["ratio_gateway_vs_nginx_cpu"] = paired_ratio(
            get["gateway_proxy"], get["nginx"], lambda r: r["cpu_us_per_req"].get("gateway"),
            lambda r: r["cpu_us_per_req"].get("nginx"))
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
            RESULT["scenarios"]["get_product"][f"ratio_{variant}_vs_pgbench_select"] = paired_ratio(
                get[variant], runs["pgbench_select"], lambda r: r["throughput"])


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
    products = [create_product(f"bench saga {RUN_ID} {i}", stock=1_000_000, price=3 + i) for i in range(8)]
    # The inventory learns each product from product.created; wait for it, then top up.
    deadline = time.monotonic() + 20
    for p in products:
        while True:
            st, b = http("GET", f"{service_url('inventory')}/inventory/stock/{p}")
            if st == 200:
                if isinstance(b, dict) and b.get("stock", 0) < 500_000:
                    http("POST", f"{service_url('inventory')}/inventory/stock/{p}/adjust", {"delta": 1_000_000})
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"inventory does not know product {p} after 20 s (GET → {st})")
            time.sleep(0.1)
    workers, probes = saga_saturating_workers(customer, products)
    step(f"(d) order saga, saturation: {workers} closed-loop workers, {P['saga_rounds']} rounds of "
         f"{P['saga_duration']} s")
    sat, err1 = alternate([("saturation", lambda: saga_run("closed", customer, products, workers))], P["saga_rounds"])
    s = summarize(sat["saturation"])
    rate = max(1.0, round((s["throughput"] if s else 10) / 2, 1))
    step(f"(d) order saga, open loop at half that rate: {rate} orders/s")
    half, err2 = alternate([("half_rate", lambda: saga_run("open", customer, products, workers, rate=rate))],
                           P["saga_rounds"])
    RESULT["scenarios"]["saga"] = {"tool": "bench_saga_load", "customer": customer, "products": products,
                                   "workers": workers, "probes": probes, "poll_ms": 2, "half_rate": rate,
                                   "watch": (sat["saturation"] or [{}])[0].get("watch"),
                                   "variants": {"saturation": s, "half_rate": summarize(half["half_rate"])},
                                   "runs": {"saturation": sat["saturation"], "half_rate": half["half_rate"]},
                                   "errors": {**err1, **err2}}


def saga_saturating_workers(customer, products):
    """The worker count at which orders/s stop growing: a closed loop with too few workers
    waits on its own round trips and leaves the machine partly idle, which would understate
    what the system sustains. Returns (workers, [{workers, orders_per_s, p50_ms, busy_pct}])."""
    steps = SAGA_WORKER_STEPS if P["saga_probe"] > 0 else SAGA_WORKER_STEPS[:1]
    if len(steps) == 1:
        return steps[0], []
    step(f"(d) order saga: looking for saturation, {P['saga_probe']} s closed loop with "
         f"{', '.join(map(str, steps))} workers (after a warm-up)")
    try:  # caches, connections and batches warm, so the first probe is not the coldest
        saga_run("closed", customer, products, steps[0], duration=max(1, P["saga_probe"] / 2))
    except Exception as e:  # noqa: BLE001 - the probes below report the failure
        log(f"warm-up: FAILED: {e}")
    probes, best = [], None
    for w in steps:
        try:
            r = saga_run("closed", customer, products, w, duration=P["saga_probe"])
        except Exception as e:  # noqa: BLE001 - keep the best count found so far
            probes.append({"workers": w, "failed": str(e)[:200]})
            log(f"probe {w:>4} workers: FAILED: {e}")
            break
        failures = r["errors"] + r["non2xx"] + r["rejected"]
        probes.append({"workers": w, "orders_per_s": r["throughput"], "p50_ms": r["latency_ms"].get("p50"),
                       "busy_pct": r["machine_busy_pct"], "failures": failures})
        log(f"probe {w:>4} workers {r['throughput']:>10.1f} orders/s  busy {r['machine_busy_pct']}%"
            + (f"  {failures} orders failed, timed out or were rejected: not taken" if failures else ""))
        if failures:  # a count at which orders fail is past what the system sustains
            break
        grew = best is None or r["throughput"] >= best["orders_per_s"] * 1.05
        if best is None or r["throughput"] > best["orders_per_s"]:
            best = probes[-1]
        if not grew:
            break
    return (best or {"workers": steps[0]})["workers"], probes


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_table(rts, field="VmRSS"):
    read = pss_kb if field == "Pss" else (lambda pid: rss_kb(pid, field))
    return {n: round(read(rts[n]) / 1024, 1) for n in SERVICES if n in rts and read(rts[n])}


def uptime_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            start = int(f.read().rsplit(")", 1)[1].split()[19]) / CLK
        with open("/proc/uptime") as f:
            return round(float(f.read().split()[0]) - start, 1)
    except OSError:
        return None


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


# ------------------------------------------------------------------ machine and versions

def cmd_out(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
    except OSError:
        mem = None
    osr = {}
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    osr[k] = v.strip('"')
    except OSError:
        pass

    def pkg(name):
        return cmd_out(["dpkg-query", "-W", "-f=${Version}", name]) or None

    versions = {
        "gcc": cmd_out(["gcc", "-dumpfullversion"]), "cmake": cmd_out(["cmake", "--version"]).split("\n")[0],
        "wrk": pkg("wrk"), "nginx": pkg("nginx-light") or pkg("nginx-core") or pkg("nginx"),
        "postgresql": cmd_out([os.path.join(os.path.dirname(PGBENCH[-1]) if PGBENCH else "", "postgres"),
                               "--version"]) if PGBENCH else pkg("postgresql-15"),
        "rabbitmq": pkg("rabbitmq-server"), "erlang": pkg("erlang-base"), "boost": pkg("libboost1.81-dev"),
        "google_benchmark": pkg("libbenchmark-dev"), "python": platform.python_version()}
    commit = cmd_out(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = bool(cmd_out(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]))
    return {"cpu": cpu, "cores": NCPU, "memory_mb": mem, "kernel": platform.release(),
            "os": osr.get("PRETTY_NAME", ""), "load_avg_at_start": list(os.getloadavg()),
            "versions": versions, "commit": commit + ("-dirty" if dirty else "")}


def service_config(rts):
    keep = re.compile(r"^(HTTP_THREADS|DB_POOL_SIZE|LOG_LEVEL|GATEWAY_[A-Z_]+)=")
    out = {}
    for n in SERVICES:
        if n not in rts:
            continue
        try:
            with open(f"/proc/{rts[n]}/environ", "rb") as f:
                env = [x.decode(errors="replace") for x in f.read().split(b"\0")]
            out[n] = dict(x.split("=", 1) for x in env if keep.match(x))
        except OSError:
            pass
    return out


# ------------------------------------------------------------------ targets and report

def verdict(value, target, higher_is_better=True):
    if value is None:
        return {"value": None, "target": target, "met": None}
    met = value >= target if higher_is_better else value <= target
    margin = (value / target - 1) * 100 if target else None
    return {"value": value, "target": target, "met": met, "margin_pct": round(margin, 1) if margin is not None else None}


def limits_text(summary, label):
    """What the CPU went to, per request: the usual limit on a 2-core box."""
    if not summary:
        return ""
    c = summary["cpu_us_per_req"]
    top = sorted(((k, v) for k, v in c.items() if v and v >= 0.5), key=lambda kv: -kv[1])
    total = sum(v for _, v in top)
    ceiling = NCPU * 1e6 / total if total else None
    parts = ", ".join(f"{k} {v:.0f}" for k, v in top[:6])
    s = f"{label}: CPU per request {total:.0f} µs ({parts})"
    if ceiling:
        s += f"; {NCPU} cores / {total:.0f} µs = {ceiling:.0f}/s ceiling"
    s += f"; machine {summary['machine_busy_pct']}% busy (foreign load {summary['foreign_cpu_pct']}%)"
    return s


def targets():
    sc = RESULT["scenarios"]
    t = {}
    g = sc.get("get_product", {})
    gv = g.get("variants", {})
    t["gateway_throughput_vs_nginx"] = dict(verdict(g.get("ratio_gateway_vs_nginx_throughput"), 1.0),
                                            label="GET via gateway ≥ 1.0× nginx (req/s, paired rounds; "
                                                  "both proxying, no cache)")
    ratio_cpu = g.get("ratio_gateway_vs_nginx_cpu")
    t["gateway_cpu_vs_nginx"] = dict(verdict(ratio_cpu, 1.0, higher_is_better=False),
                                     label="gateway CPU per proxied request ≤ nginx's (ratio)")
    t["gateway_vs_pgbench_select"] = dict(verdict(g.get("ratio_gateway_vs_pgbench_select"), 0.5),
                                          label="GET via gateway ≥ 50 % of pgbench select-only TPS "
                                                f"(as clients get it: cached; proxied every time "
                                                f"{fmt(g.get('ratio_gateway_proxy_vs_pgbench_select'), 3)})")
    saga = sc.get("saga", {}).get("variants", {})
    pgv = sc.get("pgbench", {}).get("variants", {})
    tpcb = (pgv.get("pgbench_tpcb") or {}).get("throughput")
    sat = (saga.get("saturation") or {}).get("throughput")
    t["saga_vs_tpcb"] = dict(verdict(round(sat / tpcb, 3) if sat is not None and tpcb else None, 0.25),
                             label="saga orders/s ≥ 25 % of pgbench TPC-B TPS")
    half = saga.get("half_rate") or {}
    t["saga_p99"] = dict(verdict((half.get("latency_ms") or {}).get("p99"), 50, higher_is_better=False),
                         label="p99 POST→CONFIRMED ≤ 50 ms at half the saturation rate")
    rss = RESULT.get("rss_mb", {})
    idle = rss.get("idle", {})
    load = rss.get("under_load_max", {})
    t["rss_idle"] = dict(verdict(max(idle.values()) if idle else None, 12, higher_is_better=False),
                         label="every service ≤ 12 MB RSS idle (largest shown)",
                         worst=max(idle, key=idle.get) if idle else None)
    t["rss_load"] = dict(verdict(max(load.values()) if load else None, 64, higher_is_better=False),
                         label="every service ≤ 64 MB RSS under load (largest shown)",
                         worst=max(load, key=load.get) if load else None)
    st = RESULT.get("startup", {})
    t["up"] = dict(verdict(st.get("up_s"), 10, higher_is_better=False), label="./sales up from built binaries ≤ 10 s")
    t["cold_build"] = dict(verdict(st.get("cold_build_s"), 300, higher_is_better=False),
                           label="cold build ≤ 5 min on 2 cores (wall time in this run)")
    if st.get("cold_build_cpu_s"):
        t["cold_build_idle"] = dict(verdict(round(st["cold_build_cpu_s"] / 2, 1), 300, higher_is_better=False),
                                    label="cold build ≤ 5 min on 2 idle cores (CPU time ÷ 2)")
    # What limits each missed target.
    why = {
        "gateway_throughput_vs_nginx": [limits_text(gv.get("gateway_proxy"), "gateway"), limits_text(gv.get("nginx"), "nginx")],
        "gateway_cpu_vs_nginx": [limits_text(gv.get("gateway_proxy"), "gateway"), limits_text(gv.get("nginx"), "nginx")],
        "gateway_vs_pgbench_select": [limits_text(gv.get("gateway"), "GET via gateway"),
                                      limits_text(pgv.get("pgbench_select"), "pgbench -S")],
        "saga_vs_tpcb": [limits_text(saga.get("saturation"), "saga (per confirmed order)"),
                         limits_text(pgv.get("pgbench_tpcb"), "pgbench TPC-B")],
        "saga_p99": [limits_text(saga.get("half_rate"), "saga at half rate")],
    }
    if idle:
        w = max(idle, key=idle.get)
        why["rss_idle"] = [f"{w}: {idle[w]} MB = anonymous (heap, thread stacks) {rss.get('idle_anon', {}).get(w)} MB"
                           f" + file-backed (its binary and shared libraries, counted in full by every process that "
                           f"maps them) {rss.get('idle_file', {}).get(w)} MB; PSS {rss.get('idle_pss', {}).get(w)} MB",
                           "idle RSS of each service: " + ", ".join(f"{n} {v}" for n, v in idle.items())]
    for k, v in t.items():
        if v.get("met") is False and k in why:
            v["limits"] = [x for x in why[k] if x]
    RESULT["targets"] = t


def fmt(v, nd=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


CPU_COLS = ["gateway", "product", "customer", "order", "inventory", "payment", "shipping", "postgres",
            "rabbitmq", "nginx", "loadgen"]


def probes_text(probes):
    if not probes:
        return ""
    shown = [f"{p['workers']} → failed" if "failed" in p or p.get("failures") else
             f"{p['workers']} → {p['orders_per_s']:,.0f}" for p in probes]
    return (" (the count with the most orders/s, without failed orders, in " + ", ".join(shown)
            + f"; {P['saga_probe']} s each, after a warm-up)")


def variant_table(variants, label_col="variant", rate_label="req/s", server=False):
    present = [c for c in CPU_COLS if any(((s or {}).get("cpu_us_per_req") or {}).get(c, 0) >= 0.5
                                          for s in variants.values())]
    head = [label_col, rate_label, "p50 ms", "p99 ms", "p99.9 ms", "non-2xx", "errors"]
    if server:
        head += ["server p50", "server p99"]
    head += [f"{c} µs/req" for c in present] + ["busy %"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, s in variants.items():
        if not s:
            continue
        lat = s["latency_ms"]
        row = [name, fmt(s["throughput"]), fmt(lat.get("p50"), 2), fmt(lat.get("p99"), 2), fmt(lat.get("p999"), 2),
               fmt(s["non2xx"]), fmt(s["errors"])]
        if server:
            sl = s.get("server_latency_ms") or {}
            row += [fmt(sl.get("p50"), 2), fmt(sl.get("p99"), 2)]
        row += [fmt(s["cpu_us_per_req"].get(c), 0) for c in present] + [fmt(s["machine_busy_pct"])]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def summary_table():
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    for k, v in RESULT["targets"].items():
        val = v["value"]
        if val is None:
            meas, verd = "not measured", "–"
        else:
            unit = {"saga_p99": " ms", "rss_idle": " MB", "rss_load": " MB", "up": " s", "cold_build": " s",
                    "cold_build_idle": " s"}.get(k, "")
            meas = f"{fmt(val, 2 if isinstance(val, float) else 0)}{unit}"
            if v.get("worst"):
                meas += f" ({v['worst']})"
            m = v.get("margin_pct")
            verd = ("met" if v["met"] else "**missed**") + (f" ({m:+.1f} %)" if m is not None else "")
        lines.append(f"| {v['label']} | {meas} | {verd} |")
    return "\n".join(lines)


def markdown():
    R = RESULT
    m = R["machine"]
    sc = R["scenarios"]
    out = [f"# Benchmark {R['run_id']} ({R['mode']})", "",
           f"Commit `{m['commit']}`, {m['os']}, kernel {m['kernel']}, {m['cpu']} × {m['cores']} cores, "
           f"{m['memory_mb']} MB RAM; load average at start {', '.join(f'{x:.2f}' for x in m['load_avg_at_start'])}.",
           "", f"Configuration: {R['config']['connections']} connections, {R['config']['threads']} wrk threads, "
           f"{R['config']['duration_s']} s per run, {R['config']['rounds']} alternating rounds (medians shown), "
           "resilience on (gateway defaults); nginx runs as many worker processes as the gateway has event loops "
           f"({R['config'].get('nginx_workers') or '?'}). Throughput counts 2xx responses only. CPU µs/req: utime+stime from /proc of each process tree over the run "
           "(plus the asynchronous tail until the system is quiet), divided by completed requests; `loadgen` is the "
           "load generator itself. `busy %` is the whole machine's; `foreign` CPU (other processes) is in the JSON.",
           "", "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v), "",
           "## Targets", "", summary_table(), ""]
    lim = [(v["label"], v["limits"]) for v in R["targets"].values() if v.get("limits")]
    if lim:
        out += ["What limits the missed targets (from /proc):", ""]
        for label, ls in lim:
            out.append(f"- {label}:")
            out += [f"  - {x}" for x in ls]
        out.append("")
    if "get_product" in sc:
        g = sc["get_product"]
        out += [f"## (a) GET {g['path']} — closed loop (wrk)", "", variant_table(g["variants"]), ""]
        ratios = [(k, g.get(k)) for k in ("ratio_gateway_vs_nginx_throughput", "ratio_gateway_vs_nginx_cpu",
                                          "ratio_gateway_vs_direct_throughput", "ratio_gateway_vs_pgbench_select",
                                          "ratio_gateway_proxy_vs_pgbench_select")]
        out += ["Paired ratios (median over rounds): " + ", ".join(f"{k[6:]} {fmt(v, 3)}" for k, v in ratios), ""]
        if g.get("nginx_error_log_tail"):
            out += ["nginx answered non-2xx; the end of its error log:", "", "```",
                    *g["nginx_error_log_tail"], "```", ""]
    if "get_product_fixed_rate" in sc:
        g = sc["get_product_fixed_rate"]
        out += [f"## (a) GET {g['path']} — open loop at {g['rate']} req/s (bench_rate_load, latency from the "
                "scheduled send time)", "", variant_table(g["variants"]), ""]
    if "post" in sc:
        out += ["## (b) POST through the gateway (wrk)", "", variant_table(sc["post"]["variants"]), ""]
    if "mixed" in sc:
        out += [f"## (c) Mixed catalogue workload (wrk): {sc['mixed']['mix']}", "",
                f"The catalogue held {sc['mixed'].get('catalogue_products')} products at the start. A list's "
                "or search's `total` is exact on its last page, else a count at most LIST_TOTAL_CACHE_MS (1 s) "
                "old, or 20 times as long as the count took if that is longer (LIST_TOTAL_COUNT_SHARE_PCT), "
                "counted again by one request at a time (README, \"The API\"); each such count scans "
                "what matches, so its cost grows with the catalogue.", "",
                variant_table(sc["mixed"]["variants"]), ""]
    if "saga" in sc:
        s = sc["saga"]
        out += ["## (d) Order saga: POST /orders → CONFIRMED", "",
                f"Saturation: {s['workers']} closed-loop workers{probes_text(s.get('probes'))}; then open loop "
                f"at half that rate ({s['half_rate']} orders/s). " + (
                    "Latency ends when the order.confirmed event reaches the tool's own queue on sales.events "
                    "(no polling, no read of the order); `server` uses the event's occurred_at, written when "
                    "the order was confirmed (this machine's clock). "
                    if s.get("watch") == "amqp" else
                    f"Latency is as observed by polling GET /orders/{{id}} from every {s['poll_ms']} ms; "
                    "`server` uses the CONFIRMED time in the order's history (this machine's clock). ")
                + "Non-2xx: POST /orders answers other than 201. CPU is per confirmed order.", "",
                variant_table(s["variants"], rate_label="orders/s", server=True), ""]
    elif "saga" in R["skipped"]:
        out += ["## (d) Order saga", "", f"Skipped: {R['skipped']['saga']}.", ""]
    if "pgbench" in sc:
        p = sc["pgbench"]
        out += [f"## (e) pgbench on the same PostgreSQL (scale {p['scale']}, {p['clients']} clients, "
                f"{p['threads']} threads, {p['protocol']}, {p['connection']})", "",
                variant_table(p["variants"], rate_label="TPS"), ""]
    rss = R.get("rss_mb", {})
    if rss:
        names = [n for n in SERVICES if n in rss.get("idle", {})]
        out += ["## (f) RSS per service (MB)", "",
                f"Idle: {rss.get('idle_note', '')}", "",
                "| | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
        for k, label in (("idle", "idle"), ("idle_anon", "idle: anonymous (heap, stacks)"),
                         ("idle_file", "idle: file-backed (binary, shared libraries)"),
                         ("idle_pss", "idle PSS (shared pages divided among sharers)"),
                         ("under_load_max", "under load (max sampled)"),
                         ("after_load", "after load"), ("peak_hwm", "peak (VmHWM)")):
            if k in rss:
                out.append(f"| {label} | " + " | ".join(fmt(rss[k].get(n)) for n in names) + " |")
        out.append("")
    st = R.get("startup", {})
    out += ["## (g) Start-up and build", "",
            f"- `./sales up` from built binaries (after `./sales down`): "
            f"{fmt(st.get('up_s'), 2) + ' s' if st.get('up_s') is not None else st.get('up_note', 'not measured')}",
            f"- cold build of {st.get('cold_build_of', 'the tree')} (fresh build dir, no ccache, "
            f"`cmake --build -j{st.get('cold_build_jobs', 2)}`): "
            f"{fmt(st.get('cold_build_s'), 1) + ' s' if st.get('cold_build_s') is not None else st.get('cold_build_note', 'not measured')}"
            + (f"; CPU time {fmt(st['cold_build_cpu_s'], 1)} s, so {fmt(st['cold_build_cpu_s'] / 2, 1)} s on two idle "
               "cores" if st.get("cold_build_cpu_s") else "")
            + (f" (load average before {st['cold_build_loadavg_before']}, after {st['cold_build_loadavg_after']})"
               if st.get("cold_build_loadavg_after") else ""),
            ""]
    if "micro" in sc:
        out += ["## Micro-benchmarks (Google Benchmark, ns per operation)", "", "| benchmark | real ns | CPU ns |",
                "|---|---|---|"]
        out += [f"| {b['name']} | {b['real_ns']} | {b['cpu_ns']} |" for b in sc["micro"]["benchmarks"]]
        out.append("")
    if R["skipped"] or R["failed"]:
        out += ["## Skipped or failed", ""]
        out += [f"- skipped {k}: {v}" for k, v in R["skipped"].items()]
        out += [f"- FAILED {k}: {v}" for k, v in R["failed"].items()]
        for name, s in sc.items():
            for k, v in (s.get("errors") or {}).items():
                out.append(f"- FAILED {name}/{k}: {v}")
        out.append("")
    return "\n".join(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    rts = roots()
    missing = [n for n in SERVICES if n not in rts]
    if missing:
        log(f"not running: {', '.join(missing)} (their numbers are missing)")
    RESULT["machine"] = machine()
    RESULT["config"] = {"connections": CONNECTIONS, "threads": THREADS, "duration_s": P["duration"],
                        "rounds": P["rounds"], "saga_duration_s": P["saga_duration"],
                        "saga_rounds": P["saga_rounds"], "saga_worker_steps": SAGA_WORKER_STEPS,
                        "nginx_port": NGINX_PORT or None, "nginx_workers": E.get("BENCH_NGINX_WORKERS") or None,
                        "services": service_config(rts)}
    try:
        with open(E.get("BENCH_STARTUP_FILE", "/nonexistent")) as f:
            RESULT["startup"] = json.load(f)
    except (OSError, ValueError):
        RESULT["startup"] = {}
    up_since = {n: uptime_s(p) for n, p in rts.items() if n in SERVICES}
    RESULT["rss_mb"] = {"idle": rss_table(rts), "idle_anon": rss_table(rts, "RssAnon"),
                        "idle_file": rss_table(rts, "RssFile"), "idle_pss": rss_table(rts, "Pss"),
                        "idle_note": "at the start of the run, before any load of this run; services up for "
                                     + ", ".join(f"{n} {v:.0f} s" for n, v in up_since.items() if v is not None)}
    if not WRK and (wanted("get") or wanted("post") or wanted("mixed")):
        RESULT["skipped"]["wrk"] = "wrk is not installed: the wrk scenarios (a, b, c) did not run"
    if not NGINX_PORT and wanted("get"):
        RESULT["skipped"]["nginx"] = E.get("BENCH_NGINX_NOTE") or "nginx is not available"
    if not PGBENCH and (wanted("get") or wanted("pgbench")):
        RESULT["skipped"]["pgbench"] = E.get("BENCH_PGBENCH_NOTE") or "pgbench is not available"

    plan = [("get", scenario_get_and_pgbench), ("post", scenario_posts), ("mixed", scenario_mixed),
            ("saga", scenario_saga), ("micro", micro)]
    for name, fn in plan:
        if not (wanted(name) or (name == "get" and wanted("pgbench"))) or (name in ("post", "mixed") and not WRK):
            continue
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report and go on with the next scenario
            RESULT["failed"][name] = str(e)
            log(f"{name}: FAILED: {e}")

    rts = roots()
    rss_sample(rts)
    RESULT["rss_mb"]["after_load"] = rss_table(rts)
    RESULT["rss_mb"]["under_load_max"] = {n: round(kb / 1024, 1) for n, kb in RSS_MAX.items()}
    RESULT["rss_mb"]["peak_hwm"] = rss_table(rts, "VmHWM")
    if DISTURBED:
        RESULT["failed"]["disturbed"] = (f"{len(DISTURBED)} run(s) saw a process start or stop mid-run "
                                         f"({', '.join(sorted({n for d in DISTURBED for n in d}))}): "
                                         "someone restarted the system; rerun on a quiet machine")
    targets()

    base = os.path.join(OUT, f"{RUN_ID}-{MODE}")
    with open(base + ".json", "w") as f:
        json.dump(RESULT, f, indent=1, ensure_ascii=False)
    md = markdown()
    with open(base + ".md", "w") as f:
        f.write(md + "\n")
    whole = MODE != "smoke" and not ONLY  # latest.md is the latest complete report
    if whole:
        with open(os.path.join(OUT, "latest.md"), "w") as f:
            f.write(md + "\n")
    step(f"wrote {base}.json and {base}.md" + (f" (and {OUT}/latest.md)" if whole else ""))
    print()
    print(summary_table())

    # Every scenario that ran must have produced numbers (what the smoke test checks).
    empty = [f"{name}/{k}" for name, s in RESULT["scenarios"].items() if name != "micro"
             for k, v in s.get("variants", {}).items() if not v or not v.get("requests")]
    problems = list(RESULT["failed"]) + empty + [f"{n}/{k}" for n, s in RESULT["scenarios"].items()
                                                 for k in (s.get("errors") or {})]
    if problems:
        print(f"error: no numbers from: {', '.join(problems)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
