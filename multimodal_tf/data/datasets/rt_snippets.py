"""`rt_snippets`: 10,605 Rotten-Tomatoes sentences with human sentiment ratings.

Hutto & Gilbert (ICWSM 2014) had every sentence of Pang & Lee's movie-review
snippets rated by 10 independent people on a -4..+4 scale; the mean rating
ships in the vaderSentiment 3.3.2 sdist
(`additional_resources/hutto_ICWSM_2014.tar.gz`,
`movieReviewSnippets_GroundTruth.txt`). We read the nested archives in
memory, without extracting anything to disk.

Task: binary sentiment, label `positive` when the mean rating is > 0 and
`negative` when < 0; the 37 sentences rated exactly 0.0 are dropped, leaving
10,568. Split (fixed): a sentence whose id (1-based line number in the
file) is divisible by 5 is in `test` (2,111 sentences: 1,059 negative,
1,052 positive), every other one in `train` (8,457).
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from multimodal_tf.data.archives import read_tar_member
from multimodal_tf.data.sources import PackagedSourceBuilder

SDIST_MEMBER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
SNIPPETS_MEMBER = "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
TEST_EVERY = 5

_CITATION = """\
@inproceedings{hutto2014vader,
  title={VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text},
  author={Hutto, C.J. and Gilbert, Eric},
  booktitle={Eighth International AAAI Conference on Weblogs and Social Media (ICWSM-14)},
  year={2014}
}
@inproceedings{pang2005seeing,
  title={Seeing stars: Exploiting class relationships for sentiment categorization with respect to rating scales},
  author={Pang, Bo and Lee, Lillian},
  booktitle={Proceedings of ACL},
  year={2005}
}"""  # noqa: E501 (a BibTeX title is one line)


def parse_snippets(text: str) -> list:
    """Parses `id<TAB>mean rating<TAB>sentence` lines.

    Returns:
        A list of `(id, rating, sentence)`.

    Raises:
        ValueError: a line that does not have that form, named by number.
    """
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            if len(fields) != 3:
                raise ValueError(f"{len(fields)} tab-separated fields instead of 3")
            rows.append((int(fields[0]), float(fields[1]), fields[2].strip()))
        except ValueError as error:
            raise ValueError(f"{SNIPPETS_MEMBER} line {number} is malformed: {error}") from None
    return rows


def read_snippets(sdist_path: str) -> list:
    """Reads the rated sentences out of the vaderSentiment sdist, in memory."""
    inner = read_tar_member(sdist_path, SDIST_MEMBER)
    return parse_snippets(read_tar_member(inner, SNIPPETS_MEMBER).decode("utf-8"))


class RtSnippets(PackagedSourceBuilder):
    """Rotten-Tomatoes snippets with human sentiment ratings, as binary sentiment."""

    SOURCE = "rt_snippets"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release: binary labels, id % 5 == 0 is test."}  # noqa: RUF012

    def _info(self):
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "text": tfds.features.Text(),
                    "label": tfds.features.ClassLabel(names=["negative", "positive"]),
                    "rating": tfds.features.Scalar(
                        dtype=np.float32, doc="mean human rating, -4..+4"
                    ),
                    "id": tfds.features.Scalar(dtype=np.int32),
                }
            ),
            supervised_keys=("text", "label"),
            homepage="https://github.com/cjhutto/vaderSentiment",
            citation=_CITATION,
            license="MIT (vaderSentiment); sentences from Pang & Lee's movie-review data",
        )

    def _split_generators(self, dl_manager):
        rows = read_snippets(self.source_file)
        rows = [row for row in rows if row[1] != 0.0]
        return {
            "train": self._generate_examples([row for row in rows if row[0] % TEST_EVERY]),
            "test": self._generate_examples([row for row in rows if not row[0] % TEST_EVERY]),
        }

    def _generate_examples(self, rows):
        for snippet_id, rating, sentence in rows:
            yield (
                snippet_id,
                {
                    "text": sentence,
                    "label": int(rating > 0),
                    "rating": rating,
                    "id": snippet_id,
                },
            )
