"""multimodal_tf: Keras 3 / TensorFlow CNN, stacked LSTM, BERT and multimodal fusion classifiers.

The reference implementation of "深度学习与多模态数据" (deep learning and
multimodal data): the document's §4 models, fixed and extended with
multimodal fusion that tolerates missing modalities (§5).

Example:
>>> from multimodal_tf import build_cnn_classifier
>>> build_cnn_classifier().count_params()
93322
"""

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import importlib.util as _importlib_util

from multimodal_tf.models import (
    ImageEncoderConfig,
    SequenceEncoderConfig,
    TextEncoderConfig,
    build_bert_classifier,
    build_cnn_classifier,
    build_image_encoder,
    build_lstm_classifier,
    build_multimodal_model,
    build_sequence_encoder,
    build_text_encoder,
)
from multimodal_tf.saving import load_model

if _importlib_util.find_spec("tensorflow_datasets") and _importlib_util.find_spec("tensorflow"):
    # Registers the four TFDS builders, so that a plain
    # `tfds.load(name, data_dir=...)` prepares any of them offline.
    import multimodal_tf.data.datasets  # noqa: F401

__version__ = "0.1.0"


def __getattr__(name):
    # The in-graph tokeniser needs TensorFlow Text: imported on first use so
    # that the models also load on JAX.
    if name == "build_text_preprocessor":
        from multimodal_tf.models.bert_tokenizer import build_text_preprocessor

        return build_text_preprocessor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# fmt: off
__all__ = [
    "ImageEncoderConfig", "SequenceEncoderConfig", "TextEncoderConfig", "build_bert_classifier",
    "build_cnn_classifier", "build_image_encoder", "build_lstm_classifier", "build_multimodal_model",
    "build_sequence_encoder", "build_text_encoder", "build_text_preprocessor", "load_model",
]
# fmt: on
