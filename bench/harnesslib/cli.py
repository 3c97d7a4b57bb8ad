"""The harness's main: runs the plan of scenarios, then writes the JSON result and the
Markdown report.
"""

import ctypes
import json
import os
import signal
import time

from .machine import machine, service_config
from .memory import anon_parts_table
from .proc import UNSTABLE_SNAPSHOTS, others_busy, roots, rss_sample, rss_table, settle, uptime_s
from .report import foreign_note, markdown, measured_runs, summary_table
from .scenarios import (micro, scenario_get_and_pgbench, scenario_mixed, scenario_posts, scenario_saga,
                        scenario_stock_copy)
from .state import (CONNECTIONS, DISTURBED, E, FOREIGN_WARN_PCT, MODE, NGINX_PORT, ONLY, OUT, P, PGBENCH, RESULT,
                    RSS_MAX, RUN_ID, SAGA_CUSTOMERS, SAGA_WORKER_STEPS, SERVICES, STEAL_REDO_PCT, THREADS, WRK, log,
                    say, step, wanted)
from .targets import targets
from .tidy import tidy

# Seconds the services sit idle after the last load before their RSS is read (main() says why).
AFTER_LOAD_IDLE_S = 3


def main():
    """A run; interrupted (Ctrl-C or a TERM; ./sales passes each of its own on as one TERM, and
    its death as one), it ends its load, still cancels the orders its saga placed, which would
    otherwise expire an hour later in the middle of whatever runs then (tidy.py), and exits
    130. A second interrupt leaves them."""
    signal.signal(signal.SIGTERM, _interrupted)
    # Not the default handler: a background command of a shell without job control, as
    # ./sales starts it, inherits SIGINT ignored, and the interrupts are counted.
    signal.signal(signal.SIGINT, _interrupted)
    try:
        _interrupted_when_parent_dies()
        return run()
    except KeyboardInterrupt:
        try:
            say("", err=True)
            if not SAGA_CUSTOMERS:
                log("interrupted")
            elif INTERRUPTS[0] > 1:  # the second came while the first ended the load or the run's tidy
                log(f"interrupted twice: {LEFT}")
            else:  # during the run's own tidy too: it goes on
                log("interrupted: the saga's orders are cancelled all the same (interrupt again to leave them)")
                tidy_once()
        except KeyboardInterrupt:
            log(f"interrupted again: {LEFT}")
        return 130


LEFT = "the saga's orders not cancelled yet are left to expire after ORDER_PAYMENT_TIMEOUT_MS"


INTERRUPTS = [0]


def _interrupted(signum, _frame):
    INTERRUPTS[0] += 1
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _interrupted_when_parent_dies():
    """./sales runs this process in a session of its own (scripts/lib-bench.sh), out of reach of
    a KILL to its group (kill -9 -PGID, a CI job cancelled): its death is then an interrupt."""
    parent = os.environ.get("BENCH_PARENT_PID")
    if not parent:
        return
    PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
    try:
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    except (OSError, AttributeError) as e:
        log(f"warning: a KILL of ./sales will not interrupt this run ({e})")
        return
    if os.getppid() != int(parent):  # it died before the prctl
        os.kill(os.getpid(), signal.SIGTERM)


def tidy_once():
    """tidy() for the customers not tidied yet. Interrupted, it leaves them listed, so the
    interrupt's own tidy (main) takes up a run's where it stopped; that one's result replaces
    the run's in the JSON result, once written."""
    result = tidy(list(SAGA_CUSTOMERS))
    SAGA_CUSTOMERS.clear()
    if result is not None and JSON_WRITTEN:  # after the report, so it measures nothing
        RESULT["tidy"] = result
        write_json(JSON_WRITTEN[0])
    return result


JSON_WRITTEN = []  # the run's JSON result, once written: the tidy's result goes in it


def write_json(path):
    """The JSON result, whole or not at all: written beside, then renamed over the old one."""
    with open(path + ".part", "w") as f:
        json.dump(RESULT, f, indent=1, ensure_ascii=False)
    os.replace(path + ".part", path)


def run():
    os.makedirs(OUT, exist_ok=True)
    rts = roots()
    missing = [n for n in SERVICES if n not in rts]
    if missing:
        log(f"not running: {', '.join(missing)} (their numbers are missing)")
    others, busiest = others_busy(rts)
    RESULT["others_busy_before_pct"] = others
    if others > FOREIGN_WARN_PCT:
        log(f"warning: {others:g} % of the machine is busy with work not ours before the run (busiest: "
            + (", ".join(f"{name} pid {pid}: {pct:g} %" for name, pid, pct in busiest) or "no one process")
            + "); every figure will be slower than the code's")
    RESULT["machine"] = machine()
    RESULT["config"] = {"connections": CONNECTIONS, "threads": THREADS, "duration_s": P["duration"],
                        "rounds": P["rounds"], "saga_duration_s": P["saga_duration"],
                        "saga_rounds": P["saga_rounds"], "saga_worker_steps": SAGA_WORKER_STEPS,
                        "steal_redos": P["steal_redos"], "steal_redo_pct": STEAL_REDO_PCT,
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
                        "idle_anon_parts": anon_parts_table(rts),
                        "idle_note": "at the start of the run, before any load of this run; services up for "
                                     + ", ".join(f"{n} {v:.0f} s" for n, v in up_since.items() if v is not None)}
    if not WRK and (wanted("get") or wanted("post") or wanted("mixed")):
        RESULT["skipped"]["wrk"] = "wrk is not installed: the wrk scenarios (a, b, c) did not run"
    if not NGINX_PORT and wanted("get"):
        RESULT["skipped"]["nginx"] = E.get("BENCH_NGINX_NOTE") or "nginx is not available"
    if not PGBENCH and (wanted("get") or wanted("pgbench")):
        RESULT["skipped"]["pgbench"] = E.get("BENCH_PGBENCH_NOTE") or "pgbench is not available"

    plan = [("get", scenario_get_and_pgbench), ("post", scenario_posts), ("mixed", scenario_mixed),
            ("saga", scenario_saga), ("stock", scenario_stock_copy), ("micro", micro)]
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
    quiet = settle(rts, P["settle"])  # idle again: what the load left behind stays
    # Idle means idle for a while: a service gives its freed heap back once it has answered
    # nothing for a second or two (ServerOptions::on_quiet); sampled at once, the figure
    # would be the load's, not the idle service's.
    time.sleep(AFTER_LOAD_IDLE_S)
    RESULT["rss_mb"]["after_note"] = (
        f"{AFTER_LOAD_IDLE_S} s after the last load ended and "
        + ("the services went quiet" if quiet else f"{P['settle']} s of waiting for quiet that did not come")
        + "; the gateway's idle keep-alive connections to them still open")
    RESULT["rss_mb"]["after_load"] = rss_table(rts)
    RESULT["rss_mb"]["after_anon"] = rss_table(rts, "RssAnon")
    RESULT["rss_mb"]["after_file"] = rss_table(rts, "RssFile")
    RESULT["rss_mb"]["after_anon_parts"] = anon_parts_table(rts)
    RESULT["rss_mb"]["under_load_max"] = {n: round(kb / 1024, 1) for n, kb in RSS_MAX.items()}
    RESULT["rss_mb"]["peak_hwm"] = rss_table(rts, "VmHWM")
    if DISTURBED:
        RESULT["failed"]["disturbed"] = (f"{len(DISTURBED)} run(s) saw a process start or stop mid-run "
                                         f"({', '.join(sorted({n for d in DISTURBED for n in d}))}): "
                                         "someone restarted the system; rerun on a quiet machine")
    RESULT["unstable_proc_snapshots"] = UNSTABLE_SNAPSHOTS[0]
    targets()

    base = os.path.join(OUT, f"{RUN_ID}-{MODE}")
    write_json(base + ".json")
    JSON_WRITTEN.append(base + ".json")
    md = markdown()
    with open(base + ".md", "w") as f:
        f.write(md + "\n")
    whole = MODE != "smoke" and not ONLY  # latest.md is the latest complete report
    if whole:
        with open(os.path.join(OUT, "latest.md"), "w") as f:
            f.write(md + "\n")
    step(f"wrote {base}.json and {base}.md" + (f" (and {OUT}/latest.md)" if whole else ""))
    disturbed = foreign_note(measured_runs())
    if disturbed:
        log("warning:" + disturbed.replace("**", ""))
    say("")
    say(summary_table())
    tidy_once()

    # Every scenario that ran must have produced numbers (what the smoke test checks).
    empty = [f"{name}/{k}" for name, s in RESULT["scenarios"].items() if name != "micro"
             for k, v in s.get("variants", {}).items() if not v or not v.get("requests")]
    problems = list(RESULT["failed"]) + empty + [f"{n}/{k}" for n, s in RESULT["scenarios"].items()
                                                 for k in (s.get("errors") or {})]
    if problems:
        say(f"error: no numbers from: {', '.join(problems)}", err=True)
        return 1
    return 0
