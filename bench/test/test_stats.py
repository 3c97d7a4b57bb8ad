"""Unit tests of the harness's alternation (harnesslib.stats): rounds run again for the
hypervisor's steal, and the pairing of what is kept. No system needed: the runs are fakes."""

import os
import sys
import unittest
from unittest import mock

# harnesslib.state reads its settings at import; these make it importable anywhere.
for key in ("BENCH_ROOT", "BENCH_STATE_DIR", "BENCH_BIN_DIR", "BENCH_OUT_DIR"):
    os.environ.setdefault(key, "/nonexistent")
os.environ["BENCH_MODE"] = "full"
os.environ.pop("BENCH_STEAL_REDOS", None)
os.environ.pop("BENCH_STEAL_REDO_PCT", None)
os.environ.pop("BENCH_FOREIGN_WARN_PCT", None)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from harnesslib import report, state, stats  # noqa: E402


def scripted(steals, throughput):
    """A variant whose successive runs lose the given steal percentages."""
    it = iter(steals)
    counter = iter(throughput)

    def run():
        return {"throughput": next(counter), "non2xx": 0, "machine_busy_pct": 90.0, "foreign_cpu_pct": 1.0,
                "steal_pct": next(it), "latency_ms": {}, "requests": 1, "cpu_us_per_req": {}}
    return run


def throughputs(runs):
    return [r["throughput"] for r in runs]


class Alternate(unittest.TestCase):
    def setUp(self):
        state.RESULT["stolen_rounds"].clear()
        self.redos = state.P["steal_redos"]
        state.P["steal_redos"] = 2
        stats.WARMED_UP[0] = True  # these runs are scripted: no warm-up run takes one of them

    def tearDown(self):
        state.P["steal_redos"] = self.redos

    def test_a_round_with_steal_in_any_variant_is_run_again_whole(self):
        a = scripted([0, 0, 0, 0], [10, 11, 12, 13])
        b = scripted([0, 20, 0, 0], [5, 6, 7, 8])
        runs, errors = stats.alternate([("a", a), ("b", b)], 3)
        self.assertEqual(errors, {})
        # Round 2 was run again after round 3; the new try took its place.
        self.assertEqual(throughputs(runs["a"]), [10, 13, 12])
        self.assertEqual(throughputs(runs["b"]), [5, 8, 7])
        self.assertEqual([r["round"] for r in runs["b"]], [1, 2, 3])
        aside = state.RESULT["stolen_rounds"]
        self.assertEqual(len(aside), 1)
        self.assertEqual((aside[0]["comparison"], aside[0]["round"]), ("a+b", 2))
        self.assertEqual(aside[0]["runs"]["a"]["throughput"], 11)
        # The pairs kept are runs taken side by side: 10/5, 13/8, 12/7.
        self.assertAlmostEqual(stats.paired_ratio(runs["a"], runs["b"], lambda r: r["throughput"]), 12 / 7, places=3)

    def test_the_budget_goes_to_the_most_disturbed_rounds(self):
        state.P["steal_redos"] = 1
        a = scripted([6, 40, 0, 0], [1, 2, 3, 4])
        runs, _ = stats.alternate([("a", a)], 3)
        self.assertEqual(throughputs(runs["a"]), [1, 4, 3])
        self.assertEqual(state.RESULT["stolen_rounds"][0]["round"], 2)

    def test_a_try_no_better_than_the_first_is_the_one_set_aside(self):
        state.P["steal_redos"] = 1
        a = scripted([30, 30, 35], [1, 2, 3])
        runs, _ = stats.alternate([("a", a)], 2)
        self.assertEqual(throughputs(runs["a"]), [1, 2])
        self.assertEqual(state.RESULT["stolen_rounds"][0]["runs"]["a"]["throughput"], 3)

    def test_steal_at_the_limit_keeps_the_round(self):
        a = scripted([state.STEAL_REDO_PCT, 0], [1, 2])
        runs, _ = stats.alternate([("a", a)], 2)
        self.assertEqual(throughputs(runs["a"]), [1, 2])
        self.assertEqual(state.RESULT["stolen_rounds"], [])

    def test_no_budget_runs_nothing_again(self):
        state.P["steal_redos"] = 0
        a = scripted([50, 50], [1, 2])
        runs, _ = stats.alternate([("a", a)], 2)
        self.assertEqual(throughputs(runs["a"]), [1, 2])
        self.assertEqual(state.RESULT["stolen_rounds"], [])

    def test_a_failing_variant_stops_alone(self):
        def broken():
            raise RuntimeError("no server")
        a = scripted([0, 0], [1, 2])
        runs, errors = stats.alternate([("a", a), ("b", broken)], 2)
        self.assertEqual(throughputs(runs["a"]), [1, 2])
        self.assertEqual(runs["b"], [])
        self.assertIn("no server", errors["b"])

    def test_a_variant_failing_in_the_second_try_keeps_its_first(self):
        calls = iter([{"steal_pct": 20, "throughput": 1}, RuntimeError("gone")])

        def flaky():
            c = next(calls)
            if isinstance(c, Exception):
                raise c
            return {**c, "non2xx": 0, "machine_busy_pct": 90.0, "foreign_cpu_pct": 1.0, "latency_ms": {},
                    "requests": 1, "cpu_us_per_req": {}}
        runs, errors = stats.alternate([("a", flaky)], 1)
        self.assertEqual(throughputs(runs["a"]), [1])
        self.assertIn("gone", errors["a"])
        self.assertEqual(state.RESULT["stolen_rounds"], [])

    def test_when_every_variant_fails_nothing_is_kept(self):
        def broken():
            raise RuntimeError("down")
        runs, errors = stats.alternate([("a", broken)], 3)
        self.assertEqual(runs, {"a": []})
        self.assertEqual(state.RESULT["stolen_rounds"], [])

    def test_the_report_names_the_rounds_run_again(self):
        a = scripted([0, 20, 0], [10, 11, 12])
        stats.alternate([("a", a)], 2)
        note = report.disturbance_note()
        self.assertIn("1 round(s) were run again", note)
        self.assertIn("a round 2: a 11/s (steal 20 %)", note)


class ForeignLoad(unittest.TestCase):
    """What other processes took of the machine: 0.2-4.5 % per run in clean full runs."""

    def setUp(self):
        for key in ("scenarios", "stolen_rounds"):  # what the note reads, as other tests left it
            saved = state.RESULT[key]
            self.addCleanup(state.RESULT.__setitem__, key, saved)
        state.RESULT["scenarios"], state.RESULT["stolen_rounds"] = {}, []

    def result_with(self, *foreign):
        state.RESULT["scenarios"]["saga"] = {"runs": {"half_rate": [
            {"round": i + 1, "foreign_cpu_pct": f, "steal_pct": 0.1} for i, f in enumerate(foreign)]}}

    def test_a_clean_run_says_nothing_of_it(self):
        self.result_with(0.2, 4.5, 3.0)
        self.assertEqual(report.foreign_note(report.measured_runs(), 10), "")
        self.assertEqual(report.disturbance_note(5, 10),
                         "Hypervisor steal stayed at or below 5 % in all 3 measured runs.")

    def test_a_disturbed_run_says_how_many_runs_and_where_the_most(self):
        self.result_with(26.2, 4.0, 47.9)
        note = report.disturbance_note(5, 10)
        self.assertIn("**Disturbed: other processes took more than 10 % in 2 of 3 measured runs (most: 47.9 % in "
                      "saga/half_rate round 3; the JSON's `foreign_cpu_pct` per run)**", note)

    def test_a_machine_busy_before_the_first_run_is_said_too(self):
        self.result_with(4.0)
        self.enterContext(mock.patch.dict(state.RESULT, others_busy_before_pct=59.2))
        self.assertIn("**Disturbed: other processes took 59.2 % in the second before the first run**",
                      report.disturbance_note(5, 10))


class UpSummary(unittest.TestCase):
    def test_the_median_comes_with_every_try_and_its_steal(self):
        st = {"up_s": 6.1, "up_runs": [{"s": 6.1, "steal_pct": 0.0}, {"s": 14.05, "steal_pct": 12.5},
                                       {"s": 5.9, "steal_pct": 0.4}]}
        self.assertEqual(report.up_summary(st), "6.10 s, the median of 3 tries: 6.10 s (steal 0.0 %), "
                                                "14.05 s (steal 12.5 %), 5.90 s (steal 0.4 %)")

    def test_one_try_or_none(self):
        self.assertEqual(report.up_summary({"up_s": 5.89}), "5.89 s")
        self.assertEqual(report.up_summary({"up_note": "not measured (--quick)"}), "not measured (--quick)")


if __name__ == "__main__":
    unittest.main()
