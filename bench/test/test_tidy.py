"""Unit tests of the run's last step (harnesslib.tidy): cancelling the orders the saga left
unpaid. No system needed: the order service is a fake."""

import os
import sys
import threading
import unittest

# harnesslib.state reads its settings at import; these make it importable anywhere.
for key in ("BENCH_ROOT", "BENCH_STATE_DIR", "BENCH_BIN_DIR", "BENCH_OUT_DIR"):
    os.environ.setdefault(key, "/nonexistent")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from harnesslib import tidy  # noqa: E402


class FakeOrders:
    """CONFIRMED orders per customer; a cancel answers `answers.get(id, 200)` and, on 200,
    takes the order off the list, as the order service does."""

    def __init__(self, confirmed, answers=None):
        self.confirmed = {c: list(ids) for c, ids in confirmed.items()}
        self.answers = answers or {}
        self.pages = 0
        self.lock = threading.Lock()

    def list_page(self, customer):
        with self.lock:
            self.pages += 1
            return self.confirmed.get(customer, [])[:tidy.PAGE]

    def cancel(self, order_id):
        status = self.answers.get(order_id, 200)
        if status in (200, 409):  # 409: it left CONFIRMED by itself meanwhile
            with self.lock:
                for ids in self.confirmed.values():
                    if order_id in ids:
                        ids.remove(order_id)
        return status


class CancelUnpaid(unittest.TestCase):
    def test_every_confirmed_order_of_every_customer_is_cancelled_page_by_page(self):
        orders = FakeOrders({"c1": range(1, 1201), "c2": range(5000, 5003)})
        self.assertEqual(tidy.cancel_unpaid(["c1", "c2"], orders.list_page, orders.cancel), (1203, 0))
        self.assertEqual(orders.confirmed, {"c1": [], "c2": []})
        self.assertEqual(orders.pages, 3 + 1 + 1 + 1)  # c1: 500, 500, 200, then empty; c2: 3, then empty

    def test_a_conflict_is_not_a_failure_and_other_answers_are_counted(self):
        orders = FakeOrders({"c": [1, 2, 3, 4]}, answers={2: 409, 3: 503})
        cancelled, failed = tidy.cancel_unpaid(["c"], orders.list_page, orders.cancel)
        self.assertEqual((cancelled, failed), (2, 1))
        self.assertEqual(orders.confirmed["c"], [3], "the order whose cancel failed is still there")

    def test_a_page_where_nothing_can_be_cancelled_ends_the_step_instead_of_looping(self):
        orders = FakeOrders({"c": [7, 8]}, answers={7: 500, 8: 0})
        self.assertEqual(tidy.cancel_unpaid(["c"], orders.list_page, orders.cancel), (0, 2))
        self.assertEqual(orders.pages, 1)

    def test_no_customers_lists_nothing(self):
        orders = FakeOrders({})
        self.assertEqual(tidy.cancel_unpaid([], orders.list_page, orders.cancel), (0, 0))
        self.assertEqual(orders.pages, 0)


if __name__ == "__main__":
    unittest.main()
