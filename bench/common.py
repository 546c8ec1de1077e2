"""Timing, memory and the results table shared by the benchmarks."""

from __future__ import annotations

import datetime
import os
import platform
import re
import resource
import statistics
import sys
import time

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
HEADER = (
    "| benchmark | figure | value | ratio | command | machine | date |\n"
    "|---|---|---|---|---|---|---|\n"
)


def machine() -> str:
    """A short description of this machine (CPU model, cores, accelerator)."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            names = re.findall(r"model name\s*:\s*(.+)", cpuinfo.read())
        model = names[0].strip() if names else model
    except OSError:
        pass
    return f"{model} ({cpu_class()}), {os.cpu_count()} cores"


def cpu_class() -> str:
    """What decides mixed precision on a CPU: `AMX`, `AVX512-BF16` or `AVX2` (no native bfloat16)."""
    from multimodal_tf.training import cpu_flags

    flags = cpu_flags()
    if "amx_bf16" in flags:
        return "AMX"
    if "avx512_bf16" in flags:
        return "AVX512-BF16, no AMX"
    return "AVX2, no native bfloat16" if "avx2" in flags else "no AVX2"


def median_rate(function, units: float, repeats: int) -> tuple:
    """Calls `function` `repeats` times; returns (median units/s, all rates)."""
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        rates.append(units / (time.perf_counter() - started))
    return statistics.median(rates), rates


def rss_mib() -> float:
    """This process' resident memory now, in MiB (Linux), else its peak."""
    try:
        with open("/proc/self/statm", encoding="utf-8") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Rows:
    """The rows a benchmark run produces, printed as they come."""

    def __init__(self, command: str | None = None, device: str | None = None):
        self.command = command or "python -m bench " + " ".join(sys.argv[1:])
        self.device = device or machine()
        self.rows = []

    def add(self, benchmark: str, figure: str, value: str, ratio: str = ""):
        row = (
            benchmark,
            figure,
            value,
            ratio,
            f"`{self.command}`",
            self.device,
            f"{datetime.date.today()}",
        )
        self.rows.append(row)
        print("| " + " | ".join(row) + " |", flush=True)

    def record(self, path: str = RESULTS):
        """Writes the rows into the results table, replacing rows of the same figure and machine."""
        kept = []
        if os.path.exists(path):
            with open(path, encoding="utf-8") as results:
                text = results.read()
            table = text[text.index(HEADER) + len(HEADER) :] if HEADER in text else ""
            new = {(row[0], row[1], row[5]) for row in self.rows}
            for line in table.splitlines():
                cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
                if (
                    line.startswith("|")
                    and (cells[0], cells[1], cells[5] if len(cells) > 5 else "") not in new
                ):
                    kept.append(line)
            preamble = text[: text.index(HEADER)] if HEADER in text else text
        else:
            preamble = "# Benchmark results\n\n"
        lines = kept + ["| " + " | ".join(row) + " |" for row in self.rows]
        with open(path, "w", encoding="utf-8") as results:
            results.write(preamble + HEADER + "\n".join(lines) + "\n")


def ratio(ours: float, theirs: float) -> str:
    """`2.31x`: ours over theirs."""
    return f"{ours / theirs:.2f}x"


def paired_rates(timings: dict) -> tuple:
    """Medians and the paired ratio of alternated epochs, the first (tracing) left out.

    Args:
        timings: `{"ours": [samples/s per epoch], "document": [...]}`, epochs alternated.

    Returns:
        `(rate, summary)`: the median rate of each side, and the median of the
        per-epoch ratios ours/document with their range: two sides timed back
        to back share the machine's noise, so their ratio is steadier than
        either rate.
    """
    steady = {name: values[1:] or values for name, values in timings.items()}
    rate = {name: statistics.median(values) for name, values in steady.items()}
    ratios = [ours / theirs for ours, theirs in zip(steady["ours"], steady["document"])]
    summary = (
        f"{statistics.median(ratios):.2f}x",
        f"paired per-epoch ratio {min(ratios):.2f}-{max(ratios):.2f}x over {len(ratios)} epochs",
    )
    return rate, summary
