"""A user run's splits as its model takes them: streamed rows, presence flags, tokens,
the tabular encoding, and rows losing a modality (`evaluation.run_split` for user runs)."""

from __future__ import annotations

from multimodal_tf.runs.user_data import load_user, tabular_encoding, user_splits


def user_split(
    config,
    split: str,
    preprocessor,
    *,
    absent=(),
    missing_rate=0.0,
    shuffle=False,
    missing_seed=None,
):
    """One split of the run's data as the model's inputs (`evaluation.run_split` for user runs).

    Args:
        config: the run's `RunConfig`.
        split: `"train"`, `"validation"` or `"test"`.
        preprocessor: the text tokeniser, or None for raw `"text"`.
        absent: modalities marked absent in every row.
        missing_rate: the chance each row loses one modality (seeded by `missing_seed`, by
            default `config.seed`).
        shuffle: shuffle each epoch (training).

    Returns:
        A batched `(features, class id)` `tf.data.Dataset`.
    """
    loaded = load_user(config)
    name = split.split("[")[0]
    if name not in loaded.rows or not loaded.rows[name]:
        raise ValueError(
            f"`split` {split!r} is not a split of {config.data['train']}; it has: "
            f"{', '.join(user_splits(config))}."
        )
    limit = config.limit if name == "train" else config.test_limit
    dataset = loaded.split(
        name,
        batch_size=config.batch_size,
        shuffle=shuffle,
        seed=config.seed,
        limit=limit,
        include_tabular="tabular" in config.modalities,
    )
    return model_batches(
        dataset,
        config,
        preprocessor,
        absent=absent,
        missing_rate=missing_rate,
        missing_seed=missing_seed,
    )


def model_batches(dataset, config, preprocessor, *, absent=(), missing_rate=0.0, missing_seed=None):
    """Streamed user batches as the run's model takes them: its modalities, flags and tokens."""
    import tensorflow as tf

    from multimodal_tf.data.batches import AUTOTUNE, prefetched, tokenise

    modalities, presence = config.modalities, config.kind == "multimodal"
    unknown = sorted(set(absent) - set(modalities))
    if unknown:
        raise ValueError(f"`absent` names {unknown}, but the run has only {modalities}.")
    seed = config.seed if missing_seed is None else missing_seed
    encoding = tabular_encoding(config) if "tabular" in modalities else None

    def shape(index, features, target):
        if encoding is not None:
            features = dict(features)
            features["tabular"], features["tabular_present"] = encoding.encode(features)
        rows = tf.shape(target)[0]
        keep = {name: tf.ones([rows]) * (0.0 if name in absent else 1.0) for name in modalities}
        if missing_rate and len(modalities) > 1:
            key = tf.stack([tf.constant(seed, tf.int64), index])
            draw = tf.random.stateless_uniform([rows, 2], seed=key)
            which = tf.cast(draw[:, 1] * len(modalities), tf.int32)
            for position, name in enumerate(modalities):
                dropped = (draw[:, 0] < missing_rate) & (which == position)
                keep[name] = keep[name] * (1.0 - tf.cast(dropped, tf.float32))
        inputs = {}
        for name in modalities:
            present = features[f"{name}_present"] * keep[name]
            if name == "image":
                inputs["image"] = features["image"] * present[:, None, None, None]
            elif name == "sequence":
                inputs["sequence"] = tf.where(present[:, None, None] > 0, features["sequence"], 0.0)
            elif name == "tabular":
                inputs["tabular"] = features["tabular"] * present[:, None]
            else:
                inputs["text"] = tf.where(present > 0, features["text"], "")
            if presence:
                inputs[f"{name}_present"] = present
        if preprocessor is not None and "text" in inputs:
            inputs = tokenise(inputs, preprocessor)
        if not presence and modalities[0] != "text":
            return inputs[modalities[0]], target
        return inputs, target

    batches = dataset.enumerate().map(
        lambda index, batch: shape(index, *batch), num_parallel_calls=AUTOTUNE
    )
    return prefetched(batches)
