"""HTTP set-up calls (standard library only, to 127.0.0.1 only): products and customers
that the scenarios need.
"""

import json
import time
import urllib.error
import urllib.request

from .state import GATEWAY, service_url


def http(method, url, body=None, timeout=10):
    assert url.startswith("http://127.0.0.1:"), url
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)


def create_product(name, stock=100, price=9.99):
    st, b = http("POST", f"{GATEWAY}/products", {"name": name, "price": price, "description": "bench", "stock": stock})
    if st != 201:
        raise RuntimeError(f"POST /products → {st} {b}")
    return b["id"]


def create_customer(name, email):
    st, b = http("POST", f"{GATEWAY}/customers",
                 {"name": name, "address": "1 Bench Street, Springfield", "contact": "+1 555 0100", "email": email})
    if st != 201:
        raise RuntimeError(f"POST /customers → {st} {b}")
    return b["id"]


def wait_inventory_knows(product, deadline):
    """The inventory learns a product from its product.created event: its stock row, once it
    exists (before `deadline`, a time.monotonic() value)."""
    while True:
        st, b = http("GET", f"{service_url('inventory')}/inventory/stock/{product}")
        if st == 200:
            return b
        if time.monotonic() > deadline:
            raise RuntimeError(f"inventory does not know product {product} (GET → {st})")
        time.sleep(0.05)


def gateway_cache_lookups():
    """(hits, misses) of the gateway's response cache so far, from its /metrics; None when
    unreadable (the counters are per process: a difference across a run is that run's)."""
    try:
        with urllib.request.urlopen(f"{GATEWAY}/metrics", timeout=10) as r:
            text = r.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return None
    counts = {"hit": 0.0, "miss": 0.0}
    for line in text.splitlines():
        if line.startswith("gateway_cache_lookups_total{"):
            for result in counts:
                if f'result="{result}"' in line:
                    counts[result] += float(line.rsplit(" ", 1)[1])
    return counts["hit"], counts["miss"]
