"""Benchmark 1: the document's §4.1 and §4.2 code vs our engine, same models, same data.

The document's side is its code as printed (Sequential, `model.fit` on
numpy arrays, default settings, batch 64). Our side builds the same model
with our builder, compiles it with `multimodal_tf.training` (precision and
XLA chosen for this machine and model) and feeds it our tf.data pipeline
(`image_dataset` for the CNN: uint8 in memory, scaled in parallel,
prefetched; both end in `data.batches.prefetched`).

Each side trains as its user would: a fresh model, one `fit` of all the
epochs, timed whole. The sides alternate run by run (`alternated_runs`), and
the figure is the median of the repetitions' paired ratios with their range,
next to the median test accuracy of each side. Timing one epoch per `fit`
call, as this benchmark once did, measured Keras' per-call set-up and an
iterator's teardown wait instead of training (see RESULTS.md).
"""

from __future__ import annotations

import time


def timed_fit(model, *args, **kwargs) -> tuple:
    """`(seconds, seconds of the first epoch)` of one `model.fit(*args, **kwargs)`."""
    import keras

    ends = []
    marker = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda *_: ends.append(time.perf_counter())
    )
    started = time.perf_counter()
    model.fit(*args, verbose=0, callbacks=[marker], **kwargs)
    return time.perf_counter() - started, ends[0] - started


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


def run(rows, epochs: int = 10, limit: int | None = None, seed: int = 0, repeats: int = 5):
    """Trains both `repeats` times for `epochs` epochs, alternated, and adds the row."""
    import keras

    from bench.common import alternated_runs, engine_model
    from multimodal_tf.data.datasets.fashion_mnist import load_fashion_mnist_arrays
    from multimodal_tf.data.pipeline import image_dataset
    from multimodal_tf.models import build_cnn_classifier
    from multimodal_tf.training import TrainingConfig

    images, labels = load_fashion_mnist_arrays("train")
    test_images, test_labels = load_fashion_mnist_arrays("test")
    if limit:
        images, labels = images[:limit], labels[:limit]
    # The document leaves x_train to the reader; this is the usual scaling.
    x_train, x_test = images.astype("float32") / 255.0, test_images.astype("float32") / 255.0
    config = TrainingConfig(epochs=epochs, verbose=0, seed=seed)
    built = {}

    def document(repeat):
        keras.utils.set_random_seed(seed + repeat)
        model = document_model()
        seconds = timed_fit(model, x_train, labels, epochs=epochs, batch_size=64)
        return len(images), seconds, model.evaluate(x_test, test_labels, verbose=0)[1]

    def ours(repeat):
        # Built as `train` builds: precision "auto" decided for this model on this machine.
        model, built["precision"] = engine_model(build_cnn_classifier, config, seed + repeat)
        built["xla"] = bool(model.jit_compile)
        train = image_dataset(images, labels, batch_size=64, shuffle=True, seed=seed + repeat)
        seconds = timed_fit(model, train, epochs=epochs)
        test = image_dataset(test_images, test_labels, batch_size=256)
        return len(images), seconds, model.evaluate(test, verbose=0)[1]

    result = alternated_runs({"ours": ours, "document": document}, repeats, epochs)
    add_row(
        rows,
        "document-vs-us",
        f"CNN training samples/s, Fashion-MNIST, {epochs} epochs x {len(images)}, batch 64 "
        f"(ours: tf.data, {built['precision']}, XLA {'on' if built['xla'] else 'off'})",
        result,
    )
    return result["rate"], result["accuracy"]


def add_row(rows, benchmark, figure, result):
    """The row of an `alternated_runs` result."""
    rate, accuracy = result["rate"], result["accuracy"]
    paired, spread = result["summary"]
    rows.add(
        benchmark,
        figure,
        f"ours {rate['ours']:.0f}/s vs document {rate['document']:.0f}/s ({spread}; after the "
        "first "
        f"epoch, which traces and compiles: {result['later_summary']}); test accuracy ours "
        f"{accuracy['ours']:.4f} vs document {accuracy['document']:.4f}",
        paired,
        slug="",  # one row per benchmark and machine class: the id needs no figure
    )


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


def run_lstm(rows, epochs: int = 60, seed: int = 0, repeats: int = 5):
    """§4.2 on JapaneseVowels: the document's code vs our LSTM through the engine.

    The document's model needs fixed-length input, so its sequences are
    zero-padded to the longest (29 steps) and it reads the padding as data;
    ours masks the padding and standardises in the model (`multimodal-tf
    train --dataset japanese_vowels` builds it) and reads a shuffled,
    prefetched tf.data pipeline. Both use batch 64 as the document does and
    are scored on the official test split.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from bench.common import alternated_runs, engine_model
    from multimodal_tf.data.batches import prefetched
    from multimodal_tf.data.datasets.japanese_vowels import read_split
    from multimodal_tf.models import build_lstm_classifier
    from multimodal_tf.training import TrainingConfig

    def padded(split):
        sequences, labels = read_split(split)
        array = np.zeros((len(sequences), 29, 12), "float32")
        for row, sequence in enumerate(sequences):
            array[row, : len(sequence)] = sequence
        return array, np.array([int(label) - 1 for label in labels])

    x_train, y_train = padded("train")
    x_test, y_test = padded("test")
    steps = np.concatenate([sequence[np.any(sequence != 0, axis=1)] for sequence in x_train])
    config = TrainingConfig(epochs=epochs, verbose=0, seed=seed)
    built = {}

    def document(repeat):
        keras.utils.set_random_seed(seed + repeat)
        model = document_lstm(29, 12)
        seconds = timed_fit(model, x_train, y_train, epochs=epochs, batch_size=64)
        return len(x_train), seconds, model.evaluate(x_test, y_test, verbose=0)[1]

    def ours(repeat):
        model, built["precision"] = engine_model(  # as `train` builds it
            lambda: build_lstm_classifier(
                None, 12, 9, feature_mean=steps.mean(0), feature_variance=steps.var(0)
            ),
            config,
            seed + repeat,
        )
        built["xla"] = bool(model.jit_compile)
        train = prefetched(
            tf.data.Dataset.from_tensor_slices((x_train, y_train))
            .shuffle(len(x_train), seed=seed + repeat)
            .batch(64)
        )
        seconds = timed_fit(model, train, epochs=epochs)
        return len(x_train), seconds, model.evaluate(x_test, y_test, verbose=0)[1]

    result = alternated_runs({"ours": ours, "document": document}, repeats, epochs)
    add_row(
        rows,
        "document-vs-us-lstm",
        f"stacked LSTM training samples/s, JapaneseVowels, {epochs} epochs x {len(x_train)}, batch "
        "64 "
        f"(ours: masking + standardisation, tf.data, {built['precision']}, "
        f"XLA {'on' if built['xla'] else 'off'})",
        result,
    )
    return result["rate"], result["accuracy"]
