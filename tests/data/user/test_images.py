"""The faithful decoder: each image mode against a reference conversion made here."""

import io

import numpy as np
import pytest
from PIL import Image

from multimodal_tf.data.images import decode_image, read_image_file, sniff_image


def picture(height=24, width=32):
    """A smooth RGB test picture (uint8)."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // (width - 1), y * 255 // (height - 1), (x + y) % 256], -1).astype(
        np.uint8
    )


def saved(image, fmt="PNG", **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_a_16_bit_grey_png_matches_its_8_bit_copy():
    grey8 = picture()[..., 0]
    grey16 = grey8.astype(np.uint16) * 257
    decoded16 = decode_image(saved(Image.fromarray(grey16)), channels=1)
    decoded8 = decode_image(saved(Image.fromarray(grey8)), channels=1)
    assert decoded16.dtype == np.uint8
    assert np.abs(decoded16.astype(int) - decoded8.astype(int)).max() <= 1
    assert (decoded16 == 255).mean() < 0.1  # not clipped to white


def test_palette_matches_rgb():
    rgb = picture()
    palette = Image.fromarray(rgb).quantize(64)
    reference = np.asarray(palette.convert("RGB"))
    np.testing.assert_array_equal(decode_image(saved(palette)), reference)


def test_grey_alpha_is_composited_over_white():
    grey = picture()[..., 0]
    alpha = np.full_like(grey, 128)
    image = Image.fromarray(np.stack([grey, alpha], -1), "LA")
    expected = np.round(grey * (128 / 255) + 255 * (1 - 128 / 255))
    decoded = decode_image(saved(image), channels=1)[..., 0]
    assert np.abs(decoded.astype(int) - expected).max() <= 1


def test_rgba_is_composited_over_white():
    rgba = np.concatenate([picture(), np.zeros((24, 32, 1), np.uint8)], -1)
    decoded = decode_image(saved(Image.fromarray(rgba, "RGBA")))
    np.testing.assert_array_equal(decoded, 255)


def test_cmyk_matches_its_rgb_conversion():
    cmyk = Image.fromarray(picture()).convert("CMYK")
    decoded = decode_image(saved(cmyk, "JPEG", quality=95))
    reference = np.asarray(cmyk.convert("RGB"), int)
    assert np.abs(decoded.astype(int) - reference).mean() < 6


def test_exif_rotated_jpeg_is_turned_upright():
    rgb = picture(24, 32)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    data = saved(Image.fromarray(rgb), "JPEG", quality=95, exif=exif.tobytes())
    decoded = decode_image(data)
    assert decoded.shape == (32, 24, 3)
    reference = np.rot90(rgb, k=-1)
    assert np.abs(decoded.astype(int) - reference).mean() < 6


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "WEBP"])
def test_other_formats(fmt):
    rgb = picture()
    options = {"lossless": True} if fmt == "WEBP" else {}
    image = Image.fromarray(rgb)
    decoded = decode_image(saved(image, fmt, **options))
    reference = np.asarray(Image.open(io.BytesIO(saved(image, fmt, **options))).convert("RGB"))
    np.testing.assert_array_equal(decoded, reference)


def test_float_output_and_resize():
    decoded = decode_image(saved(Image.fromarray(picture())), size=(8, 10), dtype="float32")
    assert decoded.shape == (8, 10, 3) and decoded.dtype == np.float32
    assert 0.0 <= decoded.min() and decoded.max() <= 1.0
    grey = decode_image(saved(Image.fromarray(picture())), channels=1, size=(5, 5))
    assert grey.shape == (5, 5, 1)


def test_errors_name_the_file(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"bad\.png"):
        read_image_file(str(tmp_path / "bad.png"))
    assert "does not exist" in sniff_image(str(tmp_path / "gone.png"))
    assert "not a readable image" in sniff_image(str(tmp_path / "bad.png"))
    with pytest.raises(ValueError, match="`channels`"):
        decode_image(b"", channels=2)


def png_variants():
    """8-bit PNGs of every colour type, with and without transparency, and a 16-bit grey one."""
    rgb = picture(23, 31)
    grey = rgb[..., 0]
    alpha = rgb[..., 1]
    variants = {
        "rgb": saved(Image.fromarray(rgb)),
        "rgb-transparent-colour": saved(
            Image.fromarray(rgb), transparency=tuple(int(v) for v in rgb[0, 0])
        ),
        "grey": saved(Image.fromarray(grey)),
        "grey-transparent-value": saved(Image.fromarray(grey), transparency=int(grey[0, 0])),
        "grey-alpha": saved(Image.fromarray(np.dstack([grey, alpha]), "LA")),
        "rgba": saved(Image.fromarray(np.dstack([rgb, alpha]), "RGBA")),
        "palette": saved(Image.fromarray(rgb).convert("P")),
        "palette-transparent": saved(Image.fromarray(rgb).convert("P"), transparency=3),
        "grey-16-bit": saved(Image.fromarray(grey.astype(np.uint16) * 251 + 7)),
    }
    return variants


def jpeg_variants():
    """Plain JPEGs: colour at each chroma subsampling and quality, progressive, grey."""
    rng = np.random.default_rng(0)
    noisy = np.clip(picture(61, 77).astype(int) + rng.integers(-40, 40, (61, 77, 3)), 0, 255)
    image = Image.fromarray(noisy.astype(np.uint8))
    return {
        "jpeg": saved(image, "JPEG"),
        "jpeg-quality-50": saved(image, "JPEG", quality=50),
        "jpeg-progressive": saved(image, "JPEG", progressive=True),
        "jpeg-4:4:4": saved(image, "JPEG", subsampling=0),
        "jpeg-4:2:2": saved(image, "JPEG", subsampling=1),
        "jpeg-grey": saved(image.convert("L"), "JPEG"),
    }


@pytest.mark.parametrize("channels", [3, 1])
def test_the_in_graph_decoder_gives_the_faithful_pixels(channels):
    import tensorflow as tf

    from multimodal_tf.data.images import decode_natively

    for name, data in {**png_variants(), **jpeg_variants()}.items():
        pixels, native = decode_natively(tf.constant(data), channels)
        assert bool(native), name
        np.testing.assert_array_equal(pixels.numpy(), decode_image(data, channels), err_msg=name)


def test_files_the_graph_cannot_read_faithfully_are_left_to_decode_image():
    import tensorflow as tf

    from multimodal_tf.data.images import NOT_NATIVE, native_kind

    whole = saved(Image.fromarray(picture()))
    rgb16 = saved(Image.fromarray(picture()))
    jpeg = saved(Image.fromarray(picture()), "JPEG")
    rotated = Image.fromarray(picture())
    exif = rotated.getexif()
    exif[0x0112] = 6  # turned on its side: decode_image turns it upright
    not_native = {
        "jpeg with exif": saved(rotated, "JPEG", exif=exif.tobytes()),
        "cmyk jpeg": saved(Image.fromarray(picture()).convert("CMYK"), "JPEG"),
        "truncated jpeg": jpeg[: len(jpeg) // 2],
        "gif": saved(Image.fromarray(picture()), "GIF"),
        "truncated png": whole[: len(whole) // 2],
        "empty": b"",
        "4-bit palette png": saved(Image.fromarray(picture()).quantize(colors=16), bits=4),
        "1-bit png": saved(Image.fromarray(picture()[..., 0]).convert("1")),
        "16-bit rgb png": rgb16[:24] + bytes([16]) + rgb16[25:],  # its header says 16 bits
    }
    for data in (whole, jpeg):
        assert int(native_kind(tf.constant(data))) != NOT_NATIVE
    for name, data in not_native.items():
        assert int(native_kind(tf.constant(data))) == NOT_NATIVE, name


def test_one_resize_in_and_out_of_the_graph():
    from multimodal_tf.data.images import resize_pixels

    data = saved(Image.fromarray(picture(40, 48)))
    resized = decode_image(data, size=(32, 30))
    np.testing.assert_array_equal(resized, resize_pixels(decode_image(data), (32, 30)).numpy())
    # bilinear with antialiasing: within one level of PIL's own bilinear resize
    reference = np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize((30, 32), 2))
    assert np.abs(resized.astype(int) - reference).max() <= 1
