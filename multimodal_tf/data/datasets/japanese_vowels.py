"""`japanese_vowels`: the UEA multivariate time-series classification set.

Nine Japanese male speakers each uttered the vowels /ae/ repeatedly; every
utterance is a sequence of 7 to 29 frames of 12 LPC cepstrum coefficients,
and the task is to tell the speaker (classes "1".."9"). The official split
has 270 training and 370 test utterances (Kudo, Toyama & Shimbo 1999; UCI
Machine Learning Repository; UEA archive, Bagnall et al. 2018).

The `.ts` files are read straight from the aeon 1.6.0 wheel (a zip), or from
an installed `aeon` package; nothing is extracted to disk.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import tensorflow_datasets as tfds

from multimodal_tf.data.archives import read_zip_member
from multimodal_tf.data.sources import PackagedSourceBuilder, ensure_source

NUM_FEATURES = 12
CLASS_NAMES = [str(index) for index in range(1, 10)]
_MEMBER = "aeon/datasets/data/JapaneseVowels/JapaneseVowels_{split}.ts"
_OFFICIAL_COUNTS = {"train": 270, "test": 370}

_CITATION = """\
@article{kudo1999multidimensional,
  title={Multidimensional curve classification using passing-through regions},
  author={Kudo, Mineichi and Toyama, Jun and Shimbo, Masaru},
  journal={Pattern Recognition Letters},
  volume={20}, number={11-13}, pages={1103--1111}, year={1999}
}
@article{bagnall2018uea,
  title={The UEA multivariate time series classification archive, 2018},
  author={Bagnall, Anthony and Dau, Hoang Anh and Lines, Jason and Flynn, Michael and
          Large, James and Bostrom, Aaron and Southam, Paul and Keogh, Eamonn},
  journal={arXiv preprint arXiv:1811.00075}, year={2018}
}"""


def parse_ts(text: str, name: str = "<.ts>") -> tuple:
    """Parses a multivariate `.ts` file (sktime/aeon format) with class labels.

    Args:
        text: the file's content.
        name: the file's name, for error messages.

    Returns:
        `(sequences, labels)`: a list of float32 arrays `(time, dimensions)`
        and a list of label strings.

    Raises:
        ValueError: a malformed case, named by its line number.
    """
    sequences, labels, in_data = [], [], False
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower() == "@data"
            continue
        *dimensions, label = line.split(":")
        try:
            series = [np.array(d.split(","), dtype=np.float32) for d in dimensions]
            if not series or len({len(s) for s in series}) != 1:
                raise ValueError("dimensions of different lengths")
            sequence = np.stack(series, axis=1)
            if not np.all(np.isfinite(sequence)):
                raise ValueError("missing or non-finite values")
        except ValueError as error:
            raise ValueError(f"{name} line {number} is malformed: {error}") from None
        sequences.append(sequence)
        labels.append(label.strip())
    if not in_data:
        raise ValueError(f"{name} has no @data section.")
    return sequences, labels


def installed_aeon_file(member: str) -> str | None:
    """The path of an archive member inside an installed `aeon` package, or None."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(spec.submodule_search_locations[0], *member.split("/")[1:])
    return path if os.path.isfile(path) else None


def read_split(split: str, source: str | None = None) -> tuple:
    """Reads one official split: from `source` (the aeon wheel), an installed aeon, or the
    fetched wheel."""
    member = _MEMBER.format(split=split.upper())
    if source is None:
        installed = installed_aeon_file(member)
        if installed is not None:
            with open(installed, encoding="utf-8") as ts_file:
                return parse_ts(ts_file.read(), installed)
        source = ensure_source("japanese_vowels")
    return parse_ts(read_zip_member(source, member).decode("utf-8"), member)


class JapaneseVowels(PackagedSourceBuilder):
    """Variable-length 12-dimensional speech sequences, 9 speakers."""

    SOURCE = "japanese_vowels"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release: the official UEA train/test split."}  # noqa: RUF012

    def _info(self):
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "sequence": tfds.features.Tensor(shape=(None, NUM_FEATURES), dtype=np.float32),
                    "label": tfds.features.ClassLabel(names=CLASS_NAMES),
                }
            ),
            supervised_keys=("sequence", "label"),
            homepage="https://timeseriesclassification.com/description.php?Dataset=JapaneseVowels",
            citation=_CITATION,
            license="CC BY 4.0 (UCI Machine Learning Repository)",
        )

    def _split_generators(self, dl_manager):
        return {split: self._generate_examples(split) for split in ("train", "test")}

    def _generate_examples(self, split):
        sequences, labels = read_split(split, self._source)
        if len(sequences) != _OFFICIAL_COUNTS[split]:
            raise ValueError(
                f"JapaneseVowels {split} has {len(sequences)} cases, "
                f"expected {_OFFICIAL_COUNTS[split]}."
            )
        for index, (sequence, label) in enumerate(zip(sequences, labels)):
            if label not in CLASS_NAMES:
                raise ValueError(
                    f"JapaneseVowels {split} case {index} has unknown label {label!r}."
                )
            yield index, {"sequence": sequence, "label": label}
