"""Our in-graph tokeniser must give the ids transformers' BertTokenizer gives."""

import json

import numpy as np
import pytest
import tensorflow as tf
import transformers

from multimodal_tf import build_text_preprocessor
from multimodal_tf.pretrained import minilm_checkpoint

SENTENCES = [
    "Héllo, wörld! Café naïve résumé.",  # accents
    "The movie's plot was un-be-lievable!!! (really?)",  # punctuation
    "xqzzyplorth and 🤗 and " + "a" * 120,  # out-of-vocabulary words
    "Don't  stop   believing… ﬁne Ｈｅｌｌｏ",  # compatibility characters
    "İstanbul ß STRASSE Σίσυφος",  # case mapping beyond ASCII
    "深度学习与多模态数据",  # CJK, the document's language
    "tab\there\nnewline x\u200by soft\u00adhyphen",  # control and format characters
    "[CLS] special tokens [SEP] in the text [MASK] [cls]",
    "",
]

TINY_VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "!",
    "'",
    "(",
    ")",
    ",",
    "-",
    ".",
    "?",
    "…",
    "the",
    "movie",
    "s",
    "plot",
    "was",
    "un",
    "be",
    "##lie",
    "##vable",
    "really",
    "hello",
    "world",
    "cafe",
    "naive",
    "resume",
    "don",
    "t",
    "stop",
    "believ",
    "##ing",
    "深",
    "度",
    "x",
    "##y",
    "soft",
    "##hy",
    "##phen",
    "tab",
    "here",
    "new",
    "##line",
    "and",
    "special",
    "tokens",
    "in",
    "text",
    "fine",
    "istanbul",
    "ß",
    "strasse",
    "σ",
    "##ισ",
    "##υφος",
    "a",
]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_vocab")
    (folder / "vocab.txt").write_text("\n".join(TINY_VOCAB) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}))
    return str(folder)


def assert_same_ids(folder, sentences, sequence_length=64):
    ours = build_text_preprocessor(folder, sequence_length=sequence_length)
    theirs = transformers.BertTokenizerFast.from_pretrained(folder)
    assert theirs.vocab_size == ours.tokenizer.vocabulary_size()
    for sentence in sentences:
        expected = theirs(sentence, add_special_tokens=False)["input_ids"]
        assert np.asarray(ours.tokenizer(sentence)).tolist() == expected, sentence
    # The whole preprocessor, batched: [CLS] ... [SEP], padded, with masks.
    batch = ours(sentences)
    expected = theirs(sentences, padding="max_length", truncation=True, max_length=sequence_length)
    np.testing.assert_array_equal(batch["token_ids"], expected["input_ids"])
    np.testing.assert_array_equal(batch["padding_mask"], expected["attention_mask"])
    np.testing.assert_array_equal(batch["segment_ids"], expected["token_type_ids"])


def test_same_ids_as_transformers_on_a_tiny_vocabulary(tiny_checkpoint):
    assert_same_ids(tiny_checkpoint, SENTENCES)


def test_same_ids_as_transformers_on_the_minilm_vocabulary():
    assert_same_ids(minilm_checkpoint(), SENTENCES, sequence_length=16)


def test_works_inside_tf_data(tiny_checkpoint):
    preprocessor = build_text_preprocessor(tiny_checkpoint, sequence_length=12)
    dataset = (
        tf.data.Dataset.from_tensor_slices(SENTENCES)
        .batch(4)
        .map(preprocessor, num_parallel_calls=tf.data.AUTOTUNE)
    )
    batch = next(iter(dataset))
    assert {name: tuple(value.shape) for name, value in batch.items()} == {
        "token_ids": (4, 12),
        "padding_mask": (4, 12),
        "segment_ids": (4, 12),
    }


def test_a_list_vocabulary_and_cased_tokenisation():
    preprocessor = build_text_preprocessor(
        [*TINY_VOCAB, "Hello"], sequence_length=6, lowercase=False
    )
    ids = np.asarray(preprocessor.tokenizer("Hello hello")).tolist()
    assert ids == [len(TINY_VOCAB), TINY_VOCAB.index("hello")]


@pytest.mark.parametrize(
    "arguments, named",
    [
        (dict(vocabulary="/no/such/folder"), "vocabulary"),
        (dict(vocabulary=["a", "b"]), "vocabulary"),
        (dict(vocabulary=42), "vocabulary"),
        (dict(vocabulary=TINY_VOCAB, sequence_length=1), "sequence_length"),
        (dict(vocabulary=TINY_VOCAB, sequence_length=-5), "sequence_length"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(arguments, named):
    with pytest.raises(ValueError, match=f"`{named}`"):
        build_text_preprocessor(**arguments)


def test_non_string_input_is_refused_by_name(tiny_checkpoint):
    preprocessor = build_text_preprocessor(tiny_checkpoint, sequence_length=8)
    with pytest.raises(ValueError, match="must be strings"):
        preprocessor.tokenizer(tf.constant([1, 2]))
