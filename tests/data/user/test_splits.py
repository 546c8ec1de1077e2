"""Validation and test rows carved stratified and seeded, with their row ids."""

import collections

import pytest

from multimodal_tf.data.user.splits import carve_splits

ROWS = list(range(30))
TARGETS = [0] * 15 + [1] * 10 + [2] * 5


def test_the_same_seed_gives_the_same_rows_and_splits_partition_the_rows():
    first = carve_splits(ROWS, TARGETS, validation=0.2, test=0.2, seed=3)
    assert first == carve_splits(ROWS, TARGETS, validation=0.2, test=0.2, seed=3)
    assert first != carve_splits(ROWS, TARGETS, validation=0.2, test=0.2, seed=4)
    together = first["train"] + first["validation"] + first["test"]
    assert sorted(together) == ROWS


def test_class_proportions_are_kept():
    splits = carve_splits(ROWS, TARGETS, validation=0.2, test=0.2, seed=0)
    for name, expected in (("validation", {0: 3, 1: 2, 2: 1}), ("test", {0: 3, 1: 2, 2: 1})):
        assert collections.Counter(TARGETS[row] for row in splits[name]) == expected
    assert collections.Counter(TARGETS[row] for row in splits["train"]) == {0: 9, 1: 6, 2: 3}


def test_a_class_with_one_row_is_a_clear_error():
    with pytest.raises(ValueError, match=r"data\.csv: class 2 has 1 row \(row 4\)"):
        carve_splits(range(5), [0, 0, 1, 1, 2], where="data.csv")
    assert carve_splits(range(5), [0, 0, 1, 1, 2], validation=0, test=0)["train"] == [0, 1, 2, 3, 4]


def test_every_class_keeps_a_training_row_and_small_splits_are_not_empty():
    splits = carve_splits(range(6), [0, 0, 1, 1, 2, 2], validation=0.1, test=0.1)
    assert {row // 2 for row in splits["train"]} == {0, 1, 2}
    assert len(splits["validation"]) == 1 and len(splits["test"]) == 1


def test_regression_splits_are_not_stratified():
    splits = carve_splits(range(20), [i / 3 for i in range(20)], stratify=False, seed=1)
    assert [len(splits[name]) for name in ("train", "validation", "test")] == [16, 2, 2]


@pytest.mark.parametrize(
    "validation, test, match",
    [(1.0, 0.1, "`validation_split`"), (0.1, -0.1, "`test_split`"), (0.6, 0.5, "under 1")],
)
def test_bad_fractions(validation, test, match):
    with pytest.raises(ValueError, match=match):
        carve_splits(ROWS, TARGETS, validation=validation, test=test)
