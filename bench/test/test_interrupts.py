"""Unit tests of how an interrupted bench stops: the load a run had started goes with it
(harnesslib.loads.run_in_group), and every interrupt ./sales gets reaches the harness once
(scripts/lib-bench.sh, bench_run_harness). No system needed: the loads are `sleep`s and the
harness a stand-in."""

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

for key in ("BENCH_ROOT", "BENCH_STATE_DIR", "BENCH_BIN_DIR", "BENCH_OUT_DIR"):
    os.environ.setdefault(key, "/nonexistent")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from harnesslib import loads  # noqa: E402

LIB_BENCH = os.path.join(HERE, "..", "..", "scripts", "lib-bench.sh")


def gone(pid, within_s=3.0):
    """Whether pid has ended (and been reaped by whoever adopted it) within the time."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True  # dead; its new parent reaps it
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def read(path):
    with open(path) as f:
        return f.read()


def wait_for(path, predicate, within_s=10.0):
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        text = read(path) if os.path.exists(path) else None
        if text is not None and predicate(text):
            return text
        time.sleep(0.02)
    raise AssertionError(f"{path} never satisfied the test; it holds {text!r}")


class RunInGroup(unittest.TestCase):
    """A load whose command starts another process, as `runuser -u postgres -- pgbench` does."""

    def setUp(self):
        self.dir = self.enterContext(tempfile.TemporaryDirectory())
        self.pidfile = os.path.join(self.dir, "grandchild")
        self.termlog = os.path.join(self.dir, "terms")

    def load(self, ignore_term=False):
        if not ignore_term:
            return ["sh", "-c", f"sleep 30 & echo $! > {self.pidfile}; wait"]
        # The child inherits TERM ignored; the shell notes each TERM and goes on waiting for it
        # (no longer than it lives: a shell left behind by a failing test does not spin).
        return ["sh", "-c", f"trap '' TERM; sleep 30 & echo $! > {self.pidfile}; "
                            f"trap 'echo term >> {self.termlog}' TERM; "
                            "while kill -0 $! 2>/dev/null; do wait $!; done"]

    def grandchild(self):
        return int(wait_for(self.pidfile, lambda t: t.endswith("\n")))

    def interrupt_after(self, *delays):
        """KeyboardInterrupt in this thread after each delay (seconds, counted one after the
        other), as the harness's signal handler raises it."""
        left = list(delays)

        def interrupt(signum, frame):
            left.pop(0)
            signal.setitimer(signal.ITIMER_REAL, left[0] if left else 0)
            raise KeyboardInterrupt()
        self.addCleanup(signal.signal, signal.SIGALRM, signal.signal(signal.SIGALRM, interrupt))
        self.addCleanup(signal.setitimer, signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_REAL, left[0])

    def test_a_finished_command_gives_its_status_and_output(self):
        p = loads.run_in_group(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10)
        self.assertEqual((p.returncode, p.stdout, p.stderr), (3, "out\n", "err\n"))

    def test_a_timeout_ends_what_the_command_started_too(self):
        p = loads.run_in_group(self.load(), timeout=2)
        self.assertEqual(p.returncode, 124)
        self.assertTrue(gone(self.grandchild()), "the command's child outlived the timeout")

    def test_an_interrupt_ends_what_the_command_started_and_goes_on(self):
        self.interrupt_after(2)
        with self.assertRaises(KeyboardInterrupt):
            loads.run_in_group(self.load(), timeout=20)
        self.assertTrue(gone(self.grandchild()), "the command's child outlived the interrupt")

    def test_a_group_that_ignores_term_is_killed_once_the_grace_is_out(self):
        started = time.monotonic()
        p = loads.run_in_group(self.load(ignore_term=True), timeout=2, grace_s=1)
        self.assertEqual(p.returncode, 124)
        self.assertTrue(gone(self.grandchild()))
        self.assertEqual(read(self.termlog), "term\n", "TERM first, once")
        self.assertGreaterEqual(time.monotonic() - started, 3, "KILL before the grace was out")

    def test_a_second_interrupt_during_the_grace_kills_at_once_and_goes_on(self):
        self.interrupt_after(2, 0.5)
        started = time.monotonic()
        with self.assertRaises(KeyboardInterrupt):
            loads.run_in_group(self.load(ignore_term=True), timeout=20, grace_s=30)
        self.assertTrue(gone(self.grandchild()))
        self.assertLess(time.monotonic() - started, 20, "the grace was waited out")


class OutputNobodyReads(unittest.TestCase):
    def test_the_run_goes_on_when_its_output_has_no_reader(self):
        """./sales killed leaves the harness writing into a pipe nobody reads."""
        with tempfile.TemporaryDirectory() as d:
            done = os.path.join(d, "done")
            code = (f"import sys; sys.path.insert(0, {os.path.join(HERE, '..')!r})\n"
                    "from harnesslib.state import log, say, step\n"
                    "for i in range(3):\n"
                    "    log('a line'); step('a step'); say('an error', err=True)\n"
                    f"open({done!r}, 'w').write('went on')\n")
            r, w = os.pipe()
            os.close(r)  # nobody reads
            child = subprocess.run([sys.executable, "-c", code], stdout=w, stderr=w)
            os.close(w)
            self.assertEqual(child.returncode, 0)
            self.assertEqual(read(done), "went on")


# Stands in for bench/harness.py: says when it listens, logs each TERM, "tidies" for a
# moment after the first and exits 130; left alone it finishes after a while (exit 3). Its
# parent's death is an interrupt, as in the harness (cli.main).
FAKE_HARNESS = textwrap.dedent("""
    import signal, sys, time
    sys.path.insert(0, sys.argv[2])
    from harnesslib import cli
    log = open(sys.argv[1], "a", buffering=1)
    def interrupted(signum, frame):
        log.write("term\\n")
        if interrupted.seen:
            sys.exit(130)
        interrupted.seen = True
        time.sleep(1.5)
        log.write("tidied\\n")
        sys.exit(130)
    interrupted.seen = False
    signal.signal(signal.SIGTERM, interrupted)
    cli._interrupted_when_parent_dies()
    log.write("ready\\n")
    time.sleep(4)
    log.write("finished\\n")
    sys.exit(3)
""")


class BenchRunHarness(unittest.TestCase):
    """./sales bench with the harness running: each way of interrupting it."""

    def setUp(self):
        self.dir = self.enterContext(tempfile.TemporaryDirectory())
        self.log = os.path.join(self.dir, "log")
        fake = os.path.join(self.dir, "harness.py")
        with open(fake, "w") as f:
            f.write(FAKE_HARNESS)
        script = (f'set -euo pipefail; STATE_DIR={self.dir}; SALES_ROOT={self.dir}; . "$1"; '
                  f'trap "exit 130" INT TERM; rc=0; bench_run_harness env BENCH_PARENT_PID=$$ '
                  f'{sys.executable} {fake} {self.log} {os.path.join(HERE, "..")} || rc=$?; '
                  f'echo "returned $rc"; exit "$rc"')
        # A session of its own, as a terminal or `timeout` gives ./sales: its group can be signalled.
        self.shell = subprocess.Popen(["bash", "-c", script, "bash", LIB_BENCH], stdout=subprocess.PIPE, text=True,
                                      start_new_session=True)
        self.addCleanup(self.stop_shell)
        wait_for(self.log, lambda t: "ready" in t)

    def stop_shell(self):
        if self.shell.poll() is None:
            os.killpg(self.shell.pid, signal.SIGKILL)
        self.shell.communicate()

    def outcome(self):
        out, _ = self.shell.communicate(timeout=15)
        with open(self.log) as f:
            return self.shell.returncode, out.strip(), f.read().split()

    def test_a_term_to_the_shell_alone_reaches_the_harness_which_tidies_before_the_shell_exits(self):
        self.shell.send_signal(signal.SIGTERM)
        self.assertEqual(self.outcome(), (130, "returned 130", ["ready", "term", "tidied"]))

    def test_a_term_to_the_whole_group_reaches_the_harness_once(self):
        os.killpg(self.shell.pid, signal.SIGTERM)  # as `timeout` sends it
        self.assertEqual(self.outcome(), (130, "returned 130", ["ready", "term", "tidied"]))

    def test_a_term_to_the_shell_then_to_its_group_reaches_the_harness_once(self):
        self.shell.send_signal(signal.SIGTERM)  # as `timeout` sends it: the command, then its group
        time.sleep(0.1)  # so that the trap runs for each (signals pending together make one)
        os.killpg(self.shell.pid, signal.SIGTERM)
        self.assertEqual(self.outcome(), (130, "returned 130", ["ready", "term", "tidied"]))

    def test_a_kill_of_the_whole_group_still_reaches_the_harness(self):
        os.killpg(self.shell.pid, signal.SIGKILL)  # the harness, in a session of its own, outlives it
        self.assertEqual(self.shell.wait(10), -signal.SIGKILL)
        self.assertEqual(wait_for(self.log, lambda t: "tidied" in t).split(), ["ready", "term", "tidied"])

    def test_ctrl_c_reaches_the_harness_once(self):
        os.killpg(self.shell.pid, signal.SIGINT)  # the terminal's, to the foreground group
        self.assertEqual(self.outcome(), (130, "returned 130", ["ready", "term", "tidied"]))

    def test_a_second_interrupt_during_the_tidy_reaches_it_too(self):
        os.killpg(self.shell.pid, signal.SIGINT)
        wait_for(self.log, lambda t: "term" in t)
        time.sleep(0.6)  # later than ./sales takes a signal for the one before it (BENCH_SAME_INTERRUPT_US)
        os.killpg(self.shell.pid, signal.SIGINT)
        self.assertEqual(self.outcome(), (130, "returned 130", ["ready", "term", "term"]))

    def test_a_run_left_alone_returns_the_harness_status(self):
        self.assertEqual(self.outcome(), (3, "returned 3", ["ready", "finished"]))


if __name__ == "__main__":
    unittest.main()
