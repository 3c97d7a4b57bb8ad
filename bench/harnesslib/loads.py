"""One measured run of each load tool (wrk, bench_rate_load, pgbench, bench_saga_load): CPU
per request of each process tree around it, and the tool's numbers in one shape.
"""

import json
import os
import re
import signal
import subprocess
import time

from .proc import Snapshot, foreign_pct, roots, rss_sample, settle, tree_ticks
from .state import (BIN, CLK, CONNECTIONS, DISTURBED, E, GATEWAY, LUA, P, PGBENCH, THREADS, WRK, WRK_RUNS, log,
                    service_url)


def measured(cmd, rts, timeout, env=None, tail=True):
    """Runs one load command; returns (completed process, cpu dict)."""
    quiet_before = settle(rts, P["settle"])
    before = Snapshot(rts)
    proc = run_in_group(cmd, timeout, env)
    end_load = Snapshot(rts)
    quiet_after = None
    if tail:  # asynchronous work the load caused (events, outbox) is charged to it
        quiet_after = settle(rts, P["settle"])
    after = Snapshot(rts)
    wall = end_load.t - before.t
    def machine_pct(field):  # of all CPUs' time during the load
        return (getattr(end_load, field) - getattr(before, field)) / max(1, end_load.total - before.total) * 100
    groups_us = {k: ticks * 1e6 / CLK for k, ticks in tree_ticks(before, after).items()}
    loadgen_us = (after.loadgen - before.loadgen) * 1e6
    now = roots()
    restarted = sorted(k for k in set(rts) | set(now) if rts.get(k) != now.get(k))
    if restarted:
        log(f"warning: {', '.join(restarted)} started or stopped during this run: its numbers are disturbed")
        DISTURBED.append(restarted)
    # A run that started before the last one's tail was quiet shares the machine with it; one
    # whose own tail was cut at the settle timeout is charged less than it caused.
    cpu = {"wall_s": round(wall, 3), "machine_busy_pct": round(machine_pct("busy"), 1),
           "foreign_cpu_pct": foreign_pct(before, end_load),
           "steal_pct": round(machine_pct("steal"), 1),
           "quiet_before": quiet_before, "tail_quiet": quiet_after, "tail_s": round(after.t - end_load.t, 2),
           "groups_us": groups_us, "loadgen_us": loadgen_us}
    return proc, cpu


def run_in_group(cmd, timeout, env=None, grace_s=2):
    """subprocess.run(cmd, capture_output=True) in a process group of the command's own, ended
    whole by a timeout (exit status 124) or an interrupt (re-raised): subprocess.run kills only
    the command, which as root is `runuser`, and left its pgbench running on during the
    interrupted run's tidy."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd="/",
                          process_group=0) as p:
        try:
            out, err = p.communicate(timeout=timeout)
            return subprocess.CompletedProcess(cmd, p.returncode, out, err)
        except subprocess.TimeoutExpired:
            end_group(p, grace_s)
            try:  # what it wrote; a process that left the group may hold the pipes open
                out, err = p.communicate(timeout=grace_s)
            except subprocess.TimeoutExpired:
                out, err = "", ""
            return subprocess.CompletedProcess(cmd, 124, out, err)
        except BaseException:
            end_group(p, grace_s)
            raise


def end_group(p, grace_s):
    """TERM to p's process group; KILL to whoever is left of it once grace_s is out (or at once
    on a second interrupt, which goes on); p reaped."""
    try:
        os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            p.poll()  # the leader, reaped: no longer a member
            os.killpg(p.pid, 0)  # ProcessLookupError once nobody is left
            time.sleep(0.02)
    except ProcessLookupError:
        pass
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def machine_share(cpu):
    """How busy the machine was during a run, and how much of that was not ours: foreign
    processes, and the hypervisor's steal (proc.machine_ticks says why apart); whether the
    system was quiet before it and after its tail, and the run's raw CPU (µs per tree)."""
    return {k: cpu[k] for k in ("machine_busy_pct", "foreign_cpu_pct", "steal_pct", "quiet_before", "tail_quiet",
                                "tail_s", "wall_s")} | {"cpu_us": {k: round(v) for k, v in cpu["groups_us"].items()}}


def per_request(cpu, n):
    """CPU per request, divided by the successful ones: a proxy answering errors fast must not
    look cheap (its errors cost CPU and count as nothing). With none, there is no figure."""
    if n <= 0:
        return {k: None for k in list(cpu["groups_us"]) + ["loadgen"]}
    d = {k: round(v / n, 1) for k, v in cpu["groups_us"].items() if v > 0}
    d["loadgen"] = round(cpu["loadgen_us"] / n, 1)
    return d


def parse_wrk(out):
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON "):])
    return None


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
            "latency_ms": w["latency_ms"], "cpu_us_per_req": per_request(cpu, n - w["non2xx"]), **machine_share(cpu)}


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
            "latency_ms": r["latency_ms"], "cpu_us_per_req": per_request(cpu, n - r["non2xx"]), **machine_share(cpu)}


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
            "cpu_us_per_req": per_request(cpu, count), **machine_share(cpu)}


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
    # Errors: every order placed that did not end CONFIRMED in time (a POST that failed, an
    # order rejected or ending otherwise, one still waiting at the timeout).
    return {"requests": n, "throughput": r["orders_per_s"], "posted": r["posted"],
            "non2xx": r["post_non2xx"],
            "errors": r["post_errors"] + r["timed_out"] + r["rejected"] + r.get("other_status", 0),
            "rejected": r["rejected"], "other_status": r.get("other_status", 0), "timed_out": r["timed_out"],
            "polls": r["polls"], "watch": r.get("watch"),
            "latency_ms": r["observed_ms"], "server_latency_ms": r["server_ms"],
            "cpu_us_per_req": per_request(cpu, n), **machine_share(cpu), "target_rate": r["target_rate"]}
