"""After the report: cancel the orders the saga scenario left unpaid (CONFIRMED, or PENDING).

The saga's load places tens of thousands of orders and pays none. Left alone, the order
service cancels them ORDER_PAYMENT_TIMEOUT_MS (an hour) later, about a thousand every sweep,
and the releases of their stock then run in the middle of whatever runs at that hour: a
second bench (CPU that is not its own) or ./sales test (whose invariant checker sees the
releases in flight and fails). Cancelling them now, through the API as a shop would, ends
the run with the system as calm as it began. It runs after every figure is taken, so it
measures nothing and changes none.
"""

import concurrent.futures
import json
import time
import urllib.parse

from .api import http
from .proc import roots, settle
from .state import log, service_url, step

PAGE = 500        # the contract's largest page
WORKERS = 8       # concurrent cancels: the order service's HTTP threads
STALLS = 2        # pages where nothing could be cancelled, tried again after a pause, before giving up
DRAIN_S = 120     # how long the cancels' stock releases may take to run before the run ends
UNPAID = ("PENDING", "CONFIRMED")  # PENDING first: one still in flight may turn CONFIRMED meanwhile


def cancel_unpaid(customers, list_page, cancel, workers=WORKERS, pause=time.sleep):
    """Cancels every PENDING or CONFIRMED order of `customers`. `list_page(customer, status)`
    returns the ids of up to PAGE of its orders in `status` (always the first page: cancelled
    ones leave the list); `cancel(order_id)` returns the HTTP status. Returns (cancelled,
    orders whose cancel failed): a 409 (the order moved on meanwhile, e.g. its payment timed
    out) counts as neither. A page where nothing could be cancelled (the service busy or
    failing) is tried again after a pause, STALLS times, then that list is left."""
    cancelled = 0
    failed = set()  # orders whose last cancel failed (one that fails stays at the list's head)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for customer in customers:
            for status in UNPAID:
                stalls = 0
                while ids := list_page(customer, status):
                    progressed = False
                    for order_id, answer in zip(ids, pool.map(cancel, ids)):
                        if answer == 200:
                            cancelled += 1
                        if answer in (200, 409):
                            failed.discard(order_id)
                            progressed = True
                        else:
                            failed.add(order_id)
                    if progressed:
                        stalls = 0
                        continue
                    stalls += 1
                    if stalls > STALLS:
                        break
                    pause(stalls)
    return cancelled, len(failed)


def unpaid_page(customer, status):
    query = urllib.parse.urlencode({"customer_id": customer, "status": status, "limit": PAGE})
    st, body = http("GET", f"{service_url('order')}/orders?{query}", timeout=30)
    if st != 200:
        raise RuntimeError(f"GET /orders?{query} → {st} {json.dumps(body)[:200]}")
    return [o["id"] for o in body["items"]]


def cancel_order(order_id):
    st, _ = http("POST", f"{service_url('order')}/orders/{order_id}/cancel", timeout=30)
    return st


def tidy(customers):
    """The step in a run (cli.main), also after an interrupt: logs what it did and returns it
    for the JSON result (None when the saga placed no orders); a failure is reported, not
    fatal. An interrupt (KeyboardInterrupt) stops it and goes through: cli.main says what then."""
    if not customers:
        return None
    step("tidy: cancelling the orders the saga left unpaid (they would all expire an hour from now)")
    try:
        cancelled, failed = cancel_unpaid(customers, unpaid_page, cancel_order)
        quiet = settle(roots(), DRAIN_S)  # their releases run before the next thing does
        log(f"{cancelled} orders cancelled" + (f"; {failed} cancels failed" if failed else "")
            + ("" if quiet else f"; the system was still busy {DRAIN_S} s later"))
        return {"cancelled": cancelled, "cancels_failed": failed, "drained": bool(quiet)}
    except Exception as e:  # noqa: BLE001 - the report is written; say what is left
        log(f"tidy stopped: {e} (the rest expire after ORDER_PAYMENT_TIMEOUT_MS)")
        return {"stopped": str(e)}
    except KeyboardInterrupt:
        log("tidy interrupted")
        raise
