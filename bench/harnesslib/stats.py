"""Alternation of the variants compared (A B C, A B C, …), medians over the rounds, and
ratios of runs paired by round.
"""

import statistics

from .state import P, RESULT, STEAL_REDO_PCT, log


def alternate(variants, rounds):
    """variants: [(name, fn)]. Runs A B C, A B C, … and returns name -> [run]. A round in
    which a run lost more than STEAL_REDO_PCT % of the machine to the hypervisor's steal is
    set aside (RESULT["stolen_rounds"]) and run again, at most P["steal_redos"] times."""
    runs = {name: [] for name, _ in variants}
    errors = {}
    redos = P.get("steal_redos", 0)
    kept = 0
    again = False  # this round replaces one set aside
    while kept < rounds:
        this = {}
        for name, fn in variants:
            if name in errors:
                continue
            try:
                res = fn()
                res["round"] = kept + 1  # pairs the runs of one round (paired_ratio)
                this[name] = res
                lat = res.get("latency_ms", {})
                p99 = lat.get("p99")
                log(f"round {kept + 1}/{rounds}{' (again)' if again else ''} {name:<16} "
                    f"{res['throughput']:>10.1f}/s"
                    + (f"  p50 {lat.get('p50'):.2f} ms  p99 {p99:.2f} ms" if p99 is not None else "")
                    + f"  non-2xx {res['non2xx']}  busy {res['machine_busy_pct']}% (foreign {res['foreign_cpu_pct']}%"
                    + f", steal {res['steal_pct']}%)")
            except Exception as e:  # noqa: BLE001 - one variant failing must not stop the others
                errors[name] = str(e)
                log(f"round {kept + 1}/{rounds} {name}: FAILED: {e}")
        stolen = {name: res["steal_pct"] for name, res in this.items() if (res.get("steal_pct") or 0) > STEAL_REDO_PCT}
        if stolen and redos > 0:
            redos -= 1
            RESULT["stolen_rounds"].append({"variants": list(this), "steal_pct": stolen, "runs": this})
            log(f"set aside, run again: steal over {STEAL_REDO_PCT:g} % in "
                + ", ".join(f"{n} ({v} %)" for n, v in stolen.items()))
            again = True
            continue
        again = False
        for name, res in this.items():
            runs[name].append(res)
        kept += 1
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
         "foreign_cpu_pct": med([r["foreign_cpu_pct"] for r in runs]),
         "steal_pct": med([r.get("steal_pct") for r in runs])}
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
