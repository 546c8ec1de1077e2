"""Where the real datasets' source files come from, and how to fetch them.

Every source ships inside an ordinary package, fetched with that registry's
own client (no dataset hub is contacted):

| source | package (client) | file kept |
|---|---|---|
| fashion_mnist | Debian `dataset-fashion-mnist` (apt-get) | /usr/share/datasets/fashion-mnist/ |
| rt_snippets | PyPI `vaderSentiment==3.3.2` sdist (pip) | vaderSentiment-3.3.2.tar.gz |
| japanese_vowels | PyPI `aeon==1.6.0` wheel (pip) | aeon-1.6.0-py3-none-any.whl |
| emoji | npm `emoji-datasource-twitter@16.0.0` (npm) | emoji-datasource-twitter-16.0.0.tgz |
| emoji_facebook | npm `emoji-datasource-facebook@16.0.0` (npm) | emoji-datasource-facebook-….tgz |
| emoji_google | npm `emoji-datasource-google@16.0.0` (npm) | emoji-datasource-google-16.0.0.tgz |
| openmoji | npm `openmoji@17.0.0` (npm) | openmoji-17.0.0.tgz |

The files are kept, unextracted, in :func:`sources_dir` (default
`~/.cache/multimodal_tf/sources`, or `$MULTIMODAL_TF_SOURCES`).
`multimodal-tf fetch` (run by `scripts/setup.sh`) downloads the missing ones;
a builder that finds its file missing fetches it itself
(:func:`ensure_source`), as a TFDS builder downloads its data.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import subprocess
import sys

import tensorflow_datasets as tfds


@dataclasses.dataclass(frozen=True)
class Source:
    """One packaged source file.

    Args:
        name: the dataset that reads it.
        filename: the file kept in the sources folder.
        package: what a person would install, for messages.
        command: the fetch command; `{dir}` stands for the sources folder.
    """

    name: str
    filename: str
    package: str
    command: str

    def fetch_command(self, folder: str) -> list:
        """The command as an argument list, for this interpreter and `folder`."""
        return [
            part.replace("{dir}", folder).replace("{python}", sys.executable)
            for part in shlex.split(self.command)
        ]

    def hint(self, folder: str) -> str:
        """The command as a person would type it."""
        return self.command.replace("{dir}", folder).replace("{python}", "python3")


SOURCES = {
    "rt_snippets": Source(
        "rt_snippets",
        "vaderSentiment-3.3.2.tar.gz",
        "the vaderSentiment 3.3.2 sdist (PyPI)",
        "{python} -m pip download --quiet --disable-pip-version-check --no-binary :all: "
        "--no-deps vaderSentiment==3.3.2 -d {dir}",
    ),
    "japanese_vowels": Source(
        "japanese_vowels",
        "aeon-1.6.0-py3-none-any.whl",
        "the aeon 1.6.0 wheel (PyPI)",
        "{python} -m pip download --quiet --disable-pip-version-check --no-deps "
        "--only-binary :all: aeon==1.6.0 -d {dir}",
    ),
    "emoji": Source(
        "emoji",
        "emoji-datasource-twitter-16.0.0.tgz",
        "the npm package emoji-datasource-twitter 16.0.0",
        "npm pack --silent emoji-datasource-twitter@16.0.0 --pack-destination {dir}",
    ),
    "emoji_facebook": Source(  # other artwork for the same emoji: twemoji_categories' test_facebook
        "emoji_facebook",
        "emoji-datasource-facebook-16.0.0.tgz",
        "the npm package emoji-datasource-facebook 16.0.0",
        "npm pack --silent emoji-datasource-facebook@16.0.0 --pack-destination {dir}",
    ),
    # More artists for the same emoji: twemoji_categories' train and validation views.
    "emoji_google": Source(
        "emoji_google",
        "emoji-datasource-google-16.0.0.tgz",
        "the npm package emoji-datasource-google 16.0.0",
        "npm pack --silent emoji-datasource-google@16.0.0 --pack-destination {dir}",
    ),
    "openmoji": Source(
        "openmoji",
        "openmoji-17.0.0.tgz",
        "the npm package openmoji 17.0.0",
        "npm pack --silent openmoji@17.0.0 --pack-destination {dir}",
    ),
}


FETCH_TIMEOUT_SECONDS = 600


def sources_dir() -> str:
    """The folder that keeps the packaged source files."""
    return os.environ.get("MULTIMODAL_TF_SOURCES") or os.path.join(
        os.path.expanduser("~"), ".cache", "multimodal_tf", "sources"
    )


def fetch_hint(name: str) -> str:
    """The command a person runs to fetch one source."""
    return f"multimodal-tf fetch {name}   (or: {SOURCES[name].hint(sources_dir())})"


def source_path(name: str) -> str:
    """Returns the path of a fetched source file.

    Raises:
        FileNotFoundError: it has not been fetched; the message names the
            package and the command that fetches it.
    """
    source = SOURCES[name]
    path = os.path.join(sources_dir(), source.filename)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"The {name} dataset reads {source.filename} from {source.package}, not found in "
            f"{sources_dir()}. Fetch it with: {fetch_hint(name)}"
        )
    return path


def ensure_source(name: str) -> str:
    """Returns a source file's path, fetching it first when it is missing.

    Args:
        name: a key of `SOURCES`.

    Raises:
        FileNotFoundError: the file is missing and fetching it failed (no
            registry reachable, no `npm`, ...); the message names the
            package, the command and what the command said.
    """
    try:
        return source_path(name)
    except FileNotFoundError:
        pass
    try:
        return fetch([name])[name]
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        raise FileNotFoundError(
            f"The {name} dataset reads {SOURCES[name].filename} from {SOURCES[name].package}, not "
            f"found in {sources_dir()}, and fetching it failed: {str(error).strip()[:500]}\n"
            f"Fetch it by hand with: {fetch_hint(name)}"
        ) from None


def fetch(names=None, *, verbose: bool = True) -> dict:
    """Fetches the named sources (default: all) that are not there yet.

    Args:
        names: source names (keys of `SOURCES`); None for all.
        verbose: print what is fetched.

    Returns:
        `{name: path}` of every requested source.

    Raises:
        ValueError: an unknown source name.
        RuntimeError: a fetch command failed (its output is included).
    """
    names = list(SOURCES) if names is None else list(names)
    unknown = [name for name in names if name not in SOURCES]
    if unknown:
        raise ValueError(f"Unknown source(s) {unknown}; expected some of {sorted(SOURCES)}.")
    folder = sources_dir()
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for name in names:
        source = SOURCES[name]
        path = os.path.join(folder, source.filename)
        if not os.path.isfile(path):
            if verbose:
                print(f"fetching {source.package} -> {path}", flush=True)
            result = subprocess.run(
                source.fetch_command(folder),
                capture_output=True,
                text=True,
                check=False,
                timeout=FETCH_TIMEOUT_SECONDS,
            )
            if result.returncode != 0 or not os.path.isfile(path):
                raise RuntimeError(
                    f"Fetching {name} failed ({source.command}):\n{result.stdout}{result.stderr}"
                )
        paths[name] = path
    return paths


class PackagedSourceBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """A TFDS builder whose data comes from packaged source files.

    Subclasses set `SOURCE` (a key of `SOURCES`), and `OTHER_SOURCES` for
    further files some splits read. A file is the `source` (or
    `other_sources[name]`) argument when given (e.g. a copy elsewhere), else
    the fetched one, which is fetched when the dataset is prepared if it is
    not there yet; a failed fetch raises `FileNotFoundError` naming the
    fetch command.
    """

    SOURCE = ""
    OTHER_SOURCES = ()
    # The first version whose `train` split holds none of today's `validation`
    # rows; a run trained on it or later may be scored on validation. None:
    # only a run trained on the current version may.
    VALIDATION_HELD_OUT_SINCE: str | None = None

    def __init__(self, *, source: str | None = None, other_sources: dict | None = None, **kwargs):
        unknown = sorted(set(other_sources or ()) - set(self.OTHER_SOURCES))
        if unknown:
            raise ValueError(
                f"`other_sources` names {unknown}; {type(self).__name__} reads "
                f"{list(self.OTHER_SOURCES) or 'no other source'}."
            )
        self._source = source
        self._other_sources = dict(other_sources or {})
        super().__init__(**kwargs)

    @property
    def source_file(self) -> str:
        return self._source or ensure_source(self.SOURCE)

    def other_source_file(self, name: str) -> str:
        """The file of one of `OTHER_SOURCES`, fetched if needed."""
        return self._other_sources.get(name) or ensure_source(name)
