"""The harness's settings and the state of one run, shared by every module.

Settings come from the environment that scripts/lib-bench.sh sets (BENCH_*), read once at
import. RESULT, RSS_MAX, DISTURBED and WRK_RUNS are what a run gathers: the other modules
import them by name and change them in place, so none of them is ever rebound.
"""

import datetime
import json
import os
import shutil
import sys

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
    # steal_redos: rounds run again per comparison when the hypervisor's steal passed STEAL_REDO_PCT %
    # warmup: the first comparison after a start runs each variant once uncounted first
    # rounds and saga_rounds are even: the order turns every round (stats.alternate), so each
    # variant runs first as often as second and a median over rounds is not one order's
    "full": {"duration": 10, "rounds": 6, "saga_duration": 10, "saga_rounds": 4, "saga_probe": 4, "micro_min": 0.5,
             "settle": 5, "steal_redos": 2, "warmup": True},
    "quick": {"duration": 3, "rounds": 4, "saga_duration": 4, "saga_rounds": 2, "saga_probe": 2, "micro_min": 0.1,
              "settle": 3, "steal_redos": 1, "warmup": True},
    "smoke": {"duration": 1, "rounds": 1, "saga_duration": 1.5, "saga_rounds": 1, "saga_probe": 0, "micro_min": 0.01,
              "settle": 2, "steal_redos": 0, "warmup": False},
}
P = dict(PROFILES[MODE])
if E.get("BENCH_DURATION"):
    P["duration"] = float(E["BENCH_DURATION"])
if E.get("BENCH_ROUNDS"):
    P["rounds"] = int(E["BENCH_ROUNDS"])
if E.get("BENCH_STEAL_REDOS"):
    P["steal_redos"] = int(E["BENCH_STEAL_REDOS"])
# On this shared guest the hypervisor at times runs someone else for a fifth of a round; every
# figure of such a round is the neighbours' as much as ours. After its rounds, a comparison runs
# again (whole, so pairs stay pairs) its round in which a run lost the most to steal, if more
# than this, up to P["steal_redos"] times (stats.alternate); the report lists the tries left out.
STEAL_REDO_PCT = float(E.get("BENCH_STEAL_REDO_PCT", "5"))
# Other processes on this machine (and kernel threads: our network and disk work is partly
# theirs) took 0-4.5 % of it per run in three clean full runs; a process left spinning took
# 22-48 % of every run of one. Over this, the report says the run is disturbed.
FOREIGN_WARN_PCT = float(E.get("BENCH_FOREIGN_WARN_PCT", "10"))
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

SERVICES = list(SERVICE_PORTS)
NGINX_PORT = E.get("BENCH_NGINX_PORT", "")
NGINX_PIDFILE = E.get("BENCH_NGINX_PIDFILE", "")
PGBENCH = json.loads(E.get("BENCH_PGBENCH_CMD", "[]"))
PG_DATA = E.get("BENCH_PG_DATA", "")
WRK = shutil.which("wrk")
CLK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
RUN_ID = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def service_url(name):
    return f"http://127.0.0.1:{SERVICE_PORTS[name]}"


def wanted(name):
    return not ONLY or name in ONLY


def say(text, err=False):
    """Prints to the run's output. Once nobody reads it (./sales killed: a pipe without a
    reader; a terminal hung up), the rest goes to /dev/null: the run, or its tidy, goes on."""
    try:
        print(text, file=sys.stderr if err else sys.stdout, flush=True)
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)


def log(msg):
    say(f"    {msg}")


def step(msg):
    say(f"==> {msg}")


# What a run gathers: mutated in place by the modules that import it, never rebound.
RESULT = {"run_id": RUN_ID, "mode": MODE, "scenarios": {}, "skipped": {}, "failed": {}, "stolen_rounds": []}

RSS_MAX = {}
DISTURBED = []  # runs during which one of our processes was restarted (by someone else)
SAGA_CUSTOMERS = []  # whose orders the saga placed: tidy.py cancels those left unpaid

WRK_RUNS = [0]
