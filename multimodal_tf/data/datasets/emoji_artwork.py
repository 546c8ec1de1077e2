"""Emoji artwork from npm packages, read in memory: emoji-data's image sets and OpenMoji's SVGs.

`twemoji_categories` pairs each emoji's text with the drawings of several
artists. emoji-data's packages (`emoji-datasource-<artist>`: twitter,
google, facebook) carry `emoji.json` and 64px PNGs; the `openmoji` package
carries one SVG per emoji, named by its code points, which
:func:`read_openmoji` renders to 64px PNGs (resvg, through `resvg_py`).

Example:
>>> entries, images = read_package("emoji-datasource-google-16.0.0.tgz", "google")  # doctest: +SKIP
>>> openmoji = read_openmoji("openmoji-17.0.0.tgz", entries)  # doctest: +SKIP
>>> decode_artwork(openmoji["1f385.png"]).shape  # doctest: +SKIP
(64, 64, 3)
"""

from __future__ import annotations

import io
import json

import numpy as np

from multimodal_tf.data.archives import read_tar_members
from multimodal_tf.data.images import read_image_file

IMAGE_SIZE = 64
OPENMOJI_FOLDER = "package/color/svg/"
_VARIATION_SELECTOR = "-FE0F"


def read_package(path: str, artwork: str = "twitter") -> tuple:
    """Reads `emoji.json` and the 64px images from an emoji-datasource npm tarball, in memory.

    Args:
        path: the `.tgz` of `emoji-datasource-<artwork>`.
        artwork: which image set it holds (`"twitter"`, `"google"`, `"facebook"`).

    Returns:
        `(entries, {image file name: PNG bytes})`.

    Raises:
        ValueError: the tarball is not that package.
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


def image_names(entries: list) -> list:
    """Every image file name emoji-data gives its emoji and their skin-tone variants."""
    names = []
    for entry in entries:
        names.append(entry["image"])
        names.extend(variant["image"] for variant in (entry.get("skin_variations") or {}).values())
    return names


def read_openmoji(path: str, entries: list) -> dict:
    """OpenMoji's SVGs under emoji-data's image file names.

    OpenMoji names a file by the emoji's code points in upper case
    (`1F385-1F3FB.svg`), sometimes without the variation selector FE0F that
    emoji-data keeps (`2764-FE0F` is `2764.svg`).

    Args:
        path: the `.tgz` of the npm package `openmoji`.
        entries: emoji-data's `emoji.json` (from any emoji-datasource package).

    Returns:
        `{emoji-data image file name: SVG bytes}` for the emoji OpenMoji draws.

    Raises:
        ValueError: the tarball holds no `package/color/svg/` files.
    """
    members = read_tar_members(
        path, lambda name: name.startswith(OPENMOJI_FOLDER) and name.endswith(".svg")
    )
    svgs = {name[len(OPENMOJI_FOLDER) : -len(".svg")]: data for name, data in members.items()}
    if not svgs:
        raise ValueError(f"{path} has no {OPENMOJI_FOLDER}*.svg files: not the openmoji package.")
    drawn = {}
    for name in image_names(entries):
        code = name.rsplit(".", 1)[0].upper()
        for candidate in (code, code.replace(_VARIATION_SELECTOR, "")):
            if candidate in svgs:
                drawn[name] = svgs[candidate]
                break
    return drawn


def render_svg(svg: bytes, size: int = IMAGE_SIZE) -> bytes:
    """An SVG drawn as a `size` x `size` RGBA PNG (resvg)."""
    import resvg_py

    return bytes(resvg_py.svg_to_bytes(svg_string=svg.decode("utf-8"), width=size, height=size))


def decode_artwork(data: bytes) -> np.ndarray:
    """A 64px PNG (palette or RGBA) or an SVG as RGB uint8 over a white background.

    Raises:
        ValueError: not a 64x64 image.
    """
    if data.lstrip().startswith((b"<svg", b"<?xml")):
        data = render_svg(data)
    image = read_image_file(io.BytesIO(data))
    if image.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected a {IMAGE_SIZE}x{IMAGE_SIZE} image, got {image.shape[:2]}")
    return image
