"""Runs shared by the tests of `multimodal_tf.runs` (trained once a session)."""

import pytest

from multimodal_tf.cli import main
from tests.helpers import tiny_vowels_run


@pytest.fixture(scope="session")
def vowels_runs(tmp_path_factory, data_dir):
    """A folder holding `float`: a seconds-long tiny LSTM run on JapaneseVowels (sequences)."""
    output = tmp_path_factory.mktemp("vowels-runs")
    assert main(tiny_vowels_run(data_dir, output, test_limit=16, run="float")) == 0
    return output
