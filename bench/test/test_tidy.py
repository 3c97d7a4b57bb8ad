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
    """Unpaid orders per customer and status; a cancel answers the next of `answers[id]` (200
    when none is left) and, on 200 or 409, takes the order off its list, as the order service
    does. More than 50 lists means the step does not stop: the test fails instead of hanging."""

    def __init__(self, unpaid, answers=None):
        self.unpaid = {c: {st: list(ids) for st, ids in lists.items()} for c, lists in unpaid.items()}
        self.answers = {i: list(a) for i, a in (answers or {}).items()}
        self.pages = []
        self.pauses = []
        self.lock = threading.Lock()

    def list_page(self, customer, status):
        with self.lock:
            self.pages.append((customer, status))
            if len(self.pages) > 50:
                raise AssertionError("the step keeps listing")
            return self.unpaid.get(customer, {}).get(status, [])[:tidy.PAGE]

    def cancel(self, order_id):
        with self.lock:
            pending = self.answers.get(order_id)
            answer = pending.pop(0) if pending else 200
            if answer in (200, 409):  # 409: it left the list by itself meanwhile
                for lists in self.unpaid.values():
                    for ids in lists.values():
                        if order_id in ids:
                            ids.remove(order_id)
            return answer

    def run(self, customers):
        return tidy.cancel_unpaid(customers, self.list_page, self.cancel, pause=self.pauses.append)


class CancelUnpaid(unittest.TestCase):
    def test_every_pending_and_confirmed_order_of_every_customer_is_cancelled_page_by_page(self):
        orders = FakeOrders({"c1": {"CONFIRMED": range(1, 1201), "PENDING": [9001]}, "c2": {"CONFIRMED": [5000]}})
        self.assertEqual(orders.run(["c1", "c2"]), (1202, 0))
        self.assertEqual(orders.unpaid, {"c1": {"CONFIRMED": [], "PENDING": []}, "c2": {"CONFIRMED": []}})
        self.assertEqual(orders.pages, [("c1", "PENDING")] * 2 + [("c1", "CONFIRMED")] * 4  # 500, 500, 200, none
                         + [("c2", "PENDING")] + [("c2", "CONFIRMED")] * 2)
        self.assertEqual(orders.pauses, [])

    def test_a_conflict_is_not_a_failure_and_other_answers_are_counted(self):
        orders = FakeOrders({"c": {"CONFIRMED": [1, 2, 3, 4]}}, answers={2: [409], 3: [503] * 9})
        self.assertEqual(orders.run(["c"]), (2, 1))
        self.assertEqual(orders.unpaid["c"]["CONFIRMED"], [3], "the order whose cancel failed is still there")

    def test_a_page_where_nothing_can_be_cancelled_is_tried_again_after_a_pause_then_left(self):
        orders = FakeOrders({"c": {"CONFIRMED": [7, 8]}}, answers={7: [500] * 9, 8: [0] * 9})
        self.assertEqual(orders.run(["c"]), (0, 2))
        self.assertEqual(orders.pauses, [1, 2])
        self.assertEqual(orders.pages.count(("c", "CONFIRMED")), 1 + tidy.STALLS)

    def test_a_service_that_recovers_gets_every_order_cancelled(self):
        orders = FakeOrders({"c": {"CONFIRMED": [7, 8]}}, answers={7: [503], 8: [503, 503]})
        self.assertEqual(orders.run(["c"]), (2, 0))
        self.assertEqual(orders.pauses, [1])  # the first page failed whole; the second cancelled 7

    def test_no_customers_lists_nothing(self):
        orders = FakeOrders({})
        self.assertEqual(orders.run([]), (0, 0))
        self.assertEqual(orders.pages, [])


if __name__ == "__main__":
    unittest.main()
