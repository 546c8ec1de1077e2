"""Validation and test rows carved from a training table: stratified by class, seeded."""

from __future__ import annotations

import numpy as np


def carve_splits(
    rows, targets, *, validation=0.1, test=0.1, seed=0, stratify=True, where="", class_names=None
):
    """Splits `rows` into train, validation and test row ids.

    Each class keeps its share in every split (`round(count * fraction)`
    rows of it, at least one row left for training); a split that would be
    empty while its fraction is positive takes one row of the largest class.

    Args:
        rows: the row ids.
        targets: their class ids (or floats, with `stratify=False`).
        validation: the fraction of rows for validation (0: none).
        test: the fraction of rows for test (0: none).
        seed: the shuffling seed; the same seed gives the same rows.
        stratify: whether to keep class proportions (classification).
        where: the file, for messages.
        class_names: the name of each class id, for messages.

    Returns:
        `{"train": [...], "validation": [...], "test": [...]}`, each sorted.

    Raises:
        ValueError: a fraction is out of range, or a class has fewer than 2
            rows (it cannot be both trained on and validated on).

    Example:
    >>> splits = carve_splits(list(range(10)), [0] * 5 + [1] * 5, validation=0.2, test=0.2)
    >>> [len(splits[name]) for name in ("train", "validation", "test")]
    [6, 2, 2]
    """
    for name, fraction in (("validation_split", validation), ("test_split", test)):
        if not 0.0 <= fraction < 1.0:
            raise ValueError(f"`{name}` must be in [0, 1), got {fraction!r}.")
    if validation + test >= 1.0:
        raise ValueError(
            f"`validation_split` + `test_split` must be under 1, got {validation + test:g}."
        )
    rows = np.asarray(rows)
    rng = np.random.default_rng(seed)
    groups = {}
    if stratify:
        for row, target in zip(rows, targets):
            groups.setdefault(target, []).append(row)
    else:
        groups[None] = list(rows)
    if stratify and (validation or test):
        for target, members in sorted(groups.items()):
            if len(members) < 2:
                name = class_names[target] if class_names else target
                raise ValueError(
                    f"{where}: class {name!r} has {len(members)} row (row {members[0]}); "
                    "stratified validation and test splits need at least 2 rows per class."
                )
    result = {"train": [], "validation": [], "test": []}
    for _target, members in sorted(groups.items(), key=lambda item: str(item[0])):
        members = list(rng.permutation(members))
        count = len(members)
        take_validation = round(count * validation)
        take_test = round(count * test)
        while take_validation + take_test >= count and (take_validation or take_test):
            if take_test >= take_validation:
                take_test -= 1
            else:
                take_validation -= 1
        result["validation"] += members[:take_validation]
        result["test"] += members[take_validation : take_validation + take_test]
        result["train"] += members[take_validation + take_test :]
    for name, fraction in (("validation", validation), ("test", test)):
        if fraction and not result[name] and len(result["train"]) > 1:
            result[name].append(result["train"].pop(int(rng.integers(len(result["train"])))))
    return {name: sorted(int(row) for row in ids) for name, ids in result.items()}
