"""Unit tests of the harness's alternation (harnesslib.stats): rounds set aside for the
hypervisor's steal, and the pairing of what is kept. No system needed: the runs are fakes."""

import os
import sys
import unittest

# harnesslib.state reads its settings at import; these make it importable anywhere.
for key in ("BENCH_ROOT", "BENCH_STATE_DIR", "BENCH_BIN_DIR", "BENCH_OUT_DIR"):
    os.environ.setdefault(key, "/nonexistent")
os.environ["BENCH_MODE"] = "full"
os.environ.pop("BENCH_STEAL_REDOS", None)
os.environ.pop("BENCH_STEAL_REDO_PCT", None)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from harnesslib import state, stats  # noqa: E402


def scripted(steals, throughput):
    """A variant whose successive runs lose the given steal percentages."""
    it = iter(steals)
    counter = iter(throughput)

    def run():
        return {"throughput": next(counter), "non2xx": 0, "machine_busy_pct": 90.0, "foreign_cpu_pct": 1.0,
                "steal_pct": next(it), "latency_ms": {}, "requests": 1, "cpu_us_per_req": {}}
    return run


class Alternate(unittest.TestCase):
    def setUp(self):
        state.RESULT["stolen_rounds"].clear()
        self.redos = state.P["steal_redos"]

    def tearDown(self):
        state.P["steal_redos"] = self.redos

    def test_a_round_with_steal_in_any_variant_is_run_again_whole(self):
        a = scripted([0, 0, 0, 0], [10, 11, 12, 13])
        b = scripted([0, 20, 0, 0], [5, 6, 7, 8])
        runs, errors = stats.alternate([("a", a), ("b", b)], 3)
        self.assertEqual(errors, {})
        self.assertEqual([r["throughput"] for r in runs["a"]], [10, 12, 13])
        self.assertEqual([r["throughput"] for r in runs["b"]], [5, 7, 8])
        self.assertEqual([r["round"] for r in runs["a"]], [1, 2, 3])
        self.assertEqual([r["round"] for r in runs["b"]], [1, 2, 3])
        aside = state.RESULT["stolen_rounds"]
        self.assertEqual(len(aside), 1)
        self.assertEqual(aside[0]["steal_pct"], {"b": 20})
        self.assertEqual(aside[0]["runs"]["a"]["throughput"], 11)
        # The pairs kept are the runs taken side by side: 10/5, 12/7, 13/8.
        self.assertAlmostEqual(stats.paired_ratio(runs["a"], runs["b"], lambda r: r["throughput"]), 12 / 7, places=3)

    def test_no_more_rounds_are_set_aside_than_allowed(self):
        state.P["steal_redos"] = 1
        a = scripted([30, 30, 30], [1, 2, 3])
        runs, _ = stats.alternate([("a", a)], 2)
        self.assertEqual([r["throughput"] for r in runs["a"]], [2, 3])
        self.assertEqual(len(state.RESULT["stolen_rounds"]), 1)

    def test_steal_at_the_limit_keeps_the_round(self):
        limit = state.STEAL_REDO_PCT
        a = scripted([limit, 0], [1, 2])
        runs, _ = stats.alternate([("a", a)], 2)
        self.assertEqual([r["throughput"] for r in runs["a"]], [1, 2])
        self.assertEqual(state.RESULT["stolen_rounds"], [])

    def test_a_failing_variant_stops_alone(self):
        def broken():
            raise RuntimeError("no server")
        a = scripted([0, 0], [1, 2])
        runs, errors = stats.alternate([("a", a), ("b", broken)], 2)
        self.assertEqual([r["throughput"] for r in runs["a"]], [1, 2])
        self.assertEqual(runs["b"], [])
        self.assertIn("no server", errors["b"])


if __name__ == "__main__":
    unittest.main()
