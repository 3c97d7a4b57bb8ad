"""The targets (README's "Performance" table): verdicts, and what limits a missed one."""

from .memory import PARTS
from .report import fmt
from .state import NCPU, RESULT


def verdict(value, target, higher_is_better=True, rounds=None):
    """Met or missed, on the unrounded value; margin_pct is how far the value lies from the
    target (positive: above it). `rounds`: the lowest and highest per-round value, when the
    value is a median over paired rounds; a range that straddles the target is reported as
    such (the rounds disagree about the verdict)."""
    if value is None:
        return {"value": None, "target": target, "met": None}
    met = value >= target if higher_is_better else value <= target
    margin = (value / target - 1) * 100 if target else None
    v = {"value": value, "target": target, "met": met, "higher_is_better": higher_is_better,
         "margin_pct": round(margin, 1) if margin is not None else None}
    if rounds:
        v["rounds"] = rounds
        v["rounds_straddle"] = rounds[0] < target < rounds[1]
    return v


def larger_of(a, b):
    """Per service, the larger of two tables' figures (either may lack a service)."""
    return {n: max(v for v in (a.get(n), b.get(n)) if v is not None) for n in set(a) | set(b)}


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
    steal = f", the hypervisor's steal {fmt(summary['steal_pct'])}%" if summary.get("steal_pct") is not None else ""
    s += (f"; machine {fmt(summary['machine_busy_pct'])}% busy (foreign load {fmt(summary['foreign_cpu_pct'])}%"
          f"{steal})")
    return s


def anon_parts_text(parts):
    """The parenthesis after an anonymous figure, from memory.anon_parts_mb's figures:
    " (malloc heap and arenas 2.9, 16 thread stacks 0.5, ...)"; empty without them."""
    if not parts:
        return ""
    named = [(f"{parts['threads']} {label}" if key == "stacks" and parts.get("threads") else label, parts[key])
             for key, label, _ in PARTS]
    return " (" + ", ".join(f"{label} {mb}" for label, mb in named) + ")"


def targets():
    sc = RESULT["scenarios"]
    t = {}
    g = sc.get("get_product", {})
    gv = g.get("variants", {})
    t["gateway_throughput_vs_nginx"] = dict(verdict(g.get("ratio_gateway_vs_nginx_throughput"), 1.0,
                                                    rounds=g.get("ratio_gateway_vs_nginx_throughput_rounds")),
                                            label="GET via gateway ≥ 1.0× nginx (req/s, paired rounds; "
                                                  "both proxying, no cache)")
    ratio_cpu = g.get("ratio_gateway_vs_nginx_cpu")
    t["gateway_cpu_vs_nginx"] = dict(verdict(ratio_cpu, 1.0, higher_is_better=False,
                                             rounds=g.get("ratio_gateway_vs_nginx_cpu_rounds")),
                                     label="gateway CPU per proxied request ≤ nginx's (ratio)")
    spread = g.get("cached_over_products")
    hit = (gv.get("gateway") or {}).get("cache_hit_pct")
    t["gateway_vs_pgbench_select"] = dict(verdict(g.get("ratio_gateway_vs_pgbench_select"), 0.5,
                                                  rounds=g.get("ratio_gateway_vs_pgbench_select_rounds")),
                                          label="GET via gateway ≥ 50 % of pgbench select-only TPS, with the "
                                                "gateway's response cache (as clients get it: "
                                                + (f"{spread} products at random" if spread else "one product")
                                                + ", each from the cache while fresh"
                                                + (f", {fmt(hit, 1)} % of requests answered by it" if hit is not None
                                                   else "")
                                                + ")")
    # The same target without the cache, judged too: the cached figure says what clients get,
    # this one what the gateway, the service and PostgreSQL do for a request they all see.
    t["gateway_proxy_vs_pgbench_select"] = dict(
        verdict(g.get("ratio_gateway_proxy_vs_pgbench_select"), 0.5,
                rounds=g.get("ratio_gateway_proxy_vs_pgbench_select_rounds")),
        label="GET via gateway ≥ 50 % of pgbench select-only TPS, proxied every time (one product, "
              "Cache-Control: no-cache)")
    saga_sc = sc.get("saga", {})
    saga = saga_sc.get("variants", {})
    pgv = sc.get("pgbench", {}).get("variants", {})
    tpcb = (pgv.get("pgbench_tpcb") or {}).get("throughput")
    sat = (saga.get("saturation") or {}).get("throughput")
    unpaired = sat / tpcb if sat is not None and tpcb else None
    paired = saga_sc.get("ratio_vs_tpcb_paired")
    t["saga_vs_tpcb"] = dict(verdict(paired if paired is not None else unpaired, 0.25,
                                     rounds=saga_sc.get("ratio_vs_tpcb_paired_rounds") if paired is not None else None),
                             label="saga orders/s ≥ 25 % of pgbench TPC-B TPS" + (
                                 f" (paired rounds; against (e)'s TPC-B {fmt(unpaired, 3)})"
                                 if paired is not None else ""))
    half = saga.get("half_rate") or {}
    half_runs = [r["latency_ms"].get("p99") for r in (saga_sc.get("runs") or {}).get("half_rate") or []
                 if r.get("latency_ms", {}).get("p99") is not None]
    t["saga_p99"] = dict(verdict((half.get("latency_ms") or {}).get("p99"), 50, higher_is_better=False,
                                 rounds=[min(half_runs), max(half_runs)] if half_runs else None),
                         label="p99 POST→CONFIRMED ≤ 50 ms at half the saturation rate (median of the rounds' p99s)")
    rss = RESULT.get("rss_mb", {})
    # Idle is judged twice: freshly started, and idle again after the run's load (pools,
    # connections and caches grown by load stay): the worse of the two counts.
    idle = larger_of(rss.get("idle", {}), rss.get("after_load", {}))
    # Under load: the most each process held at any time (VmHWM, the services started with the
    # run's system), or the most sampled, if more.
    load = larger_of(rss.get("under_load_max", {}), rss.get("peak_hwm", {}))
    # The tables are in MiB (2^20 bytes); the targets are judged in MB of 10^6 bytes, the
    # stricter reading of "12 MB".
    def mb(mib):
        return round(mib * 1.048576, 2)

    t["rss_idle"] = dict(verdict(mb(max(idle.values())) if idle else None, 12, higher_is_better=False),
                         label="every service ≤ 12 MB RSS idle (MB of 10^6 bytes, the tables' MiB × 1.048576; "
                               "largest shown; the worse of freshly started and idle after the run's load)",
                         worst=max(idle, key=idle.get) if idle else None)
    t["rss_load"] = dict(verdict(mb(max(load.values())) if load else None, 64, higher_is_better=False),
                         label="every service ≤ 64 MB RSS under load (MB of 10^6 bytes; largest shown; peak "
                               "VmHWM or sampled)",
                         worst=max(load, key=load.get) if load else None)
    st = RESULT.get("startup", {})
    t["up"] = dict(verdict(st.get("up_s"), 10, higher_is_better=False), label="./sales up from built binaries ≤ 10 s")
    t["cold_build"] = dict(verdict(st.get("cold_build_s"), 300, higher_is_better=False),
                           label="cold build ≤ 5 min on 2 cores (wall time in this run)")
    if st.get("cold_build_cpu_s"):
        t["cold_build_idle"] = dict(verdict(round(st["cold_build_cpu_s"] / 2, 1), 300, higher_is_better=False),
                                    label="cold build ≤ 5 min on 2 idle cores (CPU time ÷ 2: a lower bound, "
                                          "as configuring and linking run on one core)")
    # The summaries each ratio or latency target compares, with their names: what limits a
    # missed one (CPU per request of each side), and the failures in their runs.
    compared = {
        "gateway_throughput_vs_nginx": [(gv.get("gateway_proxy"), "gateway"), (gv.get("nginx"), "nginx")],
        "gateway_cpu_vs_nginx": [(gv.get("gateway_proxy"), "gateway"), (gv.get("nginx"), "nginx")],
        "gateway_vs_pgbench_select": [(gv.get("gateway"), "GET via gateway"),
                                      (pgv.get("pgbench_select"), "pgbench -S")],
        "gateway_proxy_vs_pgbench_select": [(gv.get("gateway_proxy"), "GET via gateway, proxied every time"),
                                            (pgv.get("pgbench_select"), "pgbench -S")],
        "saga_vs_tpcb": [(saga.get("saturation"), "saga (per confirmed order)"),
                         (saga_sc.get("tpcb_paired") or pgv.get("pgbench_tpcb"), "pgbench TPC-B")],
        "saga_p99": [(half, "saga at half rate")],
    }
    why = {k: [limits_text(summary, label) for summary, label in sides] for k, sides in compared.items()}
    if idle:
        w = max(idle, key=idle.get)
        fresh = rss.get("idle", {})
        why["rss_idle"] = [f"{w} freshly started: {fresh.get(w)} MiB = anonymous (heap, thread stacks) "
                           f"{rss.get('idle_anon', {}).get(w)} MiB{anon_parts_text(rss.get('idle_anon_parts', {}).get(w))}"
                           f" + file-backed (its binary and shared libraries, "
                           f"counted in full by every process that maps them) {rss.get('idle_file', {}).get(w)} MiB; "
                           f"PSS {rss.get('idle_pss', {}).get(w)} MiB",
                           f"{w} idle after the load: {rss.get('after_load', {}).get(w)} MiB = anonymous "
                           f"{rss.get('after_anon', {}).get(w)} MiB{anon_parts_text(rss.get('after_anon_parts', {}).get(w))}"
                           f" + file-backed {rss.get('after_file', {}).get(w)} MiB",
                           "idle RSS of each service, freshly started / after the load: "
                           + ", ".join(f"{n} {fresh.get(n)} / {rss.get('after_load', {}).get(n)}" for n in sorted(idle))]
    for k, v in t.items():
        if v.get("met") is False and k in why:
            v["limits"] = [x for x in why[k] if x]
    # A verdict whose runs had failures (non-2xx, errors, orders that did not confirm) is
    # flagged: the figures it compares leave those requests out.
    for k, sides in compared.items():
        failed = sum((x or {}).get("non2xx", 0) + (x or {}).get("errors", 0) for x, _ in sides)
        if failed and k in t:
            t[k]["failures"] = failed
    RESULT["targets"] = t
