"""bench/harness.py's code, by concern (bench/README.md, "The tools"):

- state: settings from the environment (BENCH_*), and what a run gathers (RESULT, …)
- proc: process trees, CPU ticks, RSS and PSS from /proc; waiting until the system is quiet
- api: HTTP set-up calls (products, customers)
- loads: one measured run of wrk, bench_rate_load, pgbench or bench_saga_load
- stats: alternation of variants, medians, paired ratios
- scenarios: (a)–(e) and the micro-benchmarks
- saturation: the saga's closed-loop worker count that gives the most orders/s
- machine: the machine, versions, the services' configuration
- targets: verdicts against the targets, and what limits a missed one
- report: the Markdown report
- cli: main: the plan of scenarios, then the JSON result and the report
- tidy: after the report, cancel the orders the saga left unpaid (they would expire an hour later)
"""
