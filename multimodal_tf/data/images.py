"""Decoding image files to arrays, the one way every part of the library does it.

:func:`decode_image` is the faithful decoder that `csv_to_dataset`, the
streamed user-data pipelines (`multimodal_tf.data.user`) and `predict` share:

- 16-bit images (PIL modes `I;16*`, `I`) are scaled to 8 bits (value / 257),
  never clipped;
- palette (`P`, `PA`), grey + alpha (`LA`) and `RGBA` images are composited
  over white, so transparency reads as a white background;
- `CMYK` becomes RGB; 1-bit and 32-bit float images are scaled to [0, 255];
- JPEGs are turned upright by their EXIF orientation;
- GIF (first frame), BMP, WebP, PNG and JPEG all decode the same way.
"""

from __future__ import annotations

import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")


def _rgba(image) -> np.ndarray:
    """An open PIL image as float32 RGBA in [0, 255], whatever its mode."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image, np.float64)
        if mode == "I" and values.max(initial=0) <= 255:
            grey = values  # a 32-bit image holding 8-bit values
        else:
            grey = values / 257.0  # 65535 -> 255: scaled, not clipped
        grey = np.clip(grey, 0.0, 255.0).astype(np.float32)
        return np.stack([grey, grey, grey, np.full_like(grey, 255.0)], axis=-1)
    if mode == "F":
        values = np.nan_to_num(np.asarray(image, np.float32))
        if values.max(initial=0.0) <= 1.0:
            values = values * 255.0
        grey = np.clip(values, 0.0, 255.0)
        return np.stack([grey, grey, grey, np.full_like(grey, 255.0)], axis=-1)
    if mode == "CMYK":
        image = image.convert("RGB")
    return np.asarray(image.convert("RGBA"), np.float32)


def decode_image(source, channels: int = 3, size=None, dtype: str = "uint8") -> np.ndarray:
    """Decodes an image file faithfully to `(h, w, channels)` pixels.

    Args:
        source: a path, a file object, or the file's bytes.
        channels: 3 (RGB) or 1 (grey: the mean of R, G and B).
        size: `(height, width)` to resize to (bilinear), or None to keep it.
        dtype: `"uint8"` (0..255) or `"float32"` (0..1).

    Returns:
        The pixels as a numpy array of `dtype`.

    Raises:
        ValueError: a bad `channels` or `dtype`; the file is missing or not a
            readable image; or it has more pixels than PIL's
            decompression-bomb guard allows (`PIL.Image.MAX_IMAGE_PIXELS` x 2).

    Example:
    >>> import io
    >>> from PIL import Image
    >>> buffer = io.BytesIO()
    >>> Image.fromarray(np.full((2, 2), 65535, np.uint16)).save(buffer, "PNG")
    >>> decode_image(buffer.getvalue(), channels=1)[..., 0].tolist()
    [[255, 255], [255, 255]]
    """
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    if channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 or 3, got {channels!r}.")
    if dtype not in ("uint8", "float32"):
        raise ValueError(f"`dtype` must be 'uint8' or 'float32', got {dtype!r}.")
    name = "<bytes>" if isinstance(source, (bytes, bytearray)) else source
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        with Image.open(source) as image:
            image = ImageOps.exif_transpose(image) or image
            rgba = _rgba(image)
    except Image.DecompressionBombError as error:
        raise ValueError(
            f"image file {name!r} is too large to decode safely ({error}); scale it down first."
        ) from None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as error:
        raise ValueError(f"cannot read image file {name!r}: {error}") from None
    alpha = rgba[..., 3:] / 255.0
    rgb = rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)
    if channels == 1:
        rgb = rgb.mean(axis=-1, keepdims=True)
    pixels = np.round(rgb).astype(np.uint8)
    if size is not None and tuple(pixels.shape[:2]) != tuple(size):
        pixels = _resize(pixels, size)
    if dtype == "float32":
        return pixels.astype(np.float32) / 255.0
    return pixels


def _resize(pixels: np.ndarray, size) -> np.ndarray:
    """uint8 `(h, w, c)` pixels resized to `size` `(height, width)` (bilinear)."""
    from PIL import Image

    image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    resized = np.asarray(image.resize((int(size[1]), int(size[0])), Image.BILINEAR))
    return resized[..., None] if resized.ndim == 2 else resized


def read_image_file(path, channels: int = 3, size=None) -> np.ndarray:
    """Reads an image file as uint8 `(h, w, channels)`; transparency over white.

    Args:
        path: the image file (PNG, JPEG, GIF, BMP, WebP), or a file object.
        channels: 3 (RGB) or 1 (grey).
        size: `(height, width)` to resize to, or None to keep the size.

    Returns:
        uint8 pixels, decoded by :func:`decode_image`.

    Raises:
        ValueError: the file is missing, is not a readable image, or has
            more pixels than PIL's decompression-bomb guard allows
            (`PIL.Image.MAX_IMAGE_PIXELS` x 2, about 179 million).
    """
    return decode_image(path, channels, size)


def sniff_image(path) -> str | None:
    """Why `path` is not a readable image (it is missing, or its header is not one), or None.

    Cheap: it opens the file and reads the header, without decoding pixels.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.size  # noqa: B018 - the header is parsed on open
    except FileNotFoundError:
        return "the file does not exist"
    except Image.DecompressionBombError:
        return "the image is too large to decode safely"
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as error:
        return f"not a readable image ({error})"
    return None
