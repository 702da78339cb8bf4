"""Plugin registries for encoders, fusion modules and retrievers.

Each registry holds the built-ins first, then whatever installed packages
declare under the entry-point groups ``skmm.encoders``, ``skmm.fusions`` and
``skmm.retrievers``.  A plugin package adds a fusion module with, in its
``pyproject.toml``::

    [project.entry-points."skmm.fusions"]
    bilinear = "my_package.fusion:BilinearFusion"

Rules (after xarray's backend plugins):

- built-in names cannot be taken over by a plugin: the plugin is ignored with
  a warning; between two plugins, the first wins, with a warning;
- a plugin that fails to import warns (naming the package and the error)
  instead of breaking ``import skmm``; it fails only when asked for by name;
- an unknown name raises an error listing the known ones;
- entry points are read once, lazily, and :meth:`Registry.refresh` reads them
  again (after installing a plugin in a running session).

Examples
--------
>>> from skmm.registry import encoders
>>> "tfidf" in encoders
True
>>> enc = encoders.create("tfidf", n_components=8)
>>> type(enc).__name__, enc.n_components
('TfidfTextEncoder', 8)
"""

from __future__ import annotations

import importlib
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

__all__ = [
    "PluginWarning",
    "Registry",
    "encoders",
    "fusions",
    "retrievers",
]


class PluginWarning(UserWarning):
    """A plugin could not be registered (import error, duplicate name)."""


@dataclass
class _Entry:
    target: Any  # "module:attr" string (lazy) or the object itself
    defaults: dict = field(default_factory=dict)
    source: str = "builtin"  # "builtin", "user" or the distribution name
    error: BaseException | None = None

    def load(self) -> Any:
        if isinstance(self.target, str):
            module, _, attr = self.target.partition(":")
            obj = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
            self.target = obj
        return self.target


class Registry:
    """A name -> class (or factory) mapping, filled by built-ins and plugins.

    Parameters
    ----------
    kind : str
        What it holds, for messages (``"encoder"``).
    group : str
        The entry-point group read for plugins (``"skmm.encoders"``).
    builtins : dict
        Name -> ``"module:attr"`` (imported on first use) or ``(target,
        defaults)`` for a preset with default parameters.
    """

    def __init__(self, kind: str, group: str, builtins: dict[str, Any]):
        self.kind = kind
        self.group = group
        self._builtins = dict(builtins)
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.RLock()
        self._loaded = False

    # -------------------------------------------------------------- filling
    def _fill(self) -> None:
        with self._lock:
            if self._loaded:
                return
            entries: dict[str, _Entry] = {}
            for name, spec in self._builtins.items():
                target, defaults = spec if isinstance(spec, tuple) else (spec, {})
                entries[name] = _Entry(target, dict(defaults))
            for ep in entry_points(group=self.group):
                dist = getattr(getattr(ep, "dist", None), "name", None) or "unknown"
                if ep.name in entries:
                    owner = entries[ep.name].source
                    warnings.warn(
                        f"skmm {self.kind} plugin {ep.name!r} from {dist!r} is "
                        f"ignored: the name is already registered by {owner!r}.",
                        PluginWarning,
                        stacklevel=3,
                    )
                    continue
                entry = _Entry(ep.value, {}, dist)
                try:
                    entry.target = ep.load()
                except Exception as exc:  # a broken plugin must not break skmm
                    entry.error = exc
                    warnings.warn(
                        f"skmm {self.kind} plugin {ep.name!r} from {dist!r} failed "
                        f"to import and is unavailable: {type(exc).__name__}: {exc}",
                        PluginWarning,
                        stacklevel=3,
                    )
                entries[ep.name] = entry
            # names registered in code before the first look-up survive
            for name, entry in self._entries.items():
                if entry.source == "user":
                    entries[name] = entry
            self._entries = entries
            self._loaded = True

    def refresh(self) -> None:
        """Read the entry points again (after installing a plugin)."""
        with self._lock:
            user = {k: v for k, v in self._entries.items() if v.source == "user"}
            self._loaded = False
            self._entries = user
        self._fill()

    def register(
        self,
        name: str,
        obj: Any = None,
        *,
        defaults: dict | None = None,
        overwrite: bool = False,
    ) -> Any:
        """Register ``obj`` under ``name``; usable as a class decorator.

        Parameters
        ----------
        name : str
            The name users pass (``fusion="bilinear"``).
        obj : class or callable, optional
            What to register; omitted, returns a decorator.
        defaults : dict, optional
            Default parameters :meth:`create` passes (a preset).
        overwrite : bool, default=False
            Replace an existing entry instead of raising.

        Examples
        --------
        >>> from skmm.registry import Registry
        >>> reg = Registry("widget", "skmm.no_such_group", {})
        >>> @reg.register("box")
        ... class Box:
        ...     pass
        >>> reg.get("box") is Box
        True
        """
        if obj is None:

            def decorator(o: Any) -> Any:
                self.register(name, o, defaults=defaults, overwrite=overwrite)
                return o

            return decorator
        self._fill()
        with self._lock:
            if name in self._entries and not overwrite:
                raise ValueError(
                    f"A {self.kind} named {name!r} is already registered (by "
                    f"{self._entries[name].source!r}); pass overwrite=True to "
                    "replace it."
                )
            self._entries[name] = _Entry(obj, dict(defaults or {}), "user")
        return obj

    def unregister(self, name: str) -> None:
        """Remove a name (mostly for tests)."""
        self._fill()
        with self._lock:
            self._entries.pop(name, None)

    # -------------------------------------------------------------- look-up
    def names(self) -> list[str]:
        """The registered names, sorted (plugins that failed are excluded)."""
        self._fill()
        return sorted(k for k, e in self._entries.items() if e.error is None)

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def _entry(self, name: str) -> _Entry:
        self._fill()
        entry = self._entries.get(name)
        if entry is None:
            raise ValueError(
                f"Unknown {self.kind} {name!r}. Known {self.kind}s: "
                f"{self.names()}. Plugins add names through the entry-point "
                f"group {self.group!r}."
            )
        if entry.error is not None:
            raise ImportError(
                f"The {self.kind} {name!r} (plugin from {entry.source!r}) failed to "
                f"import: {entry.error}"
            ) from entry.error
        return entry

    def get(self, name: str) -> Any:
        """The class (or factory) registered as ``name``."""
        return self._entry(name).load()

    def defaults(self, name: str) -> dict:
        """The preset parameters of ``name`` (empty for a plain class)."""
        return dict(self._entry(name).defaults)

    def create(self, name: str, /, **params: Any) -> Any:
        """Instantiate ``name`` with its preset defaults updated by ``params``."""
        entry = self._entry(name)
        factory: Callable = entry.load()
        return factory(**{**entry.defaults, **params})

    def source(self, name: str) -> str:
        """Where ``name`` comes from: ``"builtin"``, ``"user"`` or a package."""
        return self._entry(name).source

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, names={self.names()})"


encoders = Registry(
    "encoder",
    "skmm.encoders",
    {
        # text
        "text": "skmm.text:TextEncoder",
        "minilm": ("skmm.text:TextEncoder", {"model": "minilm"}),
        "tfidf": "skmm.text:TfidfTextEncoder",
        # image
        "image": "skmm.image:ImageEncoder",
        "mobilenet_v2": ("skmm.image:ImageEncoder", {"model": "mobilenet_v2"}),
        "efficientnet_lite0": (
            "skmm.image:ImageEncoder",
            {"model": "efficientnet_lite0"},
        ),
        "image-hf": "skmm.image:HFImageEncoder",
        "pixels": "skmm.image:PixelImageEncoder",
        "color-histogram": "skmm.image:ColorHistogramEncoder",
        "hog": "skmm.image:HOGImageEncoder",
        # audio
        "mfcc": "skmm.audio:MFCCEncoder",
        "logmel": "skmm.audio:LogMelEncoder",
        "audio-hf": "skmm.audio:HFAudioEncoder",
        "speaker": "skmm.audio:SpeakerEncoder",
        "whisper": "skmm.audio:WhisperEncoder",
        # video
        "video": "skmm.video:VideoEncoder",
    },
)
"""Encoders: text, image and audio transformers."""

fusions = Registry(
    "fusion",
    "skmm.fusions",
    {
        "concat": "skmm.fusion._modules:ConcatFusion",
        "late": "skmm.fusion._modules:LateFusion",
        "attention": "skmm.fusion._modules:AttentionFusion",
        "gated": "skmm.fusion._modules:GatedFusion",
        "tensor": "skmm.fusion._modules:TensorFusion",
        "lowrank": "skmm.fusion._modules:LowRankFusion",
        "transformer": "skmm.fusion._modules:TransformerFusion",
    },
)
"""Fusion modules (filled by :mod:`skmm.fusion`)."""

retrievers = Registry(
    "retriever",
    "skmm.retrievers",
    {
        "ridge": "skmm.retrieval:RidgeRetriever",
        "cca": "skmm.retrieval:CCARetriever",
        "pls": "skmm.retrieval:PLSRetriever",
        "contrastive": "skmm.retrieval:ContrastiveRetriever",
        "two_tower": "skmm.retrieval:TwoTowerRetriever",
    },
)
"""Cross-modal retrievers (filled by :mod:`skmm.retrieval`)."""
