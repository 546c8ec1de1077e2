"""Model builders: one module per concept of the document.

- `cnn`: §4.1 convolutional image encoder and classifier.
- `lstm`: §4.2 stacked LSTM sequence encoder and classifier.
- `bert`, `bert_tokenizer`: §4.3 BERT text encoder, classifier and in-graph tokeniser.
- `fusion`, `multimodal`: §5.1.1 multimodal fusion with missing-modality handling.
- `guards`: §5.2.1 the input guard that refuses NaN or infinity and blanks absent modalities.
- `lora`: LoRA fine-tuning of the BERT backbone that survives saving, and its adapter file.
- `quantize`: post-training weight quantization with Keras' `model.quantize` (int8, int4, float8).

The tokeniser (TensorFlow Text, in-graph) is imported on first use, so the
models themselves load on any Keras backend, JAX included.
"""

from multimodal_tf.models.bert import (
    MaskedMeanPooling,
    TextEncoderConfig,
    build_bert_classifier,
    build_text_encoder,
    load_bert_backbone,
)
from multimodal_tf.models.cnn import ImageEncoderConfig, build_cnn_classifier, build_image_encoder
from multimodal_tf.models.fusion import ModalityDropout, ModalityFusion
from multimodal_tf.models.guards import InputGuard
from multimodal_tf.models.heads import (
    classification_layer,
    compile_classifier,
    is_regressor,
    regression_head,
)
from multimodal_tf.models.lora import LoraBackbone, load_lora_weights, save_lora_weights
from multimodal_tf.models.lstm import (
    SequenceEncoderConfig,
    build_lstm_classifier,
    build_sequence_encoder,
)
from multimodal_tf.models.multimodal import MODALITIES, build_multimodal_model, presence_input_name
from multimodal_tf.models.quantize import QuantizationReport, quantize_model

_TOKENIZER_NAMES = ("WordPieceBertTokenizer", "build_text_preprocessor")


def __getattr__(name):
    if name in _TOKENIZER_NAMES:
        from multimodal_tf.models import bert_tokenizer

        return getattr(bert_tokenizer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# fmt: off
__all__ = [
    "MODALITIES", "ImageEncoderConfig", "InputGuard", "LoraBackbone", "MaskedMeanPooling",
    "ModalityDropout",
    "ModalityFusion", "QuantizationReport", "SequenceEncoderConfig", "TextEncoderConfig",
    "WordPieceBertTokenizer", "build_bert_classifier", "build_cnn_classifier",
    "build_image_encoder", "build_lstm_classifier", "build_multimodal_model",
    "build_sequence_encoder", "build_text_encoder", "build_text_preprocessor",
    "classification_layer", "compile_classifier", "is_regressor", "load_bert_backbone",
    "load_lora_weights", "presence_input_name", "quantize_model", "regression_head",
    "save_lora_weights",
]
# fmt: on
