"""Alternation of the variants compared (A B C, A B C, …), medians over the rounds, and
ratios of runs paired by round.
"""

import statistics

from .state import P, RESULT, STEAL_REDO_PCT, log


def worst_steal(runs_of_round):
    """The most the hypervisor's steal took from any run of a round (percent of the machine)."""
    return max((r.get("steal_pct") or 0 for r in runs_of_round.values()), default=0)


WARMED_UP = [False]  # the run's first comparison has had its warm-up


def alternate(variants, rounds):
    """variants: [(name, fn)]. Runs A B C, C B A, A B C, … (the order turns each round, so no
    variant always follows the same one: a run that leaves work behind, a checkpoint or a
    vacuum, does not always burden the same next one) and returns name -> [run]. In the
    run's first comparison, whichever it is (`--only` picks), each variant runs once first,
    not counted, when the profile has a warm-up (the first runs after a start are slower:
    pools and caches fill). Then, up to
    P["steal_redos"] times, the round in which a run lost the most to the hypervisor's steal,
    if over STEAL_REDO_PCT %, is run again whole (its runs stay adjacent, so pairs stay
    pairs); the less disturbed of the two is kept, the other goes to RESULT["stolen_rounds"]."""
    errors = {}

    def one_round(number, again=False):
        this = {}
        for name, fn in (variants if number % 2 else variants[::-1]):
            if name in errors:
                continue
            try:
                res = fn()
            except Exception as e:  # noqa: BLE001 - one variant failing must not stop the others
                errors[name] = str(e)
                log(f"round {number}/{rounds} {name}: FAILED: {e}")
                continue
            res["round"] = number  # pairs the runs of one round (paired_ratio)
            this[name] = res
            lat = res.get("latency_ms") or {}
            p50, p99 = lat.get("p50"), lat.get("p99")
            log(f"round {number}/{rounds}{' (again)' if again else ''} {name:<16} {res['throughput']:>10.1f}/s"
                + (f"  p50 {p50:.2f} ms  p99 {p99:.2f} ms" if p50 is not None and p99 is not None else "")
                + f"  non-2xx {res['non2xx']}  busy {res['machine_busy_pct']}% (foreign {res['foreign_cpu_pct']}%"
                + f", steal {res.get('steal_pct')}%)")
        return this

    if P.get("warmup") and not WARMED_UP[0]:
        WARMED_UP[0] = True
        for name, fn in variants:
            try:
                fn()
                log(f"warm-up {name}: done (not counted)")
            except Exception as e:  # noqa: BLE001 - the counted rounds report a variant that fails
                log(f"warm-up {name}: failed: {e}")
    kept = [one_round(i + 1) for i in range(rounds)]
    for _ in range(P.get("steal_redos", 0)):
        if not kept:
            break
        steal = [worst_steal(this) for this in kept]
        i = max(range(len(kept)), key=steal.__getitem__)
        if steal[i] <= STEAL_REDO_PCT:
            break
        log(f"round {i + 1}/{rounds} is run again: steal took {steal[i]} % of the machine in it "
            f"(over {STEAL_REDO_PCT:g} %)")
        again = one_round(i + 1, again=True)
        if again and worst_steal(again) < steal[i]:
            aside, kept[i] = kept[i], again
        else:
            aside = again
        if aside:  # a second try in which every variant failed has nothing to set aside
            RESULT["stolen_rounds"].append({"comparison": "+".join(name for name, _ in variants), "round": i + 1,
                                            "runs": aside})
    runs = {name: [] for name, _ in variants}
    for this in kept:
        for name, res in this.items():
            runs[name].append(res)
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
    for extra in ("target_rate", "sent_late", "rejected", "other_status", "timed_out", "posted", "cache_hit_pct"):
        if extra in runs[0]:
            s[extra] = med([r.get(extra) for r in runs]) if extra in ("target_rate", "cache_hit_pct") \
                else sum(r[extra] for r in runs)
    return s


def paired_ratios(a_runs, b_runs, key, key_b=None):
    """a/b of each round, pairing the runs of the same round (alternation)."""
    key_b = key_b or key
    by_round = {r["round"]: r for r in b_runs}
    ratios = []
    for r in a_runs:
        b = by_round.get(r["round"])
        av, bv = key(r), key_b(b) if b else None
        if av is not None and bv:
            ratios.append(av / bv)
    return ratios


def paired_ratio(a_runs, b_runs, key, key_b=None):
    """Median over rounds of a/b (unrounded: verdicts compare it; reports round it)."""
    ratios = paired_ratios(a_runs, b_runs, key, key_b)
    return statistics.median(ratios) if ratios else None


def record_paired(into, name, a_runs, b_runs, key, key_b=None):
    """Stores the median over rounds of a/b as into[name], and the lowest and highest a/b of
    the rounds (how far they disagree) as into[name + "_rounds"]."""
    ratios = paired_ratios(a_runs, b_runs, key, key_b)
    into[name] = statistics.median(ratios) if ratios else None
    into[name + "_rounds"] = [min(ratios), max(ratios)] if ratios else None
