"""``--column COLUMN=ENCODER[:SETTINGS]``: its small language, and the
encoder it builds."""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field
from typing import Any

from skmm.cli._errors import CLIError, usage

__all__ = ["ColumnSpec", "make_encoder", "parse_column_spec", "parse_value"]


@dataclass
class ColumnSpec:
    """One ``--column COLUMN=ENCODER[:SETTINGS]`` argument, parsed.

    Attributes
    ----------
    column : str
        The input column.
    encoder : str
        A name registered in :data:`skmm.registry.encoders`.
    settings : dict
        Constructor settings (``KEY=VALUE`` pairs).
    positional : object or None
        A bare first setting (``text:PATH``): the encoder's first positional
        parameter (the model for pretrained encoders).
    has_positional : bool
        Whether ``positional`` was given.
    """

    column: str
    encoder: str
    settings: dict = field(default_factory=dict)
    positional: Any = None
    has_positional: bool = False


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside brackets and quotes (``size=(8,8),bins=4``)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_value(text: str) -> Any:
    """A setting's value: a Python literal when it reads as one, else a string.

    Parameters
    ----------
    text : str

    Returns
    -------
    object

    Examples
    --------
    >>> parse_value("8"), parse_value("0.5"), parse_value("true")
    (8, 0.5, True)
    >>> parse_value("none") is None, parse_value("(1, 2)"), parse_value("minilm")
    (True, (1, 2), 'minilm')
    """
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text.strip()


def parse_column_spec(spec: str) -> ColumnSpec:
    """Parse ``COLUMN=ENCODER[:SETTINGS]``.

    ``SETTINGS`` are comma-separated ``KEY=VALUE`` pairs (values read as
    Python literals when they are: ``8``, ``0.5``, ``true``, ``(1,2)``;
    otherwise as strings).  The first setting may be a bare value, which
    fills the encoder's first positional parameter: ``caption=text:PATH``
    is ``caption=text:model=PATH``.

    Parameters
    ----------
    spec : str

    Returns
    -------
    ColumnSpec

    Raises
    ------
    CLIError
        When ``spec`` is malformed (a usage error).

    Examples
    --------
    >>> parse_column_spec("caption=tfidf:n_components=8,ngram_range=(1,2)")
    ... # doctest: +NORMALIZE_WHITESPACE
    ColumnSpec(column='caption', encoder='tfidf',
               settings={'n_components': 8, 'ngram_range': (1, 2)},
               positional=None, has_positional=False)
    >>> parse_column_spec("caption=text:models/tiny").positional
    'models/tiny'
    """
    column, eq, rest = spec.partition("=")
    column = column.strip()
    encoder, _, settings_text = rest.partition(":")
    encoder = encoder.strip()
    example = "e.g. --column caption=tfidf or --column photo=pixels:size=8"
    if not eq or not column or not encoder:
        raise usage(f"--column {spec!r} is not COLUMN=ENCODER[:KEY=VALUE,...]", example)
    out = ColumnSpec(column, encoder)
    if not settings_text.strip():
        return out
    for j, item in enumerate(_split_top_level(settings_text)):
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not eq or not key.strip().isidentifier():
            if j == 0:
                out.positional = parse_value(item)
                out.has_positional = True
                if isinstance(out.positional, str):  # a path keeps its spelling
                    out.positional = item
                continue
            raise usage(
                f"--column {spec!r}: setting {item!r} is not KEY=VALUE",
                "separate settings with commas: photo=pixels:size=8,grayscale=true",
            )
        out.settings[key.strip()] = parse_value(value)
    return out


def make_encoder(
    spec: ColumnSpec,
    *,
    cache: Any,
    verbose: int,
    batch_size: int | None,
    device: str | None,
) -> tuple[Any, dict]:
    """Build the encoder a ``--column`` spec names, with the command's settings.

    The command's ``cache``, ``verbose``, ``batch_size`` and ``device`` fill
    the encoder's parameters of those names that the spec leaves unset
    (``batch_size`` always, when given).

    Parameters
    ----------
    spec : ColumnSpec
    cache, verbose, batch_size, device
        The command's settings.

    Returns
    -------
    encoder : object
        The encoder, its parameters validated.
    settings : dict
        The settings the spec gave (the positional one by its name).

    Raises
    ------
    CLIError
        For an unknown encoder or setting, or a setting's bad value (usage
        errors), or a plugin that fails to import.
    """
    from skmm.exceptions import MissingDependencyError
    from skmm.registry import encoders

    names = encoders.names()
    if spec.encoder not in names:
        raise usage(
            f"unknown encoder {spec.encoder!r} (in --column "
            f"{spec.column}={spec.encoder})",
            "registered encoders: " + ", ".join(names),
        )
    try:
        factory = encoders.get(spec.encoder)
    except ImportError as exc:
        if isinstance(exc, MissingDependencyError):
            raise
        raise CLIError(str(exc), "reinstall or remove that plugin package") from exc
    settings = dict(spec.settings)
    if spec.has_positional:
        first = _first_positional(factory)
        if first is None:
            raise usage(
                f"encoder {spec.encoder!r} takes no positional setting "
                f"(got {spec.positional!r})",
                "write settings as KEY=VALUE, e.g. "
                f"{spec.column}={spec.encoder}:{_param_example(factory)}",
            )
        settings[first] = spec.positional
    try:
        enc = encoders.create(spec.encoder, **settings)
    except TypeError as exc:
        raise usage(
            f"encoder {spec.encoder!r}: {exc}",
            f"its settings are: {', '.join(_param_names(factory))}",
        ) from exc
    params = enc.get_params(deep=False) if hasattr(enc, "get_params") else {}
    updates: dict[str, Any] = {}
    if "cache" in params and "cache" not in settings:
        updates["cache"] = cache
    if "verbose" in params and "verbose" not in settings:
        updates["verbose"] = verbose
    if batch_size is not None and "batch_size" in params:
        updates["batch_size"] = batch_size
    if device is not None and "device" in params and "device" not in settings:
        updates["device"] = device
    if updates:
        enc.set_params(**updates)
    validate = getattr(enc, "_validate_params", None)
    if callable(validate):
        try:
            validate()
        except ValueError as exc:  # sklearn's InvalidParameterError
            raise usage(
                f"encoder {spec.encoder!r}: {exc}",
                f"its settings are: {', '.join(_param_names(factory))}",
            ) from exc
    return enc, settings


def _signature(factory: Any) -> list[inspect.Parameter]:
    """The factory's parameters; none when it has no signature to read."""
    try:
        return list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        return []


def _first_positional(factory: Any) -> str | None:
    for p in _signature(factory):
        if p.kind == p.POSITIONAL_OR_KEYWORD and p.name != "self":
            return p.name
        if p.kind != p.POSITIONAL_ONLY:
            break
    return None


def _param_names(factory: Any) -> list[str]:
    return [
        p.name
        for p in _signature(factory)
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"
    ]


def _param_example(factory: Any) -> str:
    names = _param_names(factory)
    return f"{names[0]}=..." if names else "KEY=VALUE"
