"""`console`: progress lines for files and terminals, and Keras' verbosity chosen the same way."""

import io

from multimodal_tf.console import Progress, progress_verbosity


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def run(stream, seconds_per_step, steps=10, **options):
    """`steps` updates, `seconds_per_step` apart on a fake clock; what `stream` received."""
    clock = Clock()
    progress = Progress("caching", total=steps, unit="texts", stream=stream, **options)
    progress._clock, progress.started = clock, clock.now
    progress._shown = clock.now - progress.every + progress.after
    with progress:
        for _ in range(steps):
            clock.now += seconds_per_step
            progress.update()
    return stream.getvalue()


def test_off_a_terminal_a_line_every_ten_seconds_and_one_at_the_end():
    lines = run(io.StringIO(), 3.0).splitlines()  # 30 s of work
    assert lines == [
        "caching: 1/10 texts (10%) in 3.0 s",
        "caching: 5/10 texts (50%) in 15.0 s",
        "caching: 9/10 texts (90%) in 27.0 s",
        "caching: 10/10 texts (100%) in 30.0 s",
    ]
    assert "\r" not in run(io.StringIO(), 3.0)
    # the last step due a line anyway: the final count is written once, not twice
    assert run(io.StringIO(), 12.0, steps=2).splitlines() == [
        "caching: 1/2 texts (50%) in 12.0 s",
        "caching: 2/2 texts (100%) in 24.0 s",
    ]


def test_short_work_and_verbose_0_print_nothing():
    assert run(io.StringIO(), 0.1) == ""  # a second in all: under `after_seconds`
    assert run(io.StringIO(), 3.0, verbose=0) == ""
    assert run(Terminal(), 3.0, verbose=0) == ""


def test_on_a_terminal_one_rewritten_line():
    written = run(Terminal(), 1.0)
    assert written.startswith("\rcaching: ") and "1/10" not in written  # after 2 s
    assert "\rcaching: 5/10 texts (50%) in 5.0 s\r" in written  # then every step a second apart
    assert written.endswith("\rcaching: 10/10 texts (100%) in 10.0 s\n")
    assert written.count("\n") == 1


def test_unknown_totals_count_up():
    stream = io.StringIO()
    progress = Progress("scoring", unit="rows", stream=stream, after_seconds=0)
    progress.update(5)
    assert stream.getvalue().startswith("scoring: 5 rows in ")


def test_keras_verbosity_follows_the_stream_unless_set():
    assert progress_verbosity(stream=Terminal()) == 1
    assert progress_verbosity(stream=io.StringIO()) == 2
    assert progress_verbosity("auto", stream=io.StringIO()) == 2
    assert progress_verbosity(0, stream=Terminal()) == 0
