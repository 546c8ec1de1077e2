"""Decoding image files to arrays, the one way every part of the library does it.

:func:`decode_image` is the faithful decoder that `csv_to_dataset`, the
streamed user-data pipelines (`multimodal_tf.data.user`) and `predict` share:

- 16-bit images (PIL modes `I;16*`, `I`) are scaled to 8 bits (value / 257),
  never clipped;
- palette (`P`, `PA`), grey + alpha (`LA`) and `RGBA` images are composited
  over white, so transparency reads as a white background;
- `CMYK` becomes RGB; 1-bit and 32-bit float images are scaled to [0, 255];
- JPEGs are turned upright by their EXIF orientation;
- GIF (first frame), BMP, WebP, PNG and JPEG all decode the same way;
- resizing is bilinear with antialiasing, by :func:`resize_pixels` (TensorFlow's
  `tf.image.resize`), so it is the same inside a `tf.data` graph and out of it.

:func:`decode_natively` is the in-graph path the streamed pipelines take for
8-bit PNGs, 16-bit grey ones and plain JPEGs: `tf.io.decode_png`, composited
and scaled the same way, and `tf.io.decode_jpeg` with libjpeg's accurate
IDCT give the same pixels as :func:`decode_image` (tested over every PNG
colour type, with and without transparency, and JPEG's subsamplings), with
no Python per image.
"""

from __future__ import annotations

import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the last chunk of a complete PNG


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


def resize_pixels(pixels, size):
    """uint8 `(h, w, c)` pixels, a tensor or an array, resized to `size` `(height, width)`.

    Bilinear with antialiasing (`tf.image.resize`), rounded back to uint8: the
    one resize of the library, inside `tf.data` graphs and out of them.

    Returns:
        A uint8 tensor.
    """
    import tensorflow as tf

    resized = tf.image.resize(tf.cast(pixels, tf.float32), size, method="bilinear", antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(resized, 0.0, 255.0)), tf.uint8)


def _resize(pixels: np.ndarray, size) -> np.ndarray:
    """uint8 `(h, w, c)` pixels resized to `size` `(height, width)`, by :func:`resize_pixels`."""
    return resize_pixels(pixels, tuple(int(side) for side in size)).numpy()


# What `native_kind` finds: which in-graph decoder gives `decode_image`'s pixels (the index of
# its branch in `decode_natively`), or none.
NATIVE_PNG, NATIVE_GREY16_PNG, NATIVE_JPEG, NOT_NATIVE = 0, 1, 2, 3
JPEG_HEAD = 65536  # where a JPEG's EXIF block and frame header are looked for
JPEG_FRAMES = (b"\xff\xc0", b"\xff\xc1", b"\xff\xc2")  # baseline, extended, progressive


def _png_kind(contents, size):
    import tensorflow as tf

    depth = tf.io.decode_raw(tf.strings.substr(contents, 24, 2), tf.uint8)
    complete = tf.strings.substr(contents, size - 12, 12) == PNG_END
    grey16 = (depth[0] == 16) & (depth[1] == 0)
    return tf.where(
        complete & (depth[0] == 8),
        NATIVE_PNG,
        tf.where(complete & grey16, NATIVE_GREY16_PNG, NOT_NATIVE),
    )


def _jpeg_kind(contents, size):
    """NATIVE_JPEG for a complete 8-bit grey or colour JPEG without EXIF, else NOT_NATIVE."""
    import tensorflow as tf

    head = tf.strings.substr(contents, 0, tf.minimum(size, JPEG_HEAD))
    no_exif = tf.size(tf.strings.split(head, sep="Exif\x00\x00", maxsplit=1)) == 1
    complete = tf.strings.substr(contents, size - 2, 2) == b"\xff\xd9"
    # The first frame header (SOFn): its sample precision and number of components.
    offsets = []
    for marker in JPEG_FRAMES:
        parts = tf.strings.split(head, sep=marker, maxsplit=1)
        offsets.append(tf.where(tf.size(parts) == 2, tf.strings.length(parts[0]), JPEG_HEAD))
    frame = tf.reduce_min(tf.stack(offsets))

    def header():
        fields = tf.io.decode_raw(tf.strings.substr(head, frame + 4, 6), tf.uint8)
        return (fields[0] == 8) & ((fields[5] == 1) | (fields[5] == 3))

    plain = tf.cond(frame + 10 <= tf.strings.length(head), header, lambda: tf.constant(False))
    return tf.where(no_exif & complete & plain, NATIVE_JPEG, NOT_NATIVE)


def native_kind(contents):
    """In-graph: how :func:`decode_natively` reads file bytes `contents` (a scalar string tensor).

    Returns:
        An int32 tensor: `NATIVE_PNG` for a complete PNG (it ends in its IEND
        chunk) of 8 bits per sample, any colour type, palette or
        transparency; `NATIVE_GREY16_PNG` for a complete 16-bit grey PNG;
        `NATIVE_JPEG` for a complete (ending in EOI) 8-bit grey or YCbCr
        JPEG without EXIF; `NOT_NATIVE` for anything else, which
        :func:`decode_image` reads: other PNG bit depths (`tf.io.decode_png`
        misreads 4-bit palettes), JPEGs with EXIF (their orientation) or
        CMYK, GIF, BMP, WebP, a truncated file.
    """
    import tensorflow as tf

    size = tf.strings.length(contents)
    signature = tf.strings.substr(contents, 0, tf.minimum(size, 8))
    return tf.case(
        [
            (
                tf.logical_and(size > 33, signature == PNG_SIGNATURE),
                lambda: _png_kind(contents, size),
            ),
            (
                tf.logical_and(size > 4, tf.strings.substr(signature, 0, 2) == b"\xff\xd8"),
                lambda: _jpeg_kind(contents, size),
            ),
        ],
        default=lambda: tf.constant(NOT_NATIVE),
    )


def decode_natively(contents, channels: int = 3):
    """In-graph :func:`decode_image` of a file that :func:`native_kind` marks native.

    The same pixels as :func:`decode_image` (tested over every PNG colour type
    and bit depth it takes, and JPEG's subsamplings and progressive mode),
    with no Python per image.

    Args:
        contents: a scalar string tensor, the file's bytes.
        channels: 3 (RGB) or 1 (grey: the mean of R, G and B).

    Returns:
        `(pixels, native)`: uint8 `(h, w, channels)` pixels (an empty image
        where not native) and whether they were decoded.
    """
    import tensorflow as tf

    def composited():  # transparency over white, as `decode_image`
        rgba = tf.cast(tf.io.decode_png(contents, channels=4), tf.float32)
        alpha = rgba[..., 3:] / 255.0
        return rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)

    def grey16():  # scaled to 8 bits (value / 257), as `decode_image`
        values = tf.cast(tf.io.decode_png(contents, channels=1, dtype=tf.uint16), tf.float64)
        grey = tf.cast(values / 257.0, tf.float32)
        return tf.concat([grey, grey, grey], axis=-1)

    def jpeg():  # libjpeg's accurate integer IDCT, as PIL decodes
        pixels = tf.io.decode_jpeg(contents, channels=3, dct_method="INTEGER_ACCURATE")
        return tf.cast(pixels, tf.float32)

    kind = native_kind(contents)
    rgb = tf.switch_case(  # the branches in the order of the kinds
        kind, [composited, grey16, jpeg, lambda: tf.zeros((0, 0, 3), tf.float32)]
    )
    if channels == 1:
        rgb = tf.reduce_mean(rgb, axis=-1, keepdims=True)
    return tf.cast(tf.round(rgb), tf.uint8), kind != NOT_NATIVE


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
