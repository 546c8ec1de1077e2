"""Benchmark 1: the document's §4.1 code vs our engine, same CNN, same data.

The document's side is its code as printed (Sequential, `model.fit` on
numpy arrays, default settings, batch 64). Our side builds the same CNN with
`build_cnn_classifier`, compiles it with `multimodal_tf.training` (precision
and XLA chosen for this machine) and feeds it the tf.data pipeline
(`image_dataset`: uint8 in memory, scaled in parallel, prefetched). The two
train in alternation, one epoch each, so both see the same machine noise;
samples/s are medians over epochs (the first, which traces, left out), and
both models are scored on the 10,000 test images at the end.
"""

from __future__ import annotations

import time


def document_model():
    """§4.1 of the document, verbatim (its imports and layers)."""
    from tensorflow.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from tensorflow.keras.models import Sequential

    model = Sequential()
    model.add(Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(MaxPooling2D((2, 2)))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D((2, 2)))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(Flatten())
    model.add(Dense(64, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def run(rows, epochs: int = 10, limit: int | None = None, seed: int = 0):
    """Trains both for `epochs` epochs in alternation and adds the rows."""
    import keras

    from bench.common import paired_rates
    from multimodal_tf.data.datasets.fashion_mnist import load_fashion_mnist_arrays
    from multimodal_tf.data.pipeline import image_dataset
    from multimodal_tf.models import build_cnn_classifier
    from multimodal_tf.training import (
        TrainingConfig,
        build_under_precision,
        compile_model,
        precision_scope,
    )

    images, labels = load_fashion_mnist_arrays("train")
    test_images, test_labels = load_fashion_mnist_arrays("test")
    if limit:
        images, labels = images[:limit], labels[:limit]
    # The document leaves x_train to the reader; this is the usual scaling.
    x_train, y_train = images.astype("float32") / 255.0, labels
    keras.utils.set_random_seed(seed)
    theirs = document_model()
    config = TrainingConfig(epochs=epochs, verbose=0, seed=seed)
    # Built as `train` builds: precision "auto" decided for this model on this machine.
    model, precision = build_under_precision(build_cnn_classifier, config.precision, seed)
    with precision_scope(precision):
        ours = compile_model(model, config)
    train_data = image_dataset(images, labels, batch_size=64, shuffle=True, seed=seed)

    timings = {"document": [], "ours": []}
    for epoch in range(epochs):
        started = time.perf_counter()
        theirs.fit(x_train, y_train, epochs=1, batch_size=64, verbose=0)
        timings["document"].append(len(images) / (time.perf_counter() - started))
        started = time.perf_counter()
        ours.fit(train_data, initial_epoch=epoch, epochs=epoch + 1, verbose=0, shuffle=False)
        timings["ours"].append(len(images) / (time.perf_counter() - started))
        print(
            f"epoch {epoch + 1}: document {timings['document'][-1]:.0f}/s, ours {timings['ours'][-1]:.0f}/s",
            flush=True,
        )
    rate, (paired, spread) = paired_rates(timings)
    accuracy = {
        "document": theirs.evaluate(test_images.astype("float32") / 255.0, test_labels, verbose=0)[
            1
        ],
        "ours": ours.evaluate(image_dataset(test_images, test_labels, batch_size=256), verbose=0)[
            1
        ],
    }
    rows.add(
        "document-vs-us",
        f"CNN training samples/s, Fashion-MNIST, {epochs} epochs x {len(images)}, batch 64 "
        f"(ours: tf.data, {precision}, XLA {'on' if ours.jit_compile else 'off'})",
        f"ours {rate['ours']:.0f}/s vs document {rate['document']:.0f}/s ({spread}); test accuracy ours "
        f"{accuracy['ours']:.4f} vs document {accuracy['document']:.4f}",
        paired,
    )
    return rate, accuracy


def document_lstm(sequence_length, num_features):
    """§4.2 of the document, verbatim (its imports and layers; 9 speakers, not 10)."""
    from tensorflow.keras.layers import LSTM, Dense
    from tensorflow.keras.models import Sequential

    model = Sequential()
    model.add(LSTM(64, input_shape=(sequence_length, num_features), return_sequences=True))
    model.add(LSTM(64))
    model.add(Dense(9, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def run_lstm(rows, epochs: int = 60, seed: int = 0):
    """§4.2 on JapaneseVowels: the document's code vs our LSTM through the engine.

    The document's model needs fixed-length input, so its sequences are
    zero-padded to the longest (29 steps) and it reads the padding as data;
    ours masks the padding and standardises in the model (`multimodal-tf
    train --dataset japanese_vowels` builds it). Both use batch 64 as the
    document does, alternate epoch by epoch, and are scored on the official
    test split.
    """
    import keras
    import numpy as np

    from bench.common import paired_rates
    from multimodal_tf.data.datasets.japanese_vowels import read_split
    from multimodal_tf.models import build_lstm_classifier
    from multimodal_tf.training import (
        TrainingConfig,
        build_under_precision,
        compile_model,
        precision_scope,
    )

    def padded(split):
        sequences, labels = read_split(split)
        array = np.zeros((len(sequences), 29, 12), "float32")
        for row, sequence in enumerate(sequences):
            array[row, : len(sequence)] = sequence
        return array, np.array([int(label) - 1 for label in labels])

    x_train, y_train = padded("train")
    x_test, y_test = padded("test")
    steps = np.concatenate([sequence[np.any(sequence != 0, axis=1)] for sequence in x_train])
    keras.utils.set_random_seed(seed)
    theirs = document_lstm(29, 12)
    config = TrainingConfig(epochs=epochs, verbose=0, seed=seed)
    model, precision = build_under_precision(  # as `train` builds it: "auto" decided per model
        lambda: build_lstm_classifier(
            None, 12, 9, feature_mean=steps.mean(0), feature_variance=steps.var(0)
        ),
        config.precision,
        seed,
    )
    with precision_scope(precision):
        ours = compile_model(model, config)
    timings = {"document": [], "ours": []}
    for epoch in range(epochs):
        for name, model in (("document", theirs), ("ours", ours)):
            started = time.perf_counter()
            model.fit(
                x_train, y_train, batch_size=64, initial_epoch=epoch, epochs=epoch + 1, verbose=0
            )
            timings[name].append(len(x_train) / (time.perf_counter() - started))
    rate, (paired, spread) = paired_rates(timings)
    accuracy = {
        name: model.evaluate(x_test, y_test, verbose=0)[1]
        for name, model in (("document", theirs), ("ours", ours))
    }
    rows.add(
        "document-vs-us-lstm",
        f"stacked LSTM training samples/s, JapaneseVowels, {epochs} epochs x {len(x_train)}, batch 64 "
        f"(ours: masking + standardisation, {precision}, XLA {'on' if ours.jit_compile else 'off'})",
        f"ours {rate['ours']:.0f}/s vs document {rate['document']:.0f}/s ({spread}); test accuracy ours "
        f"{accuracy['ours']:.4f} vs document {accuracy['document']:.4f}",
        paired,
    )
