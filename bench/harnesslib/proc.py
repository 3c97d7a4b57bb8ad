"""Processes and /proc: which process trees we account for, their CPU ticks, the machine's,
the load generator's (getrusage), RSS and PSS, and waiting until the system is quiet.
"""

import os
import resource
import time

from .state import CLK, NGINX_PIDFILE, PG_DATA, RSS_MAX, SERVICES, STATE


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
    """pid -> (ppid, utime+stime+cutime+cstime in ticks, cutime+cstime, starttime)."""
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
        t[int(d)] = (int(rest[1]), sum(int(x) for x in rest[11:15]), int(rest[13]) + int(rest[14]), int(rest[19]))
    return t


def tree_members(table, rts):
    """name -> {pid: (ticks, reaped children's ticks, starttime)} of each root's tree."""
    children = {}
    for pid, row in table.items():
        children.setdefault(row[0], []).append(pid)
    out = {}
    for name, root in rts.items():
        members, stack = {}, [root]
        while stack:
            p = stack.pop()
            if p in table:
                members[p] = table[p][1:]
                stack.extend(children.get(p, []))
        out[name] = members
    return out


def tree_totals(trees):
    """name -> CPU ticks of the tree, from tree_members."""
    return {name: sum(m[0] for m in members.values()) for name, members in trees.items()}


UNSTABLE_SNAPSHOTS = [0]  # snapshots taken while processes kept coming and going (counted for the report)


def group_ticks(rts, tries=20, consistent=True):
    """CPU ticks of each process tree, exited-and-reaped descendants included (cutime).

    One listing of /proc is not a snapshot: a child reaped after its parent's line was read
    and before its own would be in neither (pgbench's backends exit just as a run ends). So
    /proc is listed until two listings in a row show the same processes in every tree (pid
    and start time) with the same reaped-children time, and the second is used."""
    prev = tree_members(proc_table(), rts)
    if not consistent:  # a rough reading (is the system quiet?): one listing will do
        return tree_totals(prev)
    for _ in range(tries):
        cur = tree_members(proc_table(), rts)
        same = all({p: (m[1], m[2]) for p, m in cur[n].items()} == {p: (m[1], m[2]) for p, m in prev[n].items()}
                   for n in rts)
        if same:
            break
        prev = cur
    else:
        UNSTABLE_SNAPSHOTS[0] += 1
    return tree_totals(cur)


def machine_ticks():
    """(busy, total, steal) ticks of all CPUs. Steal (the hypervisor ran someone else while
    this guest had work) counts as busy, as the machine was not ours then; it is also given
    apart, and taken out of `foreign` (loads.measured)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    steal = v[7] if len(v) > 7 else 0
    return sum(v[:8]) - idle, sum(v[:8]), steal


def children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Snapshot:
    """Our trees' ticks, the machine's, and the load generator's CPU at one moment; from
    `trees` (tree_members of one listing of /proc: a rough reading) when given."""
    def __init__(self, rts, trees=None):
        self.t = time.monotonic()
        self.groups = group_ticks(rts) if trees is None else tree_totals(trees)
        self.busy, self.total, self.steal = machine_ticks()
        self.loadgen = children_cpu_s()


def tree_ticks(before, after):
    """name -> each of our trees' ticks between two Snapshots; a tree that went away
    (restarted by someone) counts as zero, not negative."""
    return {k: max(0, after.groups.get(k, 0) - before.groups.get(k, 0)) for k in before.groups}


def foreign_pct(before, after):
    """Of all CPUs' time between two Snapshots, the % that was busy but neither ours, nor the
    load generator's, nor the hypervisor's steal: other processes, kernel threads and
    interrupts (those doing our own network and disk work among them). One formula for a
    run's `foreign_cpu_pct` and the second before the first run (others_busy)."""
    busy = (after.busy - before.busy) - (after.steal - before.steal)
    foreign = busy - sum(tree_ticks(before, after).values()) - (after.loadgen - before.loadgen) * CLK
    return round(max(0.0, foreign) / max(1, after.total - before.total) * 100, 1)


def rss_kb(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


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


def rss_sample(rts):
    for name in SERVICES:
        if name in rts:
            kb = rss_kb(rts[name])
            if kb:
                RSS_MAX[name] = max(RSS_MAX.get(name, 0), kb)


def uptime_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            start = int(f.read().rsplit(")", 1)[1].split()[19]) / CLK
        with open("/proc/uptime") as f:
            return round(float(f.read().split()[0]) - start, 1)
    except OSError:
        return None


def others_busy(rts, seconds=1.0, top=3):
    """What was not ours of the machine over `seconds`: (foreign_pct, as for a run, and
    [(name, pid, %)] of the `top` busiest processes outside our trees, this one and its
    children left out too)."""
    table_before = proc_table()
    before = Snapshot(rts, tree_members(table_before, rts))
    time.sleep(seconds)
    table = proc_table()
    trees = tree_members(table, rts)
    after = Snapshot(rts, trees)
    total = max(1, after.total - before.total)
    ours = {pid for members in trees.values() for pid in members}
    ours |= {os.getpid()} | {p for p, row in table.items() if row[0] == os.getpid()}
    used = sorted(((table[p][1] - table_before[p][1], p) for p in table
                   if p in table_before and p not in ours and table[p][3] == table_before[p][3]), reverse=True)
    busiest = [(process_name(p), p, round(100 * t / total, 1)) for t, p in used[:top] if t > 0]
    return foreign_pct(before, after), busiest


def process_name(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def settle(rts, timeout):
    """Waits until our processes are quiet (asynchronous work of the last run drained)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        a = sum(group_ticks(rts, consistent=False).values())
        time.sleep(0.3)
        b = sum(group_ticks(rts, consistent=False).values())
        if (b - a) / CLK / 0.3 < 0.10:  # under a tenth of a core
            return True
    return False
