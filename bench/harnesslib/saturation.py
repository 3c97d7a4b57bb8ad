"""The order saga's saturation search: the closed-loop worker count that gives the most
orders/s.
"""

from .loads import saga_run
from .state import P, SAGA_WORKER_STEPS, log, step


def saga_saturating_workers(customer, products):
    """The worker count with the most orders/s: a closed loop with too few workers
    waits on its own round trips and leaves the machine partly idle, which would understate
    what the system sustains. Returns (workers, [{workers, orders_per_s, p50_ms, busy_pct}])."""
    steps = SAGA_WORKER_STEPS if P["saga_probe"] > 0 else SAGA_WORKER_STEPS[:1]
    if len(steps) == 1:
        return steps[0], []
    step(f"(d) order saga: looking for saturation, {P['saga_probe']} s closed loop with "
         f"{', '.join(map(str, steps))} workers (after a warm-up)")
    try:  # caches, connections and batches warm, so the first probe is not the coldest
        saga_run("closed", customer, products, steps[0], duration=max(1, P["saga_probe"] / 2))
    except Exception as e:  # noqa: BLE001 - the probes below report the failure
        log(f"warm-up: FAILED: {e}")
    # A 2-4 s probe on a shared machine can fall 10-20 % below the one before by noise
    # alone; stopping at the first probe without growth then took 16 workers where 64
    # sustained 40 % more. So the search ends after two probes in a row without growth.
    probes, best, misses = [], None, 0
    for w in steps:
        try:
            r = saga_run("closed", customer, products, w, duration=P["saga_probe"])
        except Exception as e:  # noqa: BLE001 - keep the best count found so far
            probes.append({"workers": w, "failed": str(e)[:200]})
            log(f"probe {w:>4} workers: FAILED: {e}")
            break
        failures = r["errors"] + r["non2xx"]  # errors include rejected and otherwise-ended orders
        probes.append({"workers": w, "orders_per_s": r["throughput"], "p50_ms": r["latency_ms"].get("p50"),
                       "busy_pct": r["machine_busy_pct"], "failures": failures})
        log(f"probe {w:>4} workers {r['throughput']:>10.1f} orders/s  busy {r['machine_busy_pct']}%"
            + (f"  {failures} orders failed, timed out or were rejected: not taken" if failures else ""))
        if failures:  # a count at which orders fail is past what the system sustains
            break
        grew = best is None or r["throughput"] >= best["orders_per_s"] * 1.05
        if best is None or r["throughput"] > best["orders_per_s"]:
            best = probes[-1]
        misses = 0 if grew else misses + 1
        if misses == 2:
            break
    return (best or {"workers": steps[0]})["workers"], probes
