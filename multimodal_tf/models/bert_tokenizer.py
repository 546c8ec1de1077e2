"""In-graph WordPiece tokenisation that matches Hugging Face's BertTokenizer.

The document (§4.3) tokenises with `transformers.BertTokenizer`. We tokenise
inside the TensorFlow graph instead (keras-hub's `BertTokenizer`, built on
tensorflow-text), so `tf.data` pipelines and exported models take raw
strings. keras-hub's own lower-casing differs from Hugging Face's on a few
inputs: it applies NFKC case folding (so "…" becomes "..."), keeps format
characters such as zero-width spaces, and, with `lowercase=True`, keeps
accents unless asked. :class:`WordPieceBertTokenizer` reproduces Hugging
Face's `BasicTokenizer` steps in the graph, so both give identical ids (the
test suite checks accents, punctuation, CJK, out-of-vocabulary words,
control characters and special tokens written in the text).
"""

from __future__ import annotations

import json
import os

import keras
import keras_hub
import tensorflow as tf
import tensorflow_text as tf_text

from multimodal_tf.validation import check_positive_int

SPECIAL_TOKENS = ("[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]")


@keras.saving.register_keras_serializable(package="multimodal_tf")
class WordPieceBertTokenizer(keras_hub.models.BertTokenizer):
    """keras-hub's `BertTokenizer` with Hugging Face's text normalisation.

    Before WordPiece it (1) drops control and format characters and maps
    tabs/newlines to spaces, (2) with `lowercase=True`, lower-cases
    everything but the special tokens with Unicode (not NFKC) lower-casing
    and strips accents, and (3) keeps special tokens such as "[SEP]" written
    in the text as single tokens, as Hugging Face does.

    Args:
        vocabulary: path of a `vocab.txt` file or a list of tokens.
        lowercase: whether the checkpoint is uncased.
        **kwargs: passed to `keras_hub.models.BertTokenizer`.

    Example:
    >>> import os
    >>> import numpy as np
    >>> from multimodal_tf.pretrained import minilm_checkpoint
    >>> vocabulary = os.path.join(minilm_checkpoint(), "vocab.txt")
    >>> tokenizer = WordPieceBertTokenizer(vocabulary=vocabulary, lowercase=True)
    >>> np.asarray(tokenizer("Héllo wörld…")).tolist()  # same ids as transformers.BertTokenizer
    [7592, 2088, 1529]
    """

    def __init__(self, vocabulary=None, lowercase=False, **kwargs):
        kwargs.pop("strip_accents", None)
        kwargs.pop("special_tokens_in_strings", None)
        super().__init__(
            vocabulary=vocabulary,
            lowercase=False,
            strip_accents=lowercase,
            special_tokens_in_strings=True,
            **kwargs,
        )
        self.hf_lowercase = lowercase

    def tokenize(self, inputs):
        text = tf.convert_to_tensor(inputs)
        if text.dtype != tf.string:
            raise ValueError(
                f"`inputs` of the text tokenizer must be strings, got dtype {text.dtype.name}."
            )
        text = tf.strings.regex_replace(text, r"[\t\n\r]", " ")
        text = tf.strings.regex_replace(text, r"[\p{C}\x{FFFD}]", "")
        if self.hf_lowercase:
            text = self._lowercase_outside_special_tokens(text)
        return super().tokenize(text)

    def _lowercase_outside_special_tokens(self, text):
        if text.shape.rank == 0:
            return self._lowercase_outside_special_tokens(text[tf.newaxis])[0]
        pattern = "|".join(tf_text_escape(token) for token in SPECIAL_TOKENS)
        pieces = tf_text.regex_split(text, pattern, keep_delim_regex_pattern=pattern)
        is_special = tf.ragged.map_flat_values(tf.strings.regex_full_match, pieces, pattern)
        lowered = tf.ragged.map_flat_values(tf.strings.lower, pieces, encoding="utf-8")
        merged = tf.ragged.map_flat_values(tf.where, is_special, pieces, lowered)
        return tf.strings.reduce_join(merged, axis=-1)

    def get_config(self):
        config = super().get_config()
        config["lowercase"] = self.hf_lowercase
        return config


def tf_text_escape(token: str) -> str:
    """Escapes a literal token for an RE2 pattern."""
    return "".join("\\" + ch if not ch.isalnum() else ch for ch in token)


def _checkpoint_lowercase(folder: str) -> bool:
    """Reads `do_lower_case` from a Hugging Face checkpoint folder."""
    config_path = os.path.join(folder, "tokenizer_config.json")
    if os.path.exists(config_path):
        with open(config_path, encoding="utf-8") as config_file:
            return bool(json.load(config_file).get("do_lower_case", True))
    return True


def build_text_preprocessor(vocabulary, sequence_length: int = 128, lowercase: bool | None = None):
    """Builds the raw-string → BERT-inputs preprocessor, in the graph.

    Args:
        vocabulary: a Hugging Face checkpoint folder holding `vocab.txt`, the
            path of a `vocab.txt` file, or a list of tokens that contains
            "[CLS]", "[SEP]", "[PAD]", "[MASK]" and "[UNK]".
        sequence_length: length of the padded/truncated token sequences.
        lowercase: whether to lower-case; None reads `do_lower_case` from the
            checkpoint's `tokenizer_config.json` (True when it is absent).

    Returns:
        A `keras_hub.models.BertTextClassifierPreprocessor` mapping a batch
        of strings to `{"token_ids", "padding_mask", "segment_ids"}`,
        usable inside `tf.data.Dataset.map`.

    Example:
    >>> from multimodal_tf.pretrained import minilm_checkpoint
    >>> preprocessor = build_text_preprocessor(minilm_checkpoint(), sequence_length=64)
    >>> token_ids = preprocessor(["a great film"])["token_ids"]
    >>> tuple(token_ids.shape), token_ids.numpy()[0, :6].tolist()  # [CLS] a great film [SEP] [PAD]
    ((1, 64), [101, 1037, 2307, 2143, 102, 0])
    """
    sequence_length = check_positive_int("sequence_length", sequence_length)
    if sequence_length < 2:
        raise ValueError(
            "`sequence_length` must be at least 2 (room for [CLS] and [SEP]), "
            f"got {sequence_length}."
        )
    if isinstance(vocabulary, (str, os.PathLike)):
        path = os.fspath(vocabulary)
        if os.path.isdir(path):
            if lowercase is None:
                lowercase = _checkpoint_lowercase(path)
            path = os.path.join(path, "vocab.txt")
        if not os.path.isfile(path):
            raise ValueError(
                f"`vocabulary` must be a checkpoint folder containing vocab.txt, a vocab.txt "
                f"file or a list of tokens; no file at {path!r}."
            )
        vocabulary = path
    elif isinstance(vocabulary, (list, tuple)):
        missing = [token for token in SPECIAL_TOKENS if token not in vocabulary]
        if missing:
            raise ValueError(f"`vocabulary` lacks the special tokens {missing}.")
        vocabulary = list(vocabulary)
    else:
        raise ValueError(
            "`vocabulary` must be a checkpoint folder, a vocab.txt path or a list of tokens, "
            f"got {type(vocabulary).__name__}."
        )
    tokenizer = WordPieceBertTokenizer(
        vocabulary=vocabulary, lowercase=True if lowercase is None else bool(lowercase)
    )
    return keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length
    )
