"""In-model image augmentation: geometry, colour, greyscale and erasing.

The layers are Keras' own preprocessing layers, placed at the front of the
image encoder, so they are part of the saved model and do nothing at
inference (`evaluate`, `predict`, `export` and `explain` see the image as
given). By default none flips the image: a mirrored "left arrow" or a
mirrored flag is another emoji, and a mirrored letter is no letter;
`horizontal_flip=True` mirrors half the images, for classes that are
mirror-symmetric (Fashion-MNIST's clothes). The defaults are chosen
for emoji artwork (a centred drawing on a plain background, which the fill
extends); `docs/results.md` has the validation runs that chose them.

The style options (hue, saturation, greyscale, erasing) are off by default.
They aim at another artist's drawing of the same object: other colours,
other shading, missing details. Hue, saturation and greyscale need RGB
images; erasing fills a random rectangle with noise (Zhong et al., 2017).

Keras' random affine layers have no XLA kernel on TensorFlow, so a model
that augments trains without XLA (`training.compiling.resolve_jit_compile`
sees their `supports_jit = False`).
"""

from __future__ import annotations

import dataclasses

import keras

from multimodal_tf.validation import check_choice, check_config, check_rate

FILL_MODES = ("nearest", "constant", "reflect", "wrap")
GEOMETRY = ("translation", "zoom", "rotation")
COLOUR = ("hue", "saturation", "grayscale")  # the fields that need RGB images


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
        hue: largest hue shift, as a fraction of half the colour wheel
            (0.99: nearly any hue); RGB images only.
        saturation: largest saturation change: the saturation is scaled by
            a factor between `(1 - s) / (1 + s)` and `(1 + s) / (1 - s)`;
            RGB images only.
        grayscale: chance of turning an image grey (kept as three
            channels); RGB images only.
        erasing: chance of filling a random rectangle of the image with
            noise (each side 14-57% of the image's).
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
    hue: float = 0.0
    saturation: float = 0.0
    grayscale: float = 0.0
    erasing: float = 0.0
    seed: int | None = None

    def __post_init__(self):
        for name in (*GEOMETRY, "contrast", "brightness", *COLOUR, "erasing"):
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

    def check_channels(self, channels: int) -> None:
        """Fails when a colour option is set for images that are not RGB."""
        colour = [f"`{name}`" for name in COLOUR if getattr(self, name)]
        if colour and channels != 3:
            raise ValueError(
                f"augmentation {', '.join(colour)} changes colours and needs RGB images (3 "
                f"channels), got {channels} channel(s); set it to 0 for these images."
            )


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
    return layers + style_layers(augmentation, dtype)


def style_layers(augmentation: ImageAugmentation, dtype=None) -> list:
    """The layers of the style options: hue, saturation, greyscale, then erasing."""
    seed, unit = augmentation.seed, {"value_range": (0, 1), "dtype": dtype}
    layers = []
    if augmentation.hue:
        layers.append(keras.layers.RandomHue(augmentation.hue, seed=seed, **unit))
    if augmentation.saturation:  # Keras' factor f scales the saturation by f / (1 - f)
        half = augmentation.saturation / 2
        layers.append(keras.layers.RandomSaturation((0.5 - half, 0.5 + half), seed=seed, **unit))
    if augmentation.grayscale:
        layers.append(keras.layers.RandomGrayscale(augmentation.grayscale, seed=seed, dtype=dtype))
    if augmentation.erasing:  # a pair: this chance for every image, not one drawn below it
        chance = (augmentation.erasing, augmentation.erasing)
        policy = (
            keras.dtype_policies.get(dtype) if dtype is not None else keras.config.dtype_policy()
        )
        if policy.compute_dtype == "float16":  # Keras' erasing builds a float16 `range`, which
            unit["dtype"] = "float32"  # TensorFlow has no kernel for; float32 costs little here
        layers.append(keras.layers.RandomErasing(chance, seed=seed, **unit))
    return layers
