"""`twemoji_categories`: paired emoji artwork and names → Unicode category.

Each example pairs a 64×64 Twemoji image with the emoji's text (its Unicode
name and short names, plus the skin tone for skin-tone variants), and the
label is its Unicode emoji category (Smileys & Emotion, People & Body,
Animals & Nature, Food & Drink, Travel & Places, Activities, Objects,
Symbols, Flags). The 5 skin-tone swatches of the "Component" category are
left out. Source: the npm package `emoji-datasource-twitter` 16.0.0
(`emoji.json` and `img/twitter/64/*.png`), read from its `.tgz` in memory.

Images are composited over a white background (RGB). The split holds out
*by emoji*: an emoji and all its skin-tone variants go to `test` when the
first byte of the SHA-256 of its base code point sequence (e.g. "1F385") is
below 52 (≈ 20%), so the same emoji never appears in both splits.

Licence: Twemoji artwork © Twitter, Inc. and other contributors, CC-BY 4.0
(https://creativecommons.org/licenses/by/4.0/); emoji-data metadata © Cal
Henderson, MIT.
"""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import tensorflow_datasets as tfds

from multimodal_tf.data.archives import read_tar_members
from multimodal_tf.data.images import read_image_file
from multimodal_tf.data.sources import PackagedSourceBuilder

CATEGORIES = [
    "Smileys & Emotion",
    "People & Body",
    "Animals & Nature",
    "Food & Drink",
    "Travel & Places",
    "Activities",
    "Objects",
    "Symbols",
    "Flags",
]
IMAGE_SIZE = 64
TEST_BYTE_BELOW = 52  # of 256: about 20% of the emoji
_IMAGE_FOLDER = "package/img/twitter/64/"
_SKIN_TONES = {
    "1F3FB": "light",
    "1F3FC": "medium-light",
    "1F3FD": "medium",
    "1F3FE": "medium-dark",
    "1F3FF": "dark",
}


def emoji_text(entry: dict, tones: str | None = None) -> str:
    """The text paired with an emoji: name, short names and skin tone(s)."""
    text = f"{entry['name'].lower()} ({', '.join(entry.get('short_names') or [])})"
    if tones:
        names = [_SKIN_TONES.get(code, code) for code in tones.split("-")]
        unique = list(dict.fromkeys(names))
        text += f", {' and '.join(unique)} skin tone"
    return text


def is_test_emoji(base_code: str) -> bool:
    """The fixed hold-out rule: by the emoji's base code, never by row."""
    return hashlib.sha256(base_code.encode("ascii")).digest()[0] < TEST_BYTE_BELOW


def emoji_records(entries: list) -> list:
    """One record per image: `(image file, text, category, base code)`."""
    records = []
    for entry in entries:
        if entry.get("category") not in CATEGORIES:
            continue
        if entry.get("has_img_twitter"):
            records.append((entry["image"], emoji_text(entry), entry["category"], entry["unified"]))
        for tones, variant in sorted((entry.get("skin_variations") or {}).items()):
            if variant.get("has_img_twitter"):
                records.append(
                    (
                        variant["image"],
                        emoji_text(entry, tones),
                        entry["category"],
                        entry["unified"],
                    )
                )
    return records


def composite_on_white(png: bytes) -> np.ndarray:
    """Decodes a PNG (palette or RGBA) to RGB uint8 over a white background."""
    image = read_image_file(io.BytesIO(png))
    if image.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected a {IMAGE_SIZE}x{IMAGE_SIZE} image, got {image.shape[:2]}")
    return image


def read_package(path: str) -> tuple:
    """Reads `emoji.json` and the 64px images from the npm tarball, in memory."""
    members = read_tar_members(
        path, lambda name: name == "package/emoji.json" or name.startswith(_IMAGE_FOLDER)
    )
    if "package/emoji.json" not in members:
        raise ValueError(f"{path} has no package/emoji.json: not emoji-datasource-twitter.")
    entries = json.loads(members.pop("package/emoji.json"))
    images = {name[len(_IMAGE_FOLDER) :]: data for name, data in members.items()}
    return entries, images


class TwemojiCategories(PackagedSourceBuilder):
    """Paired emoji image + name → emoji category, held out by emoji."""

    SOURCE = "emoji"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release: emoji-datasource-twitter 16.0.0, 9 categories."}  # noqa: RUF012

    def _info(self):
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(IMAGE_SIZE, IMAGE_SIZE, 3)),
                    "text": tfds.features.Text(),
                    "label": tfds.features.ClassLabel(names=CATEGORIES),
                    "emoji": tfds.features.Text(doc="base code point sequence, e.g. 1F385"),
                }
            ),
            supervised_keys=None,
            homepage="https://github.com/iamcal/emoji-data",
            citation="Twemoji (https://github.com/twitter/twemoji), CC-BY 4.0; emoji-data by Cal Henderson.",
            license="Images CC-BY 4.0 (Twemoji, Twitter, Inc. and contributors); metadata MIT.",
        )

    def _split_generators(self, dl_manager):
        entries, images = read_package(self.source_file)
        records = emoji_records(entries)
        return {
            "train": self._generate_examples(
                [r for r in records if not is_test_emoji(r[3])], images
            ),
            "test": self._generate_examples([r for r in records if is_test_emoji(r[3])], images),
        }

    def _generate_examples(self, records, images):
        for image_name, text, category, base in records:
            if image_name not in images:
                raise ValueError(f"emoji {base}: image {image_name} missing from the package.")
            try:
                image = composite_on_white(images[image_name])
            except Exception as error:  # PIL raises many types for corrupt files
                raise ValueError(f"emoji {base}: image {image_name} is corrupt: {error}") from None
            yield image_name, {"image": image, "text": text, "label": category, "emoji": base}
