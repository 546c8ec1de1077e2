"""Benchmarks that print ratios measured side by side in one run.

Run `python -m bench --help`. Each benchmark prints markdown rows and, with
`--record`, appends them to `bench/results.jsonl` (one JSON object per figure:
id, command, machine, date, method, figures, `superseded_by`);
`python -m bench.report` generates bench/RESULTS.md, bench/HISTORY.md, the
README's headline table and docs/results.png from that file.
"""
