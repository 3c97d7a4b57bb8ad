"""The machine, the versions of what is measured, and the services' configuration."""

import os
import platform
import re
import subprocess

from .state import NCPU, PGBENCH, ROOT, SERVICES


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
    keep = re.compile(r"^(HTTP_THREADS|DB_POOL_SIZE|LOG_LEVEL|STOCK_FEED_INTERVAL_MS|GATEWAY_[A-Z_]+)=")
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
