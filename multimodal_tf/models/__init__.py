"""Model builders: one module per concept of the document.

- `cnn`: §4.1 convolutional image encoder and classifier.
- `lstm`: §4.2 stacked LSTM sequence encoder and classifier.
- `bert`, `bert_tokenizer`: §4.3 BERT text encoder, classifier and in-graph tokeniser.
- `fusion`, `multimodal`: §5.1.1 multimodal fusion with missing-modality handling.
"""

from multimodal_tf.models.bert import (
    MaskedMeanPooling,
    TextEncoderConfig,
    build_bert_classifier,
    build_text_encoder,
    load_bert_backbone,
)
from multimodal_tf.models.bert_tokenizer import WordPieceBertTokenizer, build_text_preprocessor
from multimodal_tf.models.cnn import ImageEncoderConfig, build_cnn_classifier, build_image_encoder
from multimodal_tf.models.fusion import ModalityDropout, ModalityFusion
from multimodal_tf.models.heads import classification_layer, compile_classifier
from multimodal_tf.models.lstm import (
    SequenceEncoderConfig,
    build_lstm_classifier,
    build_sequence_encoder,
)
from multimodal_tf.models.multimodal import MODALITIES, build_multimodal_model, presence_input_name
