"""Benchmarks that print ratios measured side by side in one run.

Run `python -m bench --help`. Each benchmark prints markdown rows and, with
`--record`, writes them into `bench/RESULTS.md` (one row per figure, the
command that produced it in the row).
"""
