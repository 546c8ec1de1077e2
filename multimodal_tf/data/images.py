"""Decoding image files to arrays, the one way every part of the library does it."""

from __future__ import annotations

import numpy as np


def read_image_file(path, channels: int = 3, size=None) -> np.ndarray:
    """Reads an image file as uint8 `(h, w, channels)`; transparency over white.

    Args:
        path: the image file (PNG, JPEG, GIF, BMP, WebP), or a file object.
        channels: 3 (RGB) or 1 (grey).
        size: `(height, width)` to resize to, or None to keep the size.

    Raises:
        ValueError: the file is missing, is not a readable image, or has
            more pixels than PIL's decompression-bomb guard allows
            (`PIL.Image.MAX_IMAGE_PIXELS` x 2, about 179 million).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = image.convert("RGBA")
            if size is not None:
                image = image.resize((size[1], size[0]))
            rgba = np.asarray(image, np.float32)
    except Image.DecompressionBombError as error:
        raise ValueError(
            f"image file {path!r} is too large to decode safely ({error}); scale it down first."
        ) from None
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise ValueError(f"cannot read image file {path!r}: {error}") from None
    alpha = rgba[..., 3:] / 255.0
    rgb = rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)
    if channels == 1:
        rgb = rgb.mean(axis=-1, keepdims=True)
    return np.round(rgb).astype(np.uint8)
