"""The targets (README's "Performance" table): verdicts, and what limits a missed one."""

from .report import fmt
from .state import NCPU, RESULT


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
    steal = f", the hypervisor's steal {summary['steal_pct']}%" if summary.get("steal_pct") is not None else ""
    s += f"; machine {summary['machine_busy_pct']}% busy (foreign load {summary['foreign_cpu_pct']}%{steal})"
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
    saga_sc = sc.get("saga", {})
    saga = saga_sc.get("variants", {})
    pgv = sc.get("pgbench", {}).get("variants", {})
    tpcb = (pgv.get("pgbench_tpcb") or {}).get("throughput")
    sat = (saga.get("saturation") or {}).get("throughput")
    unpaired = round(sat / tpcb, 3) if sat is not None and tpcb else None
    paired = saga_sc.get("ratio_vs_tpcb_paired")
    t["saga_vs_tpcb"] = dict(verdict(paired if paired is not None else unpaired, 0.25),
                             label="saga orders/s ≥ 25 % of pgbench TPC-B TPS" + (
                                 f" (paired rounds; against (e)'s TPC-B {fmt(unpaired, 3)})"
                                 if paired is not None else ""))
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
                         limits_text(saga_sc.get("tpcb_paired") or pgv.get("pgbench_tpcb"),
                                     "pgbench TPC-B")],
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
