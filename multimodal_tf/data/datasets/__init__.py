"""One TFDS builder per real source; importing this package registers them.

| name | builder | source |
|---|---|---|
| `fashion_mnist` | TFDS' (`LocalFashionMNIST` feeds it files) | Debian `dataset-fashion-mnist` |
| `rt_snippets` | `rt_snippets.RtSnippets` | vaderSentiment 3.3.2 sdist |
| `japanese_vowels` | `japanese_vowels.JapaneseVowels` | aeon 1.6.0 wheel |
| `twemoji_categories` | `twemoji_categories.TwemojiCategories` | npm emoji-datasource-twitter |
"""

from multimodal_tf.choices import DATASETS
from multimodal_tf.data.datasets.fashion_mnist import (
    FASHION_MNIST_CLASSES,
    LocalFashionMNIST,
    load_fashion_mnist_arrays,
    prepare_fashion_mnist,
)
from multimodal_tf.data.datasets.japanese_vowels import JapaneseVowels
from multimodal_tf.data.datasets.rt_snippets import RtSnippets
from multimodal_tf.data.datasets.twemoji_categories import TwemojiCategories

__all__ = [
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "JapaneseVowels",
    "LocalFashionMNIST",
    "RtSnippets",
    "TwemojiCategories",
    "load_fashion_mnist_arrays",
    "prepare_fashion_mnist",
]
