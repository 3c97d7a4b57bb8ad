"""The Markdown report: the targets table and one table per scenario."""

from .memory import PARTS
from .state import FOREIGN_WARN_PCT, P, RESULT, SERVICES, STEAL_REDO_PCT


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
            nd = 3 if not unit and isinstance(val, float) else (2 if isinstance(val, float) else 0)
            meas = f"{fmt(val, nd)}{unit}"
            if v.get("worst"):
                meas += f" ({v['worst']})"
            if v.get("rounds") and v["rounds"][0] != v["rounds"][1]:
                meas += f"; rounds {fmt(v['rounds'][0], nd)}–{fmt(v['rounds'][1], nd)}{unit}"
            verd = verdict_text(v)
        lines.append(f"| {v['label']} | {meas} | {verd} |")
    return "\n".join(lines)


def verdict_text(v):
    """met / missed, and by how much in words that read the same for ≥ and ≤ targets."""
    m = v.get("margin_pct")
    if m is None:
        return "met" if v["met"] else "**missed**"
    higher = v.get("higher_is_better", True)
    if v["met"]:
        text = f"met ({abs(m):.1f} % {'above' if higher else 'below'} the target)"
    elif higher:
        text = f"**missed** (short by {abs(m):.1f} %: ×{v['target'] / v['value']:.2f} needed)" if v["value"] else \
            "**missed**"
    else:
        text = f"**missed** (over by {abs(m):.1f} %)"
    if v.get("rounds_straddle"):
        text += "; the rounds fall on both sides of the target"
    if v.get("failures"):
        text += f"; {v['failures']:,} failed requests or orders in its runs, left out of the figures"
    return text


def up_summary(st):
    """The start-up time as the target takes it (the median), with every try and its steal."""
    if st.get("up_s") is None:
        return st.get("up_note", "not measured")
    runs = st.get("up_runs") or []
    if len(runs) < 2:
        return f"{fmt(st['up_s'], 2)} s"
    tries = ", ".join(f"{fmt(r['s'], 2)} s (steal {fmt(r['steal_pct'], 1)} %)" for r in runs)
    return f"{fmt(st['up_s'], 2)} s, the median of {len(runs)} tries: {tries}"


def disturbance_note(steal_limit=STEAL_REDO_PCT, foreign_limit=FOREIGN_WARN_PCT):
    """One line on how much of the machine was not ours during the measured runs: rounds with
    the hypervisor's steal over `steal_limit` %, or other processes' share over `foreign_limit`
    %, are slower in every figure, targets included."""
    runs = measured_runs()
    return steal_note(runs, steal_limit) + foreign_note(runs, foreign_limit)


def measured_runs():
    """[(where, run)] of every measured run of the result so far."""
    return [(f"{name}/{variant} round {r.get('round', '?')}", r)
            for name, scenario in RESULT["scenarios"].items() if isinstance(scenario, dict)
            for variant, rs in (scenario.get("runs") or {}).items() if isinstance(rs, list) for r in rs]


def foreign_note(runs, limit=FOREIGN_WARN_PCT):
    """What other processes took of the machine, when over `limit` % in any run or in the
    second before the first (cli.run); else ""."""
    busy = [(where, r["foreign_cpu_pct"]) for where, r in runs if (r.get("foreign_cpu_pct") or 0) > limit]
    before = RESULT.get("others_busy_before_pct") or 0
    if not busy and before <= limit:
        return ""
    said = []
    if before > limit:
        said.append(f"{before:g} % in the second before the first run")
    if busy:
        where, most = max(busy, key=lambda x: x[1])
        said.append(f"more than {limit:g} % in {len(busy)} of {len(runs)} measured runs (most: {most:g} % in {where}; the "
                    "JSON's `foreign_cpu_pct` per run)")
    return (f" **Disturbed: other processes took {' and '.join(said)}**: every figure of those runs is slower than "
            "the code's, paired ratios included. Find what ran and run again.")


def steal_note(runs, steal_limit):
    stolen = [(where, r["steal_pct"]) for where, r in runs if (r.get("steal_pct") or 0) > steal_limit]
    if not runs or not stolen:
        note = f"Hypervisor steal stayed at or below {steal_limit:g} % in all {len(runs)} measured runs."
    else:
        where, most = max(stolen, key=lambda x: x[1])
        note = (f"Hypervisor steal over {steal_limit:g} % in {len(stolen)} of {len(runs)} measured runs "
                f"(most: {most} % in {where}): their figures are slower than the code's, and medians over "
                "rounds only partly hide it.")
    aside = RESULT.get("stolen_rounds") or []
    if aside:
        note += (f" {len(aside)} round(s) were run again because steal took more than {STEAL_REDO_PCT:g} % of the "
                 "machine in them; the more disturbed try of each is left out of the figures above (the JSON's "
                 "`stolen_rounds`): "
                 + "; ".join(f"{a['comparison']} round {a['round']}: "
                             + ", ".join(f"{n} {fmt(r.get('throughput'))}/s (steal {fmt(r.get('steal_pct'))} %)"
                                         for n, r in a["runs"].items()) for a in aside) + ".")
    return note


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
           "(plus the asynchronous tail until the system is quiet), divided by the successful (2xx) requests (confirmed orders for the saga); `loadgen` is the "
           "load generator itself. `busy %` is the whole machine's; `foreign` CPU (other processes and kernel "
           "threads, not the hypervisor's steal) and the steal (`steal_pct`) are in the JSON. Each comparison "
           "alternates its variants, turning the order every round (A B, B A, …)"
           + ("; the run's first comparison runs each variant once uncounted first (the first runs after a start "
              "are slower)." if P.get("warmup") else ".")
           + (f" {R['unstable_proc_snapshots']} CPU readings were taken while processes kept starting and exiting "
              "(the /proc listings never agreed twice in a row): their runs may miss a little CPU."
              if R.get("unstable_proc_snapshots") else ""),
           "", "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v), "",
           "## Targets", "", summary_table(), "", disturbance_note(), ""]
    lim = [(v["label"], v["limits"]) for v in R["targets"].values() if v.get("limits")]
    if lim:
        out += ["What limits the missed targets (from /proc):", ""]
        for label, ls in lim:
            out.append(f"- {label}:")
            out += [f"  - {x}" for x in ls]
        out.append("")
    if "get_product" in sc:
        g = sc["get_product"]
        spread = g.get("cached_over_products")
        out += [f"## (a) GET /products/{{id}} — closed loop (wrk)", "",
                (f"`gateway`: {spread} products at random, as clients get them (each from the gateway's response "
                 "cache while its copy is fresh). " if spread else "")
                + f"`gateway_proxy`, `direct`, `nginx`: {g['path']} with `Cache-Control: no-cache`, forwarded to the "
                "product service every time.", "", variant_table(g["variants"]), ""]
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
                "scheduled send time; `gateway` asks this one product, answered from the cache)", "",
                variant_table(g["variants"]), ""]
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
        if s.get("tpcb_paired"):
            rounds = ", ".join(f"{r['throughput']:,.0f}" for r in s["runs"]["pgbench_tpcb"])
            out += [f"pgbench TPC-B between the saturation rounds (each after the saga's round of the same "
                    f"number): median {fmt(s['tpcb_paired']['throughput'])} TPS (rounds: {rounds}); saga ÷ TPC-B "
                    f"paired by round, median: {fmt(s.get('ratio_vs_tpcb_paired'), 3)}.", ""]
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
        out += ["## (f) RSS per service (MiB, 2^20 bytes)", "",
                f"Idle: {rss.get('idle_note', '')}", "",
                *([f"Idle after the load: {rss['after_note']}", ""] if rss.get("after_note") else []),
                "| | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
        for k, label in (("idle", "idle"), ("idle_anon", "idle: anonymous (heap, stacks)"),
                         ("idle_file", "idle: file-backed (binary, shared libraries)"),
                         ("idle_pss", "idle PSS (shared pages divided among sharers)"),
                         ("under_load_max", "under load (max sampled)"),
                         ("after_load", "idle after the load"), ("after_anon", "idle after the load: anonymous"),
                         ("after_file", "idle after the load: file-backed"), ("peak_hwm", "peak (VmHWM)")):
            if k in rss:
                out.append(f"| {label} | " + " | ".join(fmt(rss[k].get(n)) for n in names) + " |")
        parts = rss.get("after_anon_parts", {})
        if parts:
            for k, label, note in PARTS:
                out.append(f"| idle after the load, anonymous: {label}{note} | "
                           + " | ".join(fmt(parts.get(n, {}).get(k)) for n in names) + " |")
        out.append("")
    st = R.get("startup", {})
    out += ["## (g) Start-up and build", "",
            f"- `./sales up` from built binaries (after `./sales down`): {up_summary(st)}",
            f"- cold build of {st.get('cold_build_of', 'the tree')} (fresh build dir, no ccache, "
            f"`cmake --build -j{st.get('cold_build_jobs', 2)}`): "
            f"{fmt(st.get('cold_build_s'), 1) + ' s' if st.get('cold_build_s') is not None else st.get('cold_build_note', 'not measured')}"
            + (f"; CPU time {fmt(st['cold_build_cpu_s'], 1)} s, so {fmt(st['cold_build_cpu_s'] / 2, 1)} s on two idle "
               "cores" if st.get("cold_build_cpu_s") else "")
            + (f" (load average before {st['cold_build_loadavg_before']}, after {st['cold_build_loadavg_after']})"
               if st.get("cold_build_loadavg_after") else ""),
            ""]
    if "stock_copy" in sc:
        c = sc["stock_copy"]
        interval = (R["config"]["services"].get("inventory") or {}).get("STOCK_FEED_INTERVAL_MS", "50 (default)")
        out += ["## (h) Stock read copy: inventory → product (DESIGN: \"normally within a second\")", "",
                f"{c['samples']} changes of stock one at a time (POST /inventory/stock/{{id}}/adjust through the "
                "gateway); lag from the adjust's answer to the first direct GET of the product (every 2 ms) "
                f"showing the new level. STOCK_FEED_INTERVAL_MS={interval}.", "",
                "| p50 | p90 | max |", "|---|---|---|",
                "| " + " | ".join(f"{fmt(c['summary_ms'][k])} ms" for k in ("p50", "p90", "max")) + " |", ""]
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
