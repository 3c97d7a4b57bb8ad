"""Unit tests of how the harness measures and judges (harnesslib.proc, stats, targets,
report), with fake /proc listings and fake runs: no system needed."""

import os
import sys
import unittest
from unittest import mock

for key in ("BENCH_ROOT", "BENCH_STATE_DIR", "BENCH_BIN_DIR", "BENCH_OUT_DIR"):
    os.environ.setdefault(key, "/nonexistent")
os.environ["BENCH_MODE"] = "full"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from harnesslib import loads, memory, proc, report, state, stats, targets  # noqa: E402


def row(ppid, ticks, children_ticks=0, start=1):
    """A proc_table row: (ppid, own + reaped children's ticks, reaped children's ticks, start)."""
    return (ppid, ticks + children_ticks, children_ticks, start)


class GroupTicks(unittest.TestCase):
    def setUp(self):
        self.real = proc.proc_table
        proc.UNSTABLE_SNAPSHOTS[0] = 0

    def tearDown(self):
        proc.proc_table = self.real

    def listings(self, *tables):
        it = iter(tables)
        last = [None]

        def table():
            last[0] = next(it, last[0])
            return last[0]
        proc.proc_table = table

    def test_a_child_reaped_between_the_lines_of_a_listing_is_not_lost(self):
        # Listing 1 read the parent (10) before the child (11) exited and the child after it was
        # reaped: its 50 ticks are in neither. Listing 2 has them in the parent's reaped time.
        torn = {10: row(1, 100), 12: row(10, 5)}
        whole = {10: row(1, 100, children_ticks=50), 12: row(10, 5)}
        self.listings(torn, whole, whole)
        self.assertEqual(proc.group_ticks({"postgres": 10}), {"postgres": 155})
        self.assertEqual(proc.UNSTABLE_SNAPSHOTS[0], 0)

    def test_a_stable_listing_is_taken_at_once(self):
        t = {10: row(1, 100), 11: row(10, 7), 12: row(11, 3), 20: row(1, 999)}
        self.listings(t, t)
        self.assertEqual(proc.group_ticks({"svc": 10}), {"svc": 110})

    def test_processes_that_never_settle_are_counted_as_unstable(self):
        tables = [{10: row(1, 100), 10 + i: row(10, 1, start=i)} for i in range(1, 40)]
        self.listings(*tables)
        proc.group_ticks({"svc": 10}, tries=5)
        self.assertEqual(proc.UNSTABLE_SNAPSHOTS[0], 1)


def fake(name, order):
    def run():
        order.append(name)
        return {"throughput": 1.0, "non2xx": 0, "machine_busy_pct": 50.0, "foreign_cpu_pct": 0.0,
                "steal_pct": 0.0, "latency_ms": {}, "requests": 1, "cpu_us_per_req": {}}
    return run


class OthersBusy(unittest.TestCase):
    """What other processes take of the machine in the second before a run (proc.others_busy)."""

    def test_the_share_as_for_a_run_and_the_busiest_others_named_without_ours_or_the_harness(self):
        me = os.getpid()
        before = {10: row(1, 100), 11: row(10, 50), 20: row(1, 0), 21: row(1, 7), 22: row(1, 5, start=1),
                  me: row(1, 0), 30: row(me, 0)}
        after = {10: row(1, 180), 11: row(10, 90), 20: row(1, 90), 21: row(1, 9), 22: row(1, 0, start=2),
                 me: row(1, 40), 30: row(me, 40)}
        listings = iter([before, after])
        # (busy, total, steal): 400 ticks of all CPUs, 230 of them busy and 10 of those stolen
        ticks = iter([(0, 1000, 0), (230, 1400, 10)])
        names = {20: "sh", 21: "kworker/0:1"}
        with mock.patch.multiple(proc, proc_table=lambda: next(listings), machine_ticks=lambda: next(ticks),
                                 process_name=names.get, children_cpu_s=lambda: 1.5), \
                mock.patch.object(proc.time, "sleep"):
            pct, busiest = proc.others_busy({"order": 10})
        # Named: 90 and 2 of 400 ticks; ours (10, 11), this process and its children (30) are
        # not others, and pid 22 is a new process under an old pid, whose ticks are not
        # comparable. The share is a run's foreign_cpu_pct: 220 busy less ours (80 + 40), the
        # harness's own ticks in it (a second's sleep costs it next to nothing).
        self.assertEqual(pct, 25.0)
        self.assertEqual(busiest, [("sh", 20, 22.5), ("kworker/0:1", 21, 0.5)])


class ForeignPct(unittest.TestCase):
    """A run's share of the machine that was neither ours, the load generator's nor stolen."""

    def snapshot(self, groups, busy, total, steal, loadgen_s):
        s = object.__new__(proc.Snapshot)
        s.t, s.groups, s.busy, s.total, s.steal, s.loadgen = 0.0, groups, busy, total, steal, loadgen_s
        return s

    def test_ours_the_load_generator_and_steal_are_taken_out(self):
        before = self.snapshot({"order": 100, "postgres": 50}, 1000, 5000, 20, 1.0)
        after = self.snapshot({"order": 300, "postgres": 150}, 1800, 6000, 70, 2.0)
        # 800 busy - 50 stolen - 300 ours - 1 s of load generator (CLK ticks) of 1000
        self.assertEqual(proc.foreign_pct(before, after), round((750 - 300 - state.CLK) / 10, 1))

    def test_a_tree_that_went_away_counts_as_zero_and_the_share_never_below_zero(self):
        before = self.snapshot({"order": 500}, 0, 0, 0, 0.0)
        after = self.snapshot({}, 10, 1000, 0, 0.0)
        self.assertEqual(proc.foreign_pct(before, after), 1.0)
        self.assertEqual(proc.foreign_pct(after, self.snapshot({}, 10, 2000, 0, 5.0)), 0.0)


class Alternation(unittest.TestCase):
    def setUp(self):
        state.RESULT["stolen_rounds"].clear()
        self.saved = dict(state.P)
        state.P["steal_redos"] = 0
        state.P["warmup"] = False

    def tearDown(self):
        state.P.clear()
        state.P.update(self.saved)

    def test_the_order_turns_every_round(self):
        order = []
        stats.alternate([("a", fake("a", order)), ("b", fake("b", order)), ("c", fake("c", order))], 3)
        self.assertEqual(order, ["a", "b", "c", "c", "b", "a", "a", "b", "c"])

    def test_the_first_comparison_of_a_run_warms_up_once(self):
        state.P["warmup"] = True
        stats.WARMED_UP[0] = False
        order = []
        runs, _ = stats.alternate([("a", fake("a", order)), ("b", fake("b", order))], 2)
        self.assertEqual(order, ["a", "b", "a", "b", "b", "a"])
        self.assertEqual([r["round"] for r in runs["a"]], [1, 2])
        order.clear()
        stats.alternate([("c", fake("c", order))], 1)
        self.assertEqual(order, ["c"], "only the run's first comparison warms up")

    def test_no_warm_up_unless_the_profile_has_one(self):
        state.P["warmup"] = False
        stats.WARMED_UP[0] = False
        order = []
        stats.alternate([("a", fake("a", order))], 1)
        self.assertEqual(order, ["a"])

    def test_paired_ratios_keep_their_spread_and_are_not_rounded(self):
        a = [{"round": 1, "t": 1.0}, {"round": 2, "t": 1.1}, {"round": 3, "t": 0.9996}]
        b = [{"round": 1, "t": 1.0}, {"round": 2, "t": 1.0}, {"round": 3, "t": 1.0}]
        self.assertAlmostEqual(stats.paired_ratio(a, b, lambda r: r["t"]), 1.0)
        into = {}
        stats.record_paired(into, "r", a, b, lambda r: r["t"])
        self.assertAlmostEqual(into["r"], 1.0)
        self.assertEqual(into["r_rounds"], [0.9996, 1.1])
        c = [{"round": 1, "t": 0.9996}]
        self.assertLess(stats.paired_ratio(c, b, lambda r: r["t"]), 1.0, "0.9996 must not round up to a met 1.0")


class Verdicts(unittest.TestCase):
    def test_a_value_just_under_the_target_misses(self):
        v = targets.verdict(0.9996, 1.0)
        self.assertFalse(v["met"])
        self.assertIn("short by", report.verdict_text(v))

    def test_the_words_say_which_side_for_either_kind_of_target(self):
        self.assertEqual(report.verdict_text(targets.verdict(0.16, 0.25)),
                         "**missed** (short by 36.0 %: ×1.56 needed)")
        self.assertEqual(report.verdict_text(targets.verdict(60, 50, higher_is_better=False)),
                         "**missed** (over by 20.0 %)")
        self.assertEqual(report.verdict_text(targets.verdict(40, 50, higher_is_better=False)),
                         "met (20.0 % below the target)")
        self.assertEqual(report.verdict_text(targets.verdict(1.03, 1.0)), "met (3.0 % above the target)")

    def test_rounds_on_both_sides_of_the_target_are_named(self):
        v = targets.verdict(1.02, 1.0, rounds=[0.96, 1.09])
        self.assertTrue(v["met"])
        self.assertIn("the rounds fall on both sides of the target", report.verdict_text(v))
        self.assertNotIn("both sides", report.verdict_text(targets.verdict(1.05, 1.0, rounds=[1.01, 1.09])))


class PerRequest(unittest.TestCase):
    def test_cpu_is_divided_by_the_successes_and_none_gives_no_figure(self):
        cpu = {"groups_us": {"gateway": 1000.0, "nginx": 0.0}, "loadgen_us": 500.0}
        self.assertEqual(loads.per_request(cpu, 10), {"gateway": 100.0, "loadgen": 50.0})
        self.assertEqual(loads.per_request(cpu, 0), {"gateway": None, "nginx": None, "loadgen": None})

    def test_a_run_without_a_figure_is_left_out_of_the_ratio(self):
        a = [{"round": 1, "c": None}, {"round": 2, "c": 2.0}]
        b = [{"round": 1, "c": 1.0}, {"round": 2, "c": 1.0}]
        self.assertEqual(stats.paired_ratios(a, b, lambda r: r["c"]), [2.0])

    def test_failures_in_the_runs_are_named_beside_the_verdict(self):
        v = dict(targets.verdict(1.02, 1.0), failures=1234)
        self.assertIn("1,234 failed requests or orders in its runs", report.verdict_text(v))


class TargetsTest(unittest.TestCase):
    """Puts back the parts of the shared RESULT a test of targets() replaces."""
    KEYS = ()

    def setUp(self):
        self.saved = {k: state.RESULT.get(k) for k in self.KEYS}

    def tearDown(self):
        for k, v in self.saved.items():
            if v is None:
                state.RESULT.pop(k, None)
            else:
                state.RESULT[k] = v


class RssTargets(TargetsTest):
    KEYS = ("rss_mb", "startup", "targets")

    def test_idle_is_the_worse_of_fresh_and_after_load_and_load_counts_the_peak(self):
        state.RESULT["rss_mb"] = {"idle": {"order": 11.8, "product": 11.0}, "after_load": {"order": 14.2, "product": 11.5},
                                  "under_load_max": {"order": 15.0}, "peak_hwm": {"order": 15.3, "product": 12.0}}
        state.RESULT["startup"] = {}
        targets.targets()
        t = state.RESULT["targets"]
        # Judged in MB of 10^6 bytes: the tables' MiB × 1.048576.
        self.assertEqual((t["rss_idle"]["value"], t["rss_idle"]["worst"], t["rss_idle"]["met"]), (14.89, "order", False))
        self.assertEqual((t["rss_load"]["value"], t["rss_load"]["worst"]), (16.04, "order"))

    def test_eleven_point_five_mib_is_more_than_twelve_mb(self):
        # 11.5 MiB = 12.06 MB: missed, though the table shows a figure below 12.
        state.RESULT["rss_mb"] = {"idle": {"order": 11.5}, "after_load": {"order": 11.4}}
        state.RESULT["startup"] = {}
        targets.targets()
        t = state.RESULT["targets"]["rss_idle"]
        self.assertEqual((t["value"], t["met"]), (12.06, False))


class GetTargets(TargetsTest):
    KEYS = ("scenarios", "targets")

    def test_the_select_only_target_is_judged_with_the_cache_and_without_it(self):
        state.RESULT["scenarios"] = {"get_product": {"ratio_gateway_vs_pgbench_select": 0.94,
                                                     "ratio_gateway_proxy_vs_pgbench_select": 0.247,
                                                     "ratio_gateway_proxy_vs_pgbench_select_rounds": [0.2, 0.27]}}
        targets.targets()
        t = state.RESULT["targets"]
        self.assertTrue(t["gateway_vs_pgbench_select"]["met"])
        proxied = t["gateway_proxy_vs_pgbench_select"]
        self.assertEqual((proxied["value"], proxied["met"], proxied["margin_pct"]), (0.247, False, -50.6))
        self.assertIn("proxied every time", proxied["label"])


class AnonParts(unittest.TestCase):
    # A heap, an arena and its PROT_NONE rest, a thread stack (8 MiB less the guard), a
    # library's written pages, a deleted file and a name with spaces (files), a memfd, an
    # unnamed block, a named anonymous one and the main stack; with the fields smaps lists.
    SMAPS = """\
55d000000000-55d000021000 rw-p 00000000 00:00 0                          [heap]
Size:                132 kB
Anonymous:            64 kB
THPeligible:    0
ProtectionKey:         0
7f0000000000-7f0000060000 rw-p 00000000 00:00 0 
Size:                384 kB
Anonymous:           300 kB
VmFlags: rd wr mr mw me nr sd
7f0000060000-7f0004000000 ---p 00000000 00:00 0 
Anonymous:             0 kB
7f1000001000-7f1000800000 rw-p 00000000 00:00 0 
Size:               8188 kB
Anonymous:            36 kB
7f2000000000-7f2000010000 rw-p 00123000 08:01 1234                       /usr/lib/x86_64-linux-gnu/libcrypto.so.3
Anonymous:            40 kB
7f2100000000-7f2100010000 rw-p 00000000 08:01 99                         /work/build/bin/sales-order (deleted)
Anonymous:             8 kB
7f2200000000-7f2200010000 rw-p 00000000 08:01 98                         /srv/a file with spaces.dat
Anonymous:             4 kB
7f2300000000-7f2300010000 rw-s 00000000 00:01 97                         /memfd:pool (deleted)
Anonymous:             0 kB
7f3000001000-7f3000022000 rw-p 00000000 00:00 0 
Anonymous:            12 kB
7f3100001000-7f3100022000 rw-p 00000000 00:00 0                          [anon:scratch]
Anonymous:             4 kB
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]
Anonymous:            16 kB
"""

    def test_each_mapping_is_counted_where_it_belongs(self):
        self.assertEqual(memory.anon_parts(self.SMAPS), {"malloc": 364, "stacks": 52, "files": 52, "other": 16})

    def test_an_aligned_block_is_an_arena_only_with_the_rest_of_its_64_mib_reserved(self):
        aligned_without_rest = ("7f4000000000-7f4002000000 rw-p 00000000 00:00 0 \nAnonymous:           100 kB\n"
                         "7f4002000000-7f4003000000 ---p 00000000 00:00 0 \nAnonymous:             0 kB\n")
        whole_arena = "7f5000000000-7f5004000000 rw-p 00000000 00:00 0 \nAnonymous:            20 kB\n"
        self.assertEqual(memory.anon_parts(aligned_without_rest + whole_arena),
                         {"malloc": 20, "stacks": 0, "files": 0, "other": 100})

    def test_stacks_are_told_by_the_process_stack_size(self):
        limits = "Limit                     Soft Limit           Hard Limit           Units     \n" \
                 "Max stack size            16777216             unlimited            bytes     \n"
        self.assertEqual(memory.stack_kb(limits), 16 << 10)
        self.assertEqual(memory.stack_kb("Max stack size            unlimited            unlimited            bytes"),
                         32 << 10)
        parts = memory.anon_parts(self.SMAPS, memory.stack_kb(limits))
        self.assertEqual((parts["stacks"], parts["other"]), (16, 52), "an 8 MiB block is no stack at 16 MiB stacks")

    def test_the_limits_name_the_parts_after_the_anonymous_figure(self):
        self.assertEqual(targets.anon_parts_text({"malloc": 2.9, "stacks": 0.5, "files": 0.8, "other": 0.3, "threads": 16}),
                         " (malloc heap and arenas 2.9, 16 thread stacks 0.5, pages written in mapped files 0.8, other 0.3)")
        self.assertEqual(targets.anon_parts_text(None), "")

if __name__ == "__main__":
    unittest.main()
