"""In-model image augmentation: shifts, zoom, rotation, contrast, brightness and mirroring.

The layers are Keras' own preprocessing layers, placed at the front of the
image encoder, so they are part of the saved model and do nothing at
inference (`evaluate`, `predict`, `export` and `explain` see the image as
given). By default none flips the image: a mirrored "left arrow" or a
mirrored flag is another emoji, and a mirrored letter is no letter;
`horizontal_flip=True` mirrors half the images, for classes that are
mirror-symmetric (Fashion-MNIST's clothes). The defaults are chosen
for emoji artwork (a centred drawing on a plain background, which the fill
extends); `docs/results.md` has the validation runs that chose them.

Keras' random affine layers have no XLA kernel on TensorFlow, so a model
that augments trains without XLA (`training.compiling.resolve_jit_compile`
sees their `supports_jit = False`).
"""

from __future__ import annotations

import dataclasses

import keras

from multimodal_tf.validation import check_choice, check_config, check_rate

FILL_MODES = ("nearest", "constant", "reflect", "wrap")


@dataclasses.dataclass(frozen=True)
class ImageAugmentation:
    """What the image encoder randomises in training; a factor of 0 leaves that out.

    Args:
        translation: largest shift, as a fraction of the height and width.
        zoom: largest zoom in or out, as a fraction of the size.
        rotation: largest rotation, as a fraction of a full turn (0.03 is
            about 11 degrees).
        contrast: largest contrast change (a factor in `[1 - c, 1 + c]`).
        brightness: largest brightness shift, as a fraction of the
            `[0, 1]` pixel range.
        fill_mode: how pixels shifted in from outside are filled:
            `"nearest"` repeats the border (the background of emoji and of
            Fashion-MNIST alike), `"constant"` uses `fill_value`.
        fill_value: the fill of `fill_mode="constant"` (1.0 is white).
        horizontal_flip: whether to mirror half the images left to right.
        seed: seed of the random draws (None: Keras' global seed).

    Example:
    >>> [type(layer).__name__ for layer in augmentation_layers(ImageAugmentation())]
    ['RandomTranslation', 'RandomZoom', 'RandomContrast', 'RandomBrightness']
    """

    translation: float = 0.1
    zoom: float = 0.1
    rotation: float = 0.0
    contrast: float = 0.2
    brightness: float = 0.1
    fill_mode: str = "nearest"
    fill_value: float = 0.0
    horizontal_flip: bool = False
    seed: int | None = None

    def __post_init__(self):
        for name in ("translation", "zoom", "rotation", "contrast", "brightness"):
            check_rate(name, getattr(self, name))
        check_choice("fill_mode", self.fill_mode, FILL_MODES)
        if not isinstance(self.fill_value, (int, float)) or not 0 <= self.fill_value <= 1:
            raise ValueError(
                f"`fill_value` must be a pixel value in [0, 1], got {self.fill_value!r}."
            )
        if not isinstance(self.horizontal_flip, bool):
            raise ValueError(
                f"`horizontal_flip` must be True or False, got {self.horizontal_flip!r}."
            )

    @classmethod
    def from_value(cls, value) -> ImageAugmentation | None:
        """An `ImageAugmentation`, a dict of its fields, True (the defaults), None or False."""
        if value is False:
            return None
        if value is True:
            return cls()
        return check_config("augmentation", cls, value, also="True")


def augmentation_layers(augmentation: ImageAugmentation, dtype=None) -> list:
    """The augmentation's Keras layers, in order (none for a factor of 0).

    Args:
        augmentation: what to randomise.
        dtype: the dtype policy of every layer (None: Keras' global policy).

    Returns:
        A list of new Keras preprocessing layers, active only in training.
    """
    fill = {
        "fill_mode": augmentation.fill_mode,
        "fill_value": augmentation.fill_value,
        "dtype": dtype,
    }
    seed = augmentation.seed
    layers = []
    if augmentation.horizontal_flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed, dtype=dtype))
    if augmentation.translation:
        factor = augmentation.translation
        layers.append(keras.layers.RandomTranslation(factor, factor, seed=seed, **fill))
    if augmentation.zoom:
        layers.append(keras.layers.RandomZoom(augmentation.zoom, seed=seed, **fill))
    if augmentation.rotation:
        layers.append(keras.layers.RandomRotation(augmentation.rotation, seed=seed, **fill))
    if augmentation.contrast:
        layers.append(
            keras.layers.RandomContrast(
                augmentation.contrast, value_range=(0, 1), seed=seed, dtype=dtype
            )
        )
    if augmentation.brightness:
        layers.append(
            keras.layers.RandomBrightness(
                augmentation.brightness, value_range=(0, 1), seed=seed, dtype=dtype
            )
        )
    return layers
