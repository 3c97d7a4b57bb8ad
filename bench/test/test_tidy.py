"""Unit tests of the run's last step (harnesslib.tidy): cancelling the orders the saga left
unpaid. No system needed: the order service is a fake."""

import json
import os
import signal
import sys
import tempfile
import threading
import unittest
from unittest import mock

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


class TheStep(unittest.TestCase):
    def test_what_it_did_is_returned_for_the_json_result(self):
        orders = FakeOrders({"c": {"CONFIRMED": [1, 2, 3]}}, answers={3: [503] * 9})
        self.enterContext(mock.patch.multiple(
            tidy, unpaid_page=orders.list_page, cancel_order=orders.cancel, settle=lambda roots, limit: False,
            roots=dict, step=lambda msg: None, log=lambda msg: None,
            STALLS=0))  # order 3's page is left at once, without a pause
        self.assertEqual(tidy.tidy(["c"]), {"cancelled": 2, "cancels_failed": 1, "drained": False})
        self.assertIsNone(tidy.tidy([]), "no saga, nothing to record")

    def test_a_failure_is_recorded_not_raised(self):
        def broken(customer, status):
            raise RuntimeError("GET /orders → 503")
        self.enterContext(mock.patch.multiple(tidy, unpaid_page=broken, step=lambda msg: None, log=lambda msg: None))
        self.assertEqual(tidy.tidy(["c"]), {"stopped": "GET /orders → 503"})


class AnInterruptedRun(unittest.TestCase):
    def setUp(self):
        from harnesslib import cli, state
        self.cli, self.state = cli, state
        self.tidied = []
        self.addCleanup(self.state.SAGA_CUSTOMERS.clear)
        self.addCleanup(signal.signal, signal.SIGTERM, signal.getsignal(signal.SIGTERM))
        self.addCleanup(signal.signal, signal.SIGINT, signal.getsignal(signal.SIGINT))
        signal.signal(signal.SIGTERM, self.term_not_handled)  # main() must install its own
        self.enterContext(mock.patch.multiple(cli, tidy=self.tidied.append, log=lambda msg: None, INTERRUPTS=[0]))
        self.enterContext(mock.patch.dict(os.environ))
        os.environ.pop("BENCH_PARENT_PID", None)

    @staticmethod
    def term_not_handled(signum, frame):
        raise AssertionError("main() left SIGTERM to kill the run")

    def interrupt_with(self, exc):
        def run():
            self.state.SAGA_CUSTOMERS.append("c1")
            raise exc
        self.enterContext(mock.patch.multiple(self.cli, run=run))

    def test_still_cancels_the_orders_of_its_saga_then_exits_130(self):
        self.interrupt_with(KeyboardInterrupt())
        self.assertEqual(self.cli.main(), 130)
        self.assertEqual(self.tidied, [["c1"]])

    def test_a_term_is_an_interrupt_too(self):
        def run():
            self.state.SAGA_CUSTOMERS.append("c1")
            os.kill(os.getpid(), signal.SIGTERM)
            raise AssertionError("the TERM did not interrupt the run")
        self.enterContext(mock.patch.multiple(self.cli, run=run))
        self.assertEqual(self.cli.main(), 130)
        self.assertEqual(self.tidied, [["c1"]])

    def test_an_interrupt_during_the_tidy_ends_the_run_without_starting_it_again(self):
        def tidy_interrupted(customers):
            self.tidied.append(customers)
            raise KeyboardInterrupt()
        self.interrupt_with(KeyboardInterrupt())
        self.enterContext(mock.patch.multiple(self.cli, tidy=tidy_interrupted))
        self.assertEqual(self.cli.main(), 130)
        self.assertEqual(self.tidied, [["c1"]])

    def test_a_second_interrupt_before_the_tidy_leaves_the_orders(self):
        def run():  # the second came while the first ended the running load (loads.end_group)
            self.state.SAGA_CUSTOMERS.append("c1")
            try:
                os.kill(os.getpid(), signal.SIGINT)
                raise AssertionError("the INT did not interrupt the run")
            finally:
                os.kill(os.getpid(), signal.SIGTERM)
        self.enterContext(mock.patch.multiple(self.cli, run=run))
        self.assertEqual(self.cli.main(), 130)
        self.assertEqual(self.tidied, [])

    def test_the_death_of_its_parent_is_an_interrupt(self):
        prctl = mock.Mock(return_value=0)
        self.enterContext(mock.patch.object(self.cli.ctypes, "CDLL", return_value=mock.Mock(prctl=prctl)))
        self.interrupt_with(AssertionError("ran on after its parent died"))
        os.environ["BENCH_PARENT_PID"] = str(os.getppid() + 1)  # not its parent: that one died
        self.assertEqual(self.cli.main(), 130)
        prctl.assert_called_once_with(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        self.assertEqual(self.tidied, [], "the run never started, nor placed orders")

    def test_a_living_parent_lets_the_run_go_on(self):
        prctl = mock.Mock(return_value=0)
        self.enterContext(mock.patch.object(self.cli.ctypes, "CDLL", return_value=mock.Mock(prctl=prctl)))
        self.enterContext(mock.patch.multiple(self.cli, run=lambda: 0))
        os.environ["BENCH_PARENT_PID"] = str(os.getppid())
        self.assertEqual(self.cli.main(), 0)
        prctl.assert_called_once()
        self.assertEqual(self.tidied, [])

    def test_a_failed_prctl_is_said_and_the_run_goes_on(self):
        logged = []
        self.enterContext(mock.patch.object(self.cli.ctypes, "CDLL", return_value=mock.Mock(prctl=lambda *a: -1)))
        self.enterContext(mock.patch.multiple(self.cli, run=lambda: 0, log=logged.append))
        os.environ["BENCH_PARENT_PID"] = str(os.getppid() + 1)  # not checked when nothing would tell
        self.assertEqual(self.cli.main(), 0)
        self.assertTrue(logged and "will not interrupt" in logged[0], logged)

    def test_an_interrupt_during_the_runs_own_tidy_lets_it_go_on(self):
        def tidy_interrupted_once(customers):
            self.tidied.append(customers)
            if len(self.tidied) == 1:
                os.kill(os.getpid(), signal.SIGTERM)  # `timeout`'s, say
        def run():
            self.state.SAGA_CUSTOMERS.append("c1")
            self.cli.tidy_once()
            raise AssertionError("the TERM did not interrupt the tidy")
        self.enterContext(mock.patch.multiple(self.cli, run=run, tidy=tidy_interrupted_once))
        self.assertEqual(self.cli.main(), 130)
        self.assertEqual(self.tidied, [["c1"], ["c1"]], "taken up again for the same customers")
        self.assertEqual(self.state.SAGA_CUSTOMERS, [])

    def test_the_tidys_result_goes_in_the_json_result_once_written(self):
        path = os.path.join(self.enterContext(tempfile.TemporaryDirectory()), "r.json")
        self.enterContext(mock.patch.multiple(self.cli, JSON_WRITTEN=[path], RESULT={"run_id": "r"},
                                              tidy=lambda customers: {"cancelled": len(customers)}))
        self.state.SAGA_CUSTOMERS.append("c1")
        self.cli.tidy_once()
        with open(path) as f:
            self.assertEqual(json.load(f), {"run_id": "r", "tidy": {"cancelled": 1}})

    def test_customers_are_tidied_once(self):
        self.state.SAGA_CUSTOMERS.append("c1")
        self.cli.tidy_once()
        self.cli.tidy_once()  # e.g. Ctrl-C during the run's own tidy: not started again
        self.assertEqual(self.tidied, [["c1"], []])


if __name__ == "__main__":
    unittest.main()
