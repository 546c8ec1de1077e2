"""`twemoji_categories`: paired emoji artwork and names → Unicode category.

Each example pairs a 64×64 Twemoji image with the emoji's text (its Unicode
name and short names, plus the skin tone for skin-tone variants), and the
label is its Unicode emoji category (Smileys & Emotion, People & Body,
Animals & Nature, Food & Drink, Travel & Places, Activities, Objects,
Symbols, Flags). The 5 skin-tone swatches of the "Component" category are
left out. Source: the npm package `emoji-datasource-twitter` 16.0.0
(`emoji.json` and `img/twitter/64/*.png`), read from its `.tgz` in memory.

Images are composited over a white background (RGB). The splits hold out
*by emoji*, never by row: an emoji and all its skin-tone variants go to
`test` when the first byte of the SHA-256 of its base code point sequence
(e.g. "1F385") is below 52 (≈ 20% of the emoji), to `validation` when it is
52 to 89 (≈ 15%), and to `train` otherwise, so the same emoji never appears
in two splits. Every choice of a model (epochs, fusion, dropout,
augmentation, learning rate, the tuner's objective) is made on
`validation`; `test` is scored once.

`test_facebook` holds the `test` emoji drawn by another artist: the same
texts and labels with the artwork of the npm package
`emoji-datasource-facebook` 16.0.0, for the emoji that package draws. It
measures how far an image model generalises beyond the artwork it trained
on.

Licence: Twemoji artwork © Twitter, Inc. and other contributors, CC-BY 4.0
(https://creativecommons.org/licenses/by/4.0/); emoji-data metadata © Cal
Henderson, MIT. The `test_facebook` artwork is © Facebook (Meta), redistributed
by emoji-data under its terms; it is used here for evaluation only.
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
VALIDATION_BYTE_BELOW = 90  # 52 to 89 of 256: about 15% of the emoji
ARTWORK = {"emoji": "twitter", "emoji_facebook": "facebook"}  # source -> emoji-data's image set
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


def emoji_split(base_code: str) -> str:
    """The fixed hold-out rule, by the emoji's base code and never by row.

    Returns:
        `"test"`, `"validation"` or `"train"`.

    Example:
    >>> emoji_split("1F385"), emoji_split("1F600")
    ('train', 'train')
    """
    first_byte = hashlib.sha256(base_code.encode("ascii")).digest()[0]
    if first_byte < TEST_BYTE_BELOW:
        return "test"
    return "validation" if first_byte < VALIDATION_BYTE_BELOW else "train"


def is_test_emoji(base_code: str) -> bool:
    """Whether the emoji is held out for `test` (see `emoji_split`)."""
    return emoji_split(base_code) == "test"


def emoji_records(entries: list, artwork: str = "twitter") -> list:
    """One record per image: `(image file, text, category, base code)`.

    Args:
        entries: emoji-data's `emoji.json`.
        artwork: the image set whose drawings are listed (`"twitter"`,
            `"facebook"`, ...): emoji it does not draw are left out.
    """
    has_image = f"has_img_{artwork}"
    records = []
    for entry in entries:
        if entry.get("category") not in CATEGORIES:
            continue
        if entry.get(has_image):
            records.append((entry["image"], emoji_text(entry), entry["category"], entry["unified"]))
        for tones, variant in sorted((entry.get("skin_variations") or {}).items()):
            if variant.get(has_image):
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


def read_package(path: str, artwork: str = "twitter") -> tuple:
    """Reads `emoji.json` and the 64px images from an emoji-datasource npm tarball, in memory.

    Args:
        path: the `.tgz` of `emoji-datasource-<artwork>`.
        artwork: which image set it holds (`"twitter"`, `"facebook"`, ...).

    Returns:
        `(entries, {image file name: PNG bytes})`.
    """
    folder = f"package/img/{artwork}/64/"
    members = read_tar_members(
        path, lambda name: name == "package/emoji.json" or name.startswith(folder)
    )
    if "package/emoji.json" not in members:
        raise ValueError(f"{path} has no package/emoji.json: not emoji-datasource-{artwork}.")
    entries = json.loads(members.pop("package/emoji.json"))
    images = {name[len(folder) :]: data for name, data in members.items()}
    if not images:
        raise ValueError(f"{path} has no {folder} images: not emoji-datasource-{artwork}.")
    return entries, images


class TwemojiCategories(PackagedSourceBuilder):
    """Paired emoji image + name → emoji category, held out by emoji."""

    SOURCE = "emoji"
    OTHER_SOURCES = ("emoji_facebook",)
    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {  # noqa: RUF012
        "1.0.0": "First release: emoji-datasource-twitter 16.0.0, 9 categories.",
        "2.0.0": "A `validation` split carved from train by emoji (about 15% of the emoji; "
        "`test` unchanged), and `test_facebook`: the test emoji in emoji-datasource-facebook "
        "16.0.0's artwork.",
    }

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
            citation=(
                "Twemoji (https://github.com/twitter/twemoji), CC-BY 4.0; "
                "emoji-data by Cal Henderson."
            ),
            license="Images CC-BY 4.0 (Twemoji, Twitter, Inc. and contributors), but for "
            "test_facebook's (© Facebook, as redistributed by emoji-data, for evaluation); "
            "metadata MIT.",
        )

    def _split_generators(self, dl_manager):
        entries, images = read_package(self.source_file, ARTWORK[self.SOURCE])
        records = emoji_records(entries, ARTWORK[self.SOURCE])
        splits = {
            split: self._generate_examples(
                [record for record in records if emoji_split(record[3]) == split], images
            )
            for split in ("train", "validation", "test")
        }
        other = "emoji_facebook"
        entries, images = read_package(self.other_source_file(other), ARTWORK[other])
        splits[f"test_{ARTWORK[other]}"] = self._generate_examples(
            [
                record
                for record in emoji_records(entries, ARTWORK[other])
                if is_test_emoji(record[3])
            ],
            images,
        )
        return splits

    def _generate_examples(self, records, images):
        for image_name, text, category, base in records:
            if image_name not in images:
                raise ValueError(f"emoji {base}: image {image_name} missing from the package.")
            try:
                image = composite_on_white(images[image_name])
            except Exception as error:  # PIL raises many types for corrupt files
                raise ValueError(f"emoji {base}: image {image_name} is corrupt: {error}") from None
            yield image_name, {"image": image, "text": text, "label": category, "emoji": base}
