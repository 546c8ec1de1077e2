"""Reading files out of packaged archives without extracting them to disk.

Archives come from package registries, but we treat them as untrusted: an
archive that names a member with an absolute path or a `..` component is
refused as a whole, and a truncated or corrupt archive raises a
`ValueError` that names the archive, never a bare `tarfile`/`zipfile` trace.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
import zipfile
import zlib


def check_member_name(archive: str, name: str) -> str:
    """Returns `name` when it is a safe relative path inside `archive`.

    Raises:
        ValueError: `name` is absolute or climbs out with `..`.
    """
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":"):
        raise ValueError(f"Refusing archive {archive}: member {name!r} has an absolute path.")
    if ".." in normalised.split("/"):
        raise ValueError(f"Refusing archive {archive}: member {name!r} climbs out with '..'.")
    return posixpath.normpath(normalised)


def _label(source) -> str:
    return source if isinstance(source, (str, os.PathLike)) else "<in-memory archive>"


def read_tar_members(source, wanted) -> dict:
    """Reads members of a (gzip) tar archive, selected by a predicate.

    Args:
        source: a path, or the archive's bytes.
        wanted: `callable(name) -> bool` choosing the members to read.

    Returns:
        `{member name: bytes}` of the regular files chosen.

    Raises:
        ValueError: unsafe member names, or a truncated/corrupt archive.
    """
    label = _label(source)
    fileobj = io.BytesIO(source) if isinstance(source, bytes) else None
    name = None if fileobj else os.fspath(source)
    contents = {}
    try:
        with tarfile.open(name=name, fileobj=fileobj, mode="r:*") as archive:
            for member in archive:
                member_name = check_member_name(label, member.name)
                if member.isfile() and wanted(member_name):
                    contents[member_name] = archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise ValueError(f"Archive {label} is truncated or corrupt: {error}") from None
    return contents


def read_tar_member(source, member: str) -> bytes:
    """Reads one member of a tar archive by name (see `read_tar_members`).

    Raises:
        ValueError: the member is missing, or the archive is unsafe/corrupt.
    """
    contents = read_tar_members(source, lambda name: name == member)
    if member not in contents:
        raise ValueError(f"Archive {_label(source)} has no member {member!r}.")
    return contents[member]


def read_zip_member(path, member: str) -> bytes:
    """Reads one member of a zip archive (a wheel), checking every name.

    Raises:
        ValueError: the member is missing, or the archive is unsafe/corrupt.
    """
    label = _label(path)
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                check_member_name(label, name)
            try:
                return archive.read(member)
            except KeyError:
                raise ValueError(f"Archive {label} has no member {member!r}.") from None
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as error:
        raise ValueError(f"Archive {label} is truncated or corrupt: {error}") from None
