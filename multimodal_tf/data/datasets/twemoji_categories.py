"""`twemoji_categories`: paired emoji artwork and names → Unicode category.

Each example pairs a 64×64 emoji image with the emoji's text (its Unicode
name and short names, plus the skin tone for skin-tone variants), and the
label is its Unicode emoji category (Smileys & Emotion, People & Body,
Animals & Nature, Food & Drink, Travel & Places, Activities, Objects,
Symbols, Flags). The 5 skin-tone swatches of the "Component" category are
left out. Sources: the npm package `emoji-datasource-twitter` 16.0.0
(`emoji.json` and `img/twitter/64/*.png`), read from its `.tgz` in memory.

`train` and `validation` hold each of their emoji in three artists' styles
(the `artist` feature): Twemoji, Google's Noto (`emoji-datasource-google`
16.0.0) and OpenMoji (the npm package `openmoji` 17.0.0, SVGs rendered at
64px), so an image model learns the objects more than one drawing style.
`test` holds the test emoji in Twemoji's style only.

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
(https://creativecommons.org/licenses/by/4.0/); Noto Emoji artwork © Google,
Apache-2.0; OpenMoji artwork © the OpenMoji project (https://openmoji.org),
CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/): the rendered
OpenMoji images in this dataset are under CC BY-SA 4.0 too; emoji-data
metadata © Cal Henderson, MIT. The `test_facebook` artwork is © Facebook
(Meta), redistributed by emoji-data under its terms; it is used here for
evaluation only.
"""

from __future__ import annotations

import hashlib

import tensorflow_datasets as tfds

from multimodal_tf.data.datasets.emoji_artwork import (
    IMAGE_SIZE,
    decode_artwork,
    read_openmoji,
    read_package,
)
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
TEST_BYTE_BELOW = 52  # of 256: about 20% of the emoji
VALIDATION_BYTE_BELOW = 90  # 52 to 89 of 256: about 15% of the emoji
# artist -> the source holding its drawings. The first three draw train and validation.
ARTISTS = {
    "twitter": "emoji",
    "google": "emoji_google",
    "openmoji": "openmoji",
    "facebook": "emoji_facebook",
}
TRAINING_ARTISTS = ("twitter", "google", "openmoji")
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


def emoji_records(entries: list, artwork: str | None = "twitter") -> list:
    """One record per image: `(image file, text, category, base code)`.

    Args:
        entries: emoji-data's `emoji.json`.
        artwork: the emoji-data image set whose drawings are listed
            (`"twitter"`, `"facebook"`, ...): emoji it does not draw are left
            out; None lists every emoji and skin-tone variant.
    """
    has_image = f"has_img_{artwork}"
    records = []
    for entry in entries:
        if entry.get("category") not in CATEGORIES:
            continue
        if artwork is None or entry.get(has_image):
            records.append((entry["image"], emoji_text(entry), entry["category"], entry["unified"]))
        for tones, variant in sorted((entry.get("skin_variations") or {}).items()):
            if artwork is None or variant.get(has_image):
                records.append(
                    (
                        variant["image"],
                        emoji_text(entry, tones),
                        entry["category"],
                        entry["unified"],
                    )
                )
    return records


class TwemojiCategories(PackagedSourceBuilder):
    """Paired emoji image + name → emoji category, held out by emoji."""

    SOURCE = "emoji"
    OTHER_SOURCES = ("emoji_google", "openmoji", "emoji_facebook")
    VERSION = tfds.core.Version("3.0.0")
    VALIDATION_HELD_OUT_SINCE = "2.0.0"  # 3.0.0 added styles, not emoji, to the splits
    RELEASE_NOTES = {  # noqa: RUF012
        "1.0.0": "First release: emoji-datasource-twitter 16.0.0, 9 categories.",
        "2.0.0": "A `validation` split carved from train by emoji (about 15% of the emoji; "
        "`test` unchanged), and `test_facebook`: the test emoji in emoji-datasource-facebook "
        "16.0.0's artwork.",
        "3.0.0": "`train` and `validation` hold each emoji in three artists' styles (Twemoji, "
        "Noto from emoji-datasource-google 16.0.0, OpenMoji 17.0.0), and an `artist` feature; "
        "the splits' emoji, `test` and `test_facebook` are unchanged.",
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
                    "artist": tfds.features.Text(doc=f"whose drawing: one of {list(ARTISTS)}"),
                }
            ),
            supervised_keys=None,
            homepage="https://github.com/iamcal/emoji-data",
            citation=(
                "Twemoji (https://github.com/twitter/twemoji), CC-BY 4.0; Noto Emoji "
                "(https://github.com/googlefonts/noto-emoji), Apache-2.0; OpenMoji "
                "(https://openmoji.org), CC BY-SA 4.0; emoji-data by Cal Henderson."
            ),
            license="Images: Twemoji's CC-BY 4.0 (Twitter, Inc. and contributors), Noto's "
            "Apache-2.0 (Google), OpenMoji's CC BY-SA 4.0 (the OpenMoji project); "
            "test_facebook's © Facebook, as redistributed by emoji-data, for evaluation. "
            "Metadata MIT.",
        )

    def _split_generators(self, dl_manager):
        views = {}  # artist -> (records, {image file name: PNG or SVG bytes})
        entries = None  # emoji-data's list, which names OpenMoji's files too
        for artist, source in ARTISTS.items():
            path = self.source_file if source == self.SOURCE else self.other_source_file(source)
            if artist == "openmoji":
                views[artist] = (emoji_records(entries, None), read_openmoji(path, entries))
            else:
                entries, images = read_package(path, artist)
                views[artist] = (emoji_records(entries, artist), images)

        def split(name, artists):
            return self._generate_examples(
                [
                    (artist, record, views[artist][1])
                    for artist in artists
                    for record in views[artist][0]
                    if emoji_split(record[3]) == name
                ]
            )

        return {
            "train": split("train", TRAINING_ARTISTS),
            "validation": split("validation", TRAINING_ARTISTS),
            "test": split("test", ("twitter",)),
            "test_facebook": split("test", ("facebook",)),
        }

    def _generate_examples(self, records):
        for artist, (image_name, text, category, base), images in records:
            if image_name not in images:
                if artist == "openmoji":
                    continue  # an emoji OpenMoji does not draw
                raise ValueError(f"emoji {base}: image {image_name} missing from the package.")
            try:
                image = decode_artwork(images[image_name])
            except Exception as error:  # PIL and resvg raise many types for corrupt files
                raise ValueError(
                    f"emoji {base}: {artist} image {image_name} is corrupt: {error}"
                ) from None
            example = {"image": image, "text": text, "label": category, "emoji": base}
            yield f"{artist}/{image_name}", {**example, "artist": artist}
