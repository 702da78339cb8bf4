"""The source packages of the data sets: what a :class:`Source` is, where an
installed or downloaded copy is found, and how its archive is unpacked.

``.deb`` files are read with ``dpkg-deb -x`` or a pure-Python ``ar`` reader,
wheels are unzipped, npm tarballs extracted (safely: no member may land
outside the target folder).  :func:`skmm.datasets._base.obtain_sources`
drives these per data set; tests replace :data:`SYSTEM_ROOTS`,
:func:`_run` and :func:`_tool_available` here.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import lzma
import shlex
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Source", "manual_commands", "unpacked_root"]

#: Roots searched for system-installed Debian packages (tests replace it).
SYSTEM_ROOTS: tuple[str, ...] = ("/",)

_MANAGERS = ("apt", "pip", "npm")


@dataclass(frozen=True)
class Source:
    """A package on a registry that a data set is built from.

    Parameters
    ----------
    manager : {"apt", "pip", "npm"}
        Package manager (Debian's apt, PyPI through pip, npm).
    package : str
        Package name on that registry.
    license : str
        SPDX-style licence of the content that skmm uses.
    marker : str
        Path, relative to the unpacked package root, that must exist (used to
        recognise a complete unpacking and a system-wide install).
    module : str, optional
        For pip packages: the importable top-level module, so an installed
        distribution can be used in place.
    """

    manager: str
    package: str
    license: str
    marker: str
    module: str | None = None

    def __post_init__(self) -> None:
        if self.manager not in _MANAGERS:
            raise ValueError(
                f"manager must be one of {_MANAGERS}, got {self.manager!r}"
            )

    def command(self, downloads: Path) -> list[str]:
        """The command that downloads this package into ``downloads``."""
        if self.manager == "apt":
            return ["apt-get", "download", self.package]
        if self.manager == "pip":
            return [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "-d",
                str(downloads),
                self.package,
            ]
        return ["npm", "pack", "--silent", self.package]

    def shell_command(self) -> str:
        """The download command as a user would type it in ``downloads/``."""
        if self.manager == "apt":
            return f"apt-get download {self.package}"
        if self.manager == "pip":
            return f"python -m pip download --no-deps -d . {self.package}"
        return f"npm pack {self.package}"

    def archive_patterns(self) -> list[str]:
        """Glob patterns of this package's downloaded archive."""
        if self.manager == "apt":
            return [f"{self.package}_*.deb"]
        if self.manager == "pip":
            norm = self.package.replace("-", "_").replace(".", "_")
            return [f"{norm}-*.whl", f"{self.package}-*.whl"]
        return [f"{self.package.lstrip('@').replace('/', '-')}-*.tgz"]


def _tool_available(manager: str) -> str | None:
    """Return None when the tools for ``manager`` exist, else the missing one."""
    if manager == "apt":
        return None if shutil.which("apt-get") else "apt-get"
    if manager == "npm":
        return None if shutil.which("npm") else "npm"
    return None  # pip runs as ``sys.executable -m pip``


def _find_installed(source: Source) -> Path | None:
    """Return the root of a system-wide install of ``source``, if any."""
    if source.manager == "apt":
        for root in SYSTEM_ROOTS:
            if (Path(root) / source.marker).exists():
                return Path(root)
        return None
    if source.manager == "pip" and source.module:
        try:
            spec = importlib.util.find_spec(source.module)
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        root = Path(next(iter(spec.submodule_search_locations))).parent
        return root if (root / source.marker).exists() else None
    return None


def _find_archive(source: Source, downloads: Path) -> Path | None:
    if not downloads.is_dir():
        return None
    found: list[Path] = []
    for pattern in source.archive_patterns():
        found.extend(downloads.glob(pattern))
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _read_ar(path: Path) -> dict[str, bytes]:
    """Members of a Unix ``ar`` archive (the container of a ``.deb``)."""
    data = path.read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise ValueError(f"{path} is not a Debian package (ar archive)")
    members: dict[str, bytes] = {}
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        pos += 60
        members[name] = data[pos : pos + size]
        pos += size + (size % 2)
    return members


def _extract_deb(deb: Path, dest: Path) -> None:
    """Unpack a ``.deb``: ``dpkg-deb -x`` when present, else in Python."""
    dest.mkdir(parents=True, exist_ok=True)
    if shutil.which("dpkg-deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
        return
    members = _read_ar(deb)
    name = next((m for m in members if m.startswith("data.tar")), None)
    if name is None:
        raise ValueError(f"{deb} has no data.tar member")
    payload = members[name]
    if name.endswith(".zst"):
        raise RuntimeError(
            f"{deb} is compressed with zstd; install dpkg-deb to unpack it "
            f"(dpkg-deb -x {shlex.quote(str(deb))} {shlex.quote(str(dest))})"
        )
    if name.endswith(".xz"):
        payload = lzma.decompress(payload)
        mode = "r:"
    else:
        mode = "r:*"
    with tarfile.open(fileobj=io.BytesIO(payload), mode=mode) as tar:
        _safe_extractall(tar, dest)


def _safe_extractall(tar: tarfile.TarFile, dest: Path) -> None:
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, filter="data")
    else:  # Python < 3.10.12 has no extraction filters
        root = dest.resolve()
        for member in tar.getmembers():
            target = (dest / member.name).resolve()
            if root not in target.parents and target != root:
                raise ValueError(f"unsafe path in archive: {member.name}")
        tar.extractall(dest)


def _extract(source: Source, archive: Path, dest: Path) -> Path:
    """Unpack ``archive`` into ``dest`` and return the package root."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if source.manager == "apt":
        _extract_deb(archive, dest)
        root = dest
    elif source.manager == "pip":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
        root = dest
    else:
        with tarfile.open(archive, "r:gz") as tar:
            _safe_extractall(tar, dest)
        subdirs = [p for p in dest.iterdir() if p.is_dir()]
        root = subdirs[0] if len(subdirs) == 1 else dest
    if not (root / source.marker).exists():
        raise FileNotFoundError(
            f"{archive.name} unpacked into {dest}, but {source.marker} is missing"
        )
    (dest / ".skmm-root").write_text(str(root.relative_to(dest)) or ".")
    return root


def unpacked_root(source: Source, sources_dir: Path) -> Path | None:
    dest = sources_dir / source.package
    stamp = dest / ".skmm-root"
    if not stamp.exists():
        return None
    root = dest / stamp.read_text().strip()
    return root if (root / source.marker).exists() else None


def _run(cmd: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a package-manager command (tests replace this)."""
    return subprocess.run(
        list(cmd), cwd=cwd, capture_output=True, text=True, check=False
    )


def manual_commands(
    name: str,
    sources: Iterable[Source],
    data_home: Path,
    *,
    missing: Iterable[Source] | None = None,
) -> str:
    """Shell commands that obtain ``sources`` by hand and then build ``name``.

    Parameters
    ----------
    name : str
        Data set name.
    sources : iterable of Source
        The data set's sources.
    data_home : Path
        Data home the commands should use.
    missing : iterable of Source, optional
        Only these sources (default all).

    Returns
    -------
    str
    """
    todo = list(missing) if missing is not None else list(sources)
    downloads = data_home / "downloads"
    lines = [f"mkdir -p {shlex.quote(str(downloads))}"]
    lines.append(f"cd {shlex.quote(str(downloads))}")
    for s in todo:
        note = ""
        if s.manager == "apt":
            note = (
                "   # needs Debian/Ubuntu; run 'sudo apt-get update' first if unknown"
            )
        lines.append(s.shell_command() + note)
    lines.append(
        f"SKMM_DATA={shlex.quote(str(data_home))} python -m skmm.datasets fetch {name}"
    )
    return "\n".join(lines)
