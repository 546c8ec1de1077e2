"""multimodal_tf: Keras 3 / TensorFlow CNN, stacked LSTM, BERT and multimodal fusion classifiers.

The reference implementation of "深度学习与多模态数据" (deep learning and
multimodal data): the document's §4 models, fixed and extended with
multimodal fusion that tolerates missing modalities (§5).

Importing the package loads nothing heavy: each name below is imported on
first use, so `multimodal-tf --help` answers without TensorFlow and the
models load on JAX without TensorFlow Text. `import multimodal_tf.data.datasets`
registers the four TFDS builders, so that a plain `tfds.load(name, data_dir=...)`
prepares any of them offline (the library's own loaders do it for you).

Example:
>>> from multimodal_tf import build_cnn_classifier
>>> build_cnn_classifier().count_params()
93322
"""

import importlib as _importlib
import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

# Each public name and the module that defines it, imported on first use.
_LAZY = {
    "ImageEncoderConfig": "multimodal_tf.models",
    "Schema": "multimodal_tf.data.user",
    "UserData": "multimodal_tf.data.user",
    "SequenceEncoderConfig": "multimodal_tf.models",
    "TextEncoderConfig": "multimodal_tf.models",
    "build_bert_classifier": "multimodal_tf.models",
    "build_cnn_classifier": "multimodal_tf.models",
    "build_image_encoder": "multimodal_tf.models",
    "build_lstm_classifier": "multimodal_tf.models",
    "build_multimodal_model": "multimodal_tf.models",
    "build_sequence_encoder": "multimodal_tf.models",
    "build_text_encoder": "multimodal_tf.models",
    "build_text_preprocessor": "multimodal_tf.models.bert_tokenizer",
    "from_csv": "multimodal_tf.data.user",
    "from_dataframe": "multimodal_tf.data.user",
    "from_directory": "multimodal_tf.data.user",
    "load_model": "multimodal_tf.saving",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted({*globals(), *_LAZY})
