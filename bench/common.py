"""Timing, memory and the results table shared by the benchmarks."""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.jsonl")


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
    """What decides mixed precision on a CPU: `AMX`, `AVX512-BF16` or `AVX2` (no bfloat16)."""
    from multimodal_tf.training import cpu_flags, fast_bfloat16

    flags = cpu_flags()
    if "amx_bf16" in flags:
        return "AMX"
    if "avx512_bf16" in flags:  # not fast there: an Intel Xeon, whose AMX is not exposed
        return "AVX512-BF16, no AMX" + ("" if fast_bfloat16(flags) else " but AVX512-FP16")
    return "AVX2, no native bfloat16" if "avx2" in flags else "no AVX2"


def median_rate(function, units: float, repeats: int) -> tuple:
    """Calls `function` `repeats` times; returns (median units/s, all rates)."""
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        rates.append(units / (time.perf_counter() - started))
    return statistics.median(rates), rates


def fit_step_seconds(model, x, y=None, *, epochs: int, steps_per_execution: int = 1, **fit_kwargs):
    """Seconds of each training step of one `model.fit`, timed inside its epochs.

    A step is timed from the end of the one before it in the same epoch, so
    what happens between epochs (a new data iterator, the wait for tf.data's
    autotuning thread, epoch-end callbacks) and each epoch's first step
    (which waits for the first batch, and in the first epoch traces and
    compiles) are left out. Each step's loss is read before the clock, so
    an asynchronous backend (JAX on a GPU) is timed to the step's end.

    Args:
        model: a compiled model.
        x, y: `fit`'s data.
        epochs: epochs of the fit (the first epoch's steps are left out too:
            one epoch warms caches and allocators).
        steps_per_execution: the model's (a callback sees one step in so many).
        **fit_kwargs: more `fit` arguments (`batch_size`, `shuffle`...).

    Returns:
        A list of seconds, one a step; take its median.

    Raises:
        ValueError: `epochs` under 2 (nothing would be timed).
    """
    import keras

    if epochs < 2:
        raise ValueError(f"`epochs` must be at least 2 (the first is not timed), got {epochs}.")
    seconds = []

    class StepTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.last = epoch, None

        def on_train_batch_end(self, batch, logs=None):
            float((logs or {}).get("loss", 0.0))  # waits for the step where dispatch is async
            now = time.perf_counter()
            if self.epoch > 0 and self.last is not None:
                seconds.append((now - self.last) / steps_per_execution)
            self.last = now

    model.fit(x, y, epochs=epochs, verbose=0, callbacks=[StepTimer()], **fit_kwargs)
    if not seconds:
        raise ValueError("no step was timed: give at least 2 steps an epoch.")
    return seconds


def peak_rss_mib() -> float:
    """This process' peak resident memory so far, in MiB (`ru_maxrss`)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """This process' resident memory now, in MiB (Linux), else its peak."""
    try:
        with open("/proc/self/statm", encoding="utf-8") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mib()


def step_timer(steps: list):
    """A Keras callback that appends each training step's seconds to `steps`.

    It reads the step's loss, so that a step's time includes finishing it.
    """
    import keras

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            float((logs or {}).get("loss", 0.0))
            steps.append(time.perf_counter() - self.started)

    return StepTimer()


def side_in_a_process(module: str, side: str, options: dict) -> dict:
    """`python -m MODULE SIDE OPTIONS_JSON` in a fresh process; its last line read as JSON."""
    command = [sys.executable, "-m", module, side, json.dumps(options)]
    process = subprocess.run(command, capture_output=True, text=True)
    if process.returncode:
        raise RuntimeError(f"the {side} side failed:\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def importable_in_a_process(module: str) -> bool:
    """Whether `import MODULE` works in a fresh process of this interpreter and environment."""
    command = [sys.executable, "-c", f"import {module}"]
    return subprocess.run(command, capture_output=True).returncode == 0


def row_id(benchmark: str, figure: str, machine_class: str, date: str) -> str:
    """A short stable slug: `precision-cnn-bfloat16-xla-off-avx512bf16-2026-12-05`."""
    text = f"{benchmark}-{figure}-{machine_class}-{date}".lower()
    text = text.replace("mixed_", "").replace("_", "")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def machine_class() -> str:
    """A row's machine class: `gpu`, `amx`, `avx512_bf16`, `avx512_fp16`, `avx2` or `cpu`."""
    from multimodal_tf.training import cpu_flags, fast_bfloat16, has_gpu

    if has_gpu():
        return "gpu"
    flags = cpu_flags()
    if "avx512_bf16" in flags and not fast_bfloat16(flags):
        return "avx512_fp16"  # an Intel Xeon without AMX exposed: not the AMD EPYC class
    for flag, name in (("amx_bf16", "amx"), ("avx512_bf16", "avx512_bf16"), ("avx2", "avx2")):
        if flag in flags:
            return name
    return "cpu"


class Rows:
    """The rows a benchmark run produces, printed as they come.

    Args:
        command: the command line recorded with each row (default: this process').
        device: the machine, in words (default: `machine()`).
        device_class: `gpu`, `amx`, `avx512_bf16`, `avx2` or `cpu` (default: this machine's).
        method: one line on how the figures were measured (default: the benchmark's own,
            `bench.report.METHODS`).
        repeats: repetitions behind each median (the rows' `n`).
    """

    def __init__(
        self,
        command: str | None = None,
        device: str | None = None,
        *,
        device_class: str | None = None,
        method: str | None = None,
        repeats: int | None = None,
    ):
        self.command = command or "python -m bench " + " ".join(sys.argv[1:])
        self.device = device or machine()
        self.device_class = device_class
        self.method = method
        self.repeats = repeats
        self.rows = []
        self.slugs = {}

    def add(self, benchmark: str, figure: str, value: str, ratio: str = "", slug=None):
        """Prints and keeps one row; `slug` (default: the figure) names it in its id."""
        if slug is not None:
            self.slugs[len(self.rows)] = slug
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

    def records(self) -> list:
        """The rows as `bench/results.jsonl` objects (see `bench.report`)."""
        from bench.report import method_of

        device_class = self.device_class or machine_class()
        records = []
        for index, (benchmark, figure, value, ratio_text, _, device, date) in enumerate(self.rows):
            records.append(
                {
                    "id": row_id(benchmark, self.slugs.get(index, figure), device_class, date),
                    "benchmark": benchmark,
                    "command": self.command,
                    "machine": device,
                    "machine_class": device_class,
                    "date": date,
                    "method": self.method or method_of(benchmark),
                    "figures": {"figure": figure, "value": value, "ratio": ratio_text},
                    "n": self.repeats,
                    "source": "python -m bench --record",
                    "superseded_by": None,
                }
            )
        return records

    def record(self, path: str = RESULTS):
        """Appends the rows to `bench/results.jsonl`; a row it repeats is marked superseded.

        A recorded row whose benchmark, figure and machine class match a new
        row gets the new row's id as `superseded_by`. The new rows' ids are made
        unique (`-2`, `-3`, ...) when the same figure is recorded twice a day.
        Run `python -m bench.report` afterwards to regenerate the pages.
        """
        from bench.report import read_rows, write_rows

        existing = read_rows(path) if os.path.exists(path) else []
        taken = {row["id"] for row in existing}
        new = []
        for record in self.records():
            base, number = record["id"], 1
            while record["id"] in taken:
                number += 1
                record["id"] = f"{base}-{number}"
            taken.add(record["id"])
            new.append(record)
        for row in existing:
            for record in new:
                if (
                    row["superseded_by"] is None
                    and row["benchmark"] == record["benchmark"]
                    and row["machine_class"] == record["machine_class"]
                    and row["figures"].get("figure") == record["figures"]["figure"]
                ):
                    row["superseded_by"] = record["id"]
        write_rows(existing + new, path)


def ratio(ours: float, theirs: float) -> str:
    """`2.31x`: ours over theirs."""
    return f"{ours / theirs:.2f}x"


def engine_model(build_model, config, seed: int) -> tuple:
    """`(model, precision)`: built and compiled as `train` does, precision decided for the model.

    Args:
        build_model: a function of no arguments returning an uncompiled model.
        config: the `TrainingConfig` (precision, XLA, optimizer).
        seed: the seed set before the build.
    """
    from multimodal_tf.training import build_under_precision, compile_model, precision_scope

    model, precision = build_under_precision(build_model, config.precision, seed)
    with precision_scope(precision):
        return compile_model(model, config), precision


def alternated_runs(sides: dict, repeats: int, epochs: int) -> dict:
    """Whole training runs of two sides, alternated, and the median of their paired ratios.

    Each repetition runs both sides once, in turn (ours first in odd
    repetitions, the document first in even ones), so a slow spell of the
    machine lands on both. A run is what its user does: a fresh model and
    one `fit` of all its epochs, timed whole (tracing, compiling, iterators
    and epoch ends included), then scored on the test set. A repetition's
    ratio is its two runs' samples/s, ours over the document's; the same is
    reported for the epochs after the first, which traces and compiles. The
    first repetition runs in a process not yet warm (ours goes first there):
    the median, not the range, is the figure.

    Args:
        sides: `{"ours": run, "document": run}`; `run(repeat)` trains a fresh
            model for `epochs` epochs and returns `(samples per epoch,
            (seconds of its fit, seconds of its first epoch), test accuracy)`.
        repeats: repetitions (each runs both sides).
        epochs: epochs of every run.

    Returns:
        A dict: `rate` and `accuracy` (each side's median), `ratios` (one a
        repetition), `summary` (`("1.41x", "median of 5 alternated runs a
        side; ratios 1.36-1.57x")`) and `later_summary` (`"1.52x (1.40-1.60x)"`).

    Raises:
        ValueError: `sides` is not ours and the document's, `repeats` is
            under 1 or `epochs` under 2.
    """
    if set(sides) != {"ours", "document"}:
        raise ValueError(f"`sides` must be 'ours' and 'document', got {sorted(sides)}.")
    if repeats < 1:
        raise ValueError(f"`repeats` must be at least 1, got {repeats}.")
    if epochs < 2:
        raise ValueError(f"`epochs` must be at least 2 (the first traces), got {epochs}.")
    rates = {name: [] for name in sides}
    later = {name: [] for name in sides}
    accuracy = {name: [] for name in sides}
    for repeat in range(repeats):
        names = ("ours", "document") if repeat % 2 == 0 else ("document", "ours")
        for name in names:
            samples, (seconds, first), score = sides[name](repeat)
            rates[name].append(samples * epochs / seconds)
            later[name].append(samples * (epochs - 1) / (seconds - first))
            accuracy[name].append(score)
            print(
                f"repetition {repeat + 1}: {name} {rates[name][-1]:.0f} samples/s "
                f"({later[name][-1]:.0f}/s after the first epoch), test accuracy {score:.4f}",
                flush=True,
            )

    def paired(values):
        return [ours / theirs for ours, theirs in zip(values["ours"], values["document"])]

    ratios, later_ratios = paired(rates), paired(later)
    return {
        "rate": {name: statistics.median(values) for name, values in rates.items()},
        "accuracy": {name: statistics.median(values) for name, values in accuracy.items()},
        "ratios": ratios,
        "summary": (
            f"{statistics.median(ratios):.2f}x",
            f"median of {repeats} alternated runs a side; "
            f"ratios {min(ratios):.2f}-{max(ratios):.2f}x",
        ),
        "later_summary": f"{statistics.median(later_ratios):.2f}x "
        f"({min(later_ratios):.2f}-{max(later_ratios):.2f}x)",
    }
