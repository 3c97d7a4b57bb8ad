#!/usr/bin/env python3
"""The engine of `./sales bench` (scripts/lib-bench.sh prepares the ground and calls it).

Runs every scenario against the running system, alternating the variants that are compared
(A B C A B C …), measures throughput, latency, non-2xx responses and the CPU time per
request of each process involved (from /proc), and writes a JSON result and a Markdown
report. Standard library only. Every load is bounded in time and sent to 127.0.0.1 only.
The code is in harnesslib/ beside this file (harnesslib/__init__.py lists its modules).
See bench/README.md.
"""
import sys

from harnesslib.cli import main

if __name__ == "__main__":
    sys.exit(main())
