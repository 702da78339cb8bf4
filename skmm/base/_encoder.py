"""The column encoder: from a column of cells to a float32 array.

An encoder reads one column of cells (or several, encoded one after the
other and concatenated) and returns a 2-D float32 array.  ``BaseEncoder``
does the parts that are the same for every modality, so that a modality only
says how to *read* one cell (``_prepare``) and how to *embed* a batch of read
cells (``_encode_batch``):

- the columns of ``X``, with sklearn's ``n_features_in_`` /
  ``feature_names_in_`` checks (:mod:`skmm.base._cells`);
- missing cells (None, NaN, pd.NA, pd.NaT, and ``""`` or whitespace-only
  strings in every modality) -> rows of NaN;
- de-duplication of identical cells within one call;
- per-item error handling (``on_error="raise" | "nan"``), so one bad item
  neither hides which one it was nor loses the other rows' work: a failure
  while reading a cell, a batch whose encoding raises (re-encoded item by
  item to find the culprit) and an item embedded as NaN/inf all name the
  column, the row and the item;
- batching with a progress bar, and the embedding cache written batch by
  batch (:mod:`skmm.base._cache_sink`), so a failure or a killed process
  loses at most one batch.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Hashable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from skmm.base._cache_sink import _CacheSink, open_cache
from skmm.base._cells import Column, _file_key, is_missing, read_columns, short_repr
from skmm.base._docs import SHARED_DOCS
from skmm.exceptions import (
    InvalidItemError,
    InvalidItemWarning,
    MissingDependencyError,
    MissingModelError,
)
from skmm.utils._docs import fill_doc
from skmm.utils._hashing import hash_item
from skmm.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
    check_is_fitted,
)

__all__ = ["BaseEncoder"]


# Failures that say nothing about the item being encoded: never mapped to one.
_NOT_AN_ITEMS_FAULT = (MissingModelError, MissingDependencyError, MemoryError)


def _as_rows(emb: Any, n: int, d: int) -> np.ndarray:
    """A batch's embeddings as float32 ``(n, d)``, or ValueError."""
    emb = np.asarray(emb, dtype=np.float32)
    if emb.shape != (n, d):
        raise ValueError(
            f"the encoder returned an array of shape {emb.shape} for {n} "
            f"item(s); expected ({n}, {d})"
        )
    return emb


@fill_doc(SHARED_DOCS)
class BaseEncoder(TransformerMixin, BaseEstimator):
    """Base class of skmm's column encoders.

    Subclasses set ``_modality`` and implement ``_prepare(item)`` (read one
    cell; raise any exception for a bad one), ``_encode_batch(prepared)``
    (return an ``(n, d)`` array) and ``_fit_encoder(prepared_or_none)``, which
    must set ``n_features_out_`` (the width per input column).  Subclasses
    that need the prepared training cells at fit (TF-IDF) set
    ``_fit_requires_data = True``.

    Subclasses take ``batch_size``, ``on_error`` and ``verbose`` (and
    ``cache``, ``device``, ``pickle_weights`` where they take them) in their
    ``__init__``: sklearn reads parameters from the signature.  A plugin
    writes that ``__init__`` by hand; skmm's own encoders declare their
    parameters as annotated class attributes, with a group of shared ones
    from :mod:`skmm.base._params` as a base, and have the ``__init__``
    written by :func:`~skmm.utils._params.estimator_init`.  The constraints
    of the shared parameters are declared once, here; a subclass merges them
    with its own, ``{**BaseEncoder._parameter_constraints, "n_bins": [...]}``,
    and keeps those of the shared parameters its ``__init__`` takes.
    """

    _modality: ClassVar[str] = "generic"
    _fit_requires_data: ClassVar[bool] = False
    # "" and whitespace-only strings are missing cells (text, or a path)
    _empty_string_is_missing: ClassVar[bool] = True

    _parameter_constraints: ClassVar[dict] = {
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "on_error": [StrOptions({"raise", "nan"})],
        "verbose": ["verbose"],
        "cache": ["boolean", str, Path, None],
        "device": [str, object],
        "pickle_weights": ["boolean"],
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):
            cls._init_written()

    @classmethod
    def _init_written(cls) -> None:
        """Keep the constraints of the shared parameters ``__init__`` takes.

        Called for a class that writes its ``__init__`` and, by
        :func:`~skmm.utils._params.estimator_init`, for one whose
        ``__init__`` is generated from its declared parameters.
        """
        try:
            params = set(cls._get_param_names())
        except RuntimeError:  # *args: sklearn's get_params says so
            return
        # a class has constraints for exactly its parameters (sklearn's
        # check_param_validation): drop the shared ones it does not take
        shared = BaseEncoder._parameter_constraints
        cls._parameter_constraints = {
            name: constraint
            for name, constraint in cls._parameter_constraints.items()
            if name in params or name not in shared
        }

    # ------------------------------------------------------------------ hooks
    def _prepare(self, item: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _encode_batch(self, prepared: list) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _fit_encoder(self, prepared: list | None) -> None:  # pragma: no cover
        raise NotImplementedError

    def _item_key(self, item: Any) -> Hashable:
        """Key for de-duplication: equal keys mean equal embeddings."""
        return hash_item(item)

    def _is_missing(self, item: Any) -> bool:
        if is_missing(item):
            return True
        return (
            self._empty_string_is_missing
            and isinstance(item, (str, np.str_))
            and not item.strip()
        )

    def _describe_item(self, item: Any) -> str:
        return short_repr(item)

    def _split_array_columns(self, X: np.ndarray) -> list[list] | None:
        """Let a modality read an ndarray its own way (e.g. a 4-D image batch).

        Return a list of columns (each a list of cells) or None for the
        default (a 1-D array is one column, a 2-D array one column per
        array column).
        """
        return None

    # ------------------------------------------------------------ input side
    def _columns(self, X: Any, *, reset: bool) -> list[Column]:
        """Validate ``X`` and return its columns."""
        return read_columns(self, X, reset=reset)

    # ------------------------------------------------------------- encoding
    def _invalid(self, col: Column, pos: int, item: Any, exc: BaseException):
        row = col.rows[pos]
        reason = str(exc) or type(exc).__name__
        return InvalidItemError(
            f"{type(self).__name__} could not read the {self._modality} item in "
            f"column {col.name!r}, row {row!r} ({self._describe_item(item)}): "
            f"{reason}",
            column=col.name,
            row=row,
            item=self._describe_item(item),
        )

    def _unique_valid(self, col: Column) -> tuple[np.ndarray, list, list]:
        """De-duplicate the non-missing cells of ``col``.

        Returns (inverse, first_positions, keys) where ``inverse[i]`` is the
        index of row i's unique item (-1 for missing cells).
        """
        inverse = np.full(len(col.cells), -1, dtype=np.int64)
        first: list[int] = []
        keys: list = []
        seen: dict = {}
        for pos, item in enumerate(col.cells):
            if self._is_missing(item):
                continue
            try:
                key = self._item_key(item)
            except Exception:
                # not hashable: no de-duplication; _prepare reports it if bad
                key = ("__unkeyed__", pos)
            idx = seen.get(key)
            if idx is None:
                idx = seen[key] = len(first)
                first.append(pos)
                keys.append(key)
            inverse[pos] = idx
        return inverse, first, keys

    def _prepare_checked(self, col: Column, pos: int, failures: list) -> Any:
        item = col.cells[pos]
        try:
            return self._prepare(item)
        except Exception as exc:
            error = self._invalid(col, pos, item, exc)
            if self.on_error == "raise":
                raise error from exc
            failures.append(error)
            return None

    def _report_failures(self, col: Column, failures: list, n_total: int) -> None:
        if failures:
            warnings.warn(
                InvalidItemWarning.counted(
                    col.name, len(failures), n_total, str(failures[0])
                ),
                stacklevel=3,
            )

    def _progress(self, total: int, desc: str):
        from tqdm.auto import tqdm

        disable = (not self.verbose) or total <= self.batch_size
        return tqdm(total=total, desc=desc, unit="item", disable=disable, leave=False)

    def _batch_order(self, cells: list) -> np.ndarray | None:
        """Order in which to encode unique cells (e.g. by text length, to cut
        padding); ``None`` keeps first-seen order."""
        return None

    def _encode_checked(
        self, col: Column, positions: list[int], prepared: list, failures: list
    ) -> tuple[np.ndarray, InvalidItemError | None]:
        """Embed one batch of read cells, mapping any failure to its item.

        A batch that raises is re-encoded item by item, so the item that
        caused the failure is named (and the others keep their rows); when
        every item fails alike, the fault is not the items' and the original
        exception propagates.  An item embedded as NaN/inf is a failure too.
        Returns ``(rows, error)``: failed rows are NaN; ``error`` is the first
        failure under ``on_error="raise"`` (raised by the caller once the good
        rows are saved), else ``None`` and failures are appended.
        """
        n, d = len(prepared), self.n_features_out_
        errors: dict[int, BaseException] = {}
        try:
            emb = _as_rows(self._encode_batch(prepared), n, d)
        except _NOT_AN_ITEMS_FAULT:
            raise
        except Exception as exc:
            if n == 1:
                emb = np.full((1, d), np.nan, dtype=np.float32)
                errors[0] = exc
            else:
                emb = np.full((n, d), np.nan, dtype=np.float32)
                for j, item in enumerate(prepared):
                    try:
                        emb[j] = _as_rows(self._encode_batch([item]), 1, d)[0]
                    except _NOT_AN_ITEMS_FAULT:
                        raise
                    except Exception as single:
                        errors[j] = single
                alike = {(type(e), str(e)) for e in errors.values()}
                if len(errors) == n and len(alike) == 1:
                    raise
        bad = np.flatnonzero(~np.isfinite(emb).all(axis=1))
        for j in bad:
            errors.setdefault(
                int(j),
                ValueError(
                    f"{type(self).__name__} embedded it as non-finite values "
                    "(NaN or inf)"
                ),
            )
        first_error = None
        for j in sorted(errors):
            pos = positions[j]
            error = self._invalid(col, pos, col.cells[pos], errors[j])
            error.__cause__ = errors[j]
            emb[j] = np.nan
            if self.on_error == "raise":
                first_error = first_error or error
            else:
                failures.append(error)
        return emb, first_error

    def _encode_positions(
        self, col: Column, positions: list[int], sink: Any = None
    ) -> np.ndarray:
        """Embed the cells at ``positions`` (NaN rows for failures).

        ``sink(indices, rows)``, when given, receives each batch's good rows
        (``indices`` into ``positions``) as soon as the batch is done, so
        that they are saved even if a later item fails or the process dies.
        """
        out = np.full((len(positions), self.n_features_out_), np.nan, dtype=np.float32)
        order = self._batch_order([col.cells[p] for p in positions])
        if order is None:
            order = np.arange(len(positions))
        failures: list = []
        bs = self.batch_size
        with self._progress(
            len(positions), f"{type(self).__name__}[{col.name}]"
        ) as bar:
            for start in range(0, len(order), bs):
                chunk = order[start : start + bs]
                prepared, slots = [], []
                error = None
                for slot in chunk:
                    try:
                        p = self._prepare_checked(col, positions[slot], failures)
                    except InvalidItemError as exc:  # on_error="raise"
                        error = exc
                        break
                    if p is not None:
                        prepared.append(p)
                        slots.append(slot)
                if prepared:
                    emb, batch_error = self._encode_checked(
                        col, [positions[s] for s in slots], prepared, failures
                    )
                    out[slots] = emb
                    if sink is not None:
                        good = np.isfinite(emb).all(axis=1)
                        if good.any():
                            sink(np.asarray(slots)[good], emb[good])
                    error = error or batch_error
                if error is not None:
                    raise error from error.__cause__
                bar.update(len(chunk))
        self._report_failures(col, failures, len(positions))
        return out

    def _encode_column(self, col: Column) -> np.ndarray:
        inverse, first, keys = self._unique_valid(col)
        d = self.n_features_out_
        result = np.full((len(col.cells), d), np.nan, dtype=np.float32)
        if not first:
            return result
        unique = np.full((len(first), d), np.nan, dtype=np.float32)
        todo = np.arange(len(first))
        store, namespace = open_cache(self)
        sink = None
        if store is not None:
            file_keys = [_file_key(k) for k in keys]
            idx = np.asarray([i for i, fk in enumerate(file_keys) if fk is not None])
            idx = idx.astype(np.int64)
            values, found = store.get_many(namespace, [file_keys[i] for i in idx], d)
            unique[idx[found]] = values[found]
            todo = np.setdiff1d(todo, idx[found])
            sink = _CacheSink(store, namespace, [file_keys[i] for i in todo])
        if todo.size:
            unique[todo] = self._encode_positions(
                col, [first[i] for i in todo], sink=sink
            )
        valid = inverse >= 0
        result[valid] = unique[inverse[valid]]
        return result

    def _cache_identity(self) -> str:
        """Model identity for the cache key (weights hash); none by default."""
        return ""

    # ------------------------------------------------------------ public API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> BaseEncoder:
        """Validate the input column(s) and prepare the encoder.

        Parameters
        ----------
        X : DataFrame, Series, list or array
            One column of items (or several columns, each encoded alike).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        columns = self._columns(X, reset=True)
        prepared = None
        if self._fit_requires_data:
            prepared = []
            for col in columns:
                _, first, _ = self._unique_valid(col)
                failures: list = []
                for pos in first:
                    p = self._prepare_checked(col, pos, failures)
                    if p is not None:
                        prepared.append(p)
                self._report_failures(col, failures, len(first))
        self._fit_encoder(prepared)
        self._column_names_ = [c.name for c in columns]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Encode every cell; a missing or (with ``on_error="nan"``) bad cell
        gives a row of NaN.

        Parameters
        ----------
        {transform_X}

        Returns
        -------
        ndarray of shape (n_samples, n_columns * n_features_out_), float32
        """
        check_is_fitted(self, "n_features_out_")
        columns = self._columns(X, reset=False)
        blocks = [self._encode_column(col) for col in columns]
        return blocks[0] if len(blocks) == 1 else np.hstack(blocks)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output feature names: ``f0..f{d-1}`` for one input column,
        ``{column}__f{i}`` for several.

        {names_out}
        """
        check_is_fitted(self, "n_features_out_")
        own = [f"f{i}" for i in range(self.n_features_out_)]
        return self._names_out(own, input_features)

    def _names_out(self, own: list[str], input_features: Any) -> np.ndarray:
        """``own`` (the names of one column's outputs) for one input column,
        ``{column}__{name}`` for several."""
        columns = _check_feature_names_in(self, input_features)
        if len(columns) == 1:
            return np.asarray(own, dtype=object)
        return np.asarray(
            [f"{c}__{name}" for c in columns for name in own], dtype=object
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = self._modality == "text"
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
