"""Encode a table on a Dask cluster: row partitions, one shared encoder.

The design: the unit of distribution is the *table*, not the encoder.  Any
fitted transformer (an skmm encoder, or the ``ColumnTransformer`` of
:func:`~skmm.compose.make_modality_encoder`) encodes a table in one process
today; :func:`encode_table` cuts the table into row partitions and maps the
same fitted object's ``transform`` over them on the user's
``dask.distributed.Client``.  Nothing in the encoders changes, so every
encoder (plugins included) runs distributed, and the result is the one
``transform`` gives in one process.  joblib backends on every encoder were
the alternative; they would split a column, not a table, and every encoder
would need its own ``n_jobs``.

- The fitted encoder is scattered once (``broadcast=True``); pretrained
  encoders pickle without their weights, so each worker loads the weights
  once, into skmm's process-wide model cache, and every partition it runs
  reuses them.
- Partitions carry their data in the task, so a partition whose worker is
  lost is run again elsewhere (Dask reschedules it); with the embedding cache
  in a folder every worker reaches, the rerun reads the batches already
  written and computes only the lost worker's uncached items.
- A partition that raises is retried ``retries`` times by Dask.  A bad item
  is not retried: it follows the encoder's ``on_error`` as in one process
  (``"raise"``: the first bad item, in row order, is raised on the client;
  ``"nan"``: its row is NaN, and one warning per column adds up the
  partitions' bad items; the workers' other warnings are given once each).
"""

from __future__ import annotations

import copy
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sklearn.base import BaseEstimator

from skmm.base import BaseEncoder
from skmm.exceptions import InvalidItemError, InvalidItemWarning
from skmm.utils._imports import import_optional
from skmm.utils._sklearn_compat import check_is_fitted

__all__ = ["encode_partitions", "encode_table"]

DEFAULT_PARTITION_SIZE = 2048


class _ItemFailure:
    """A partition's :class:`InvalidItemError`, returned (not raised) so that
    Dask does not retry what is the item's fault."""

    def __init__(self, error: InvalidItemError) -> None:
        self.error = error


def _encode_partition(encoder: Any, part: Any) -> tuple[Any, list]:
    """Run on a worker: ``encoder.transform(part)`` and the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out: Any = encoder.transform(part)
        except InvalidItemError as exc:
            out = _ItemFailure(exc)
    return out, [_portable(w.message) for w in caught]


def _portable(message: Warning) -> tuple:
    """A caught warning as plain data: an InvalidItemWarning keeps its counts."""
    if isinstance(message, InvalidItemWarning):
        return InvalidItemWarning, (message.column, message.n_failed, message.first)
    return type(message), str(message)


class _Warnings:
    """The partitions' warnings, given once: InvalidItemWarnings added up per
    column (out of all the rows, the first failure of the earliest partition
    kept), any other warning once per distinct message."""

    def __init__(self) -> None:
        self.n_failed: dict[Any, int] = {}  # column -> bad items, all partitions
        self.first: dict[Any, tuple[int, str]] = {}  # column -> (start, failure)
        self.others: dict[tuple, None] = {}

    def add(self, start: int, caught: list) -> None:
        for category, payload in caught:
            if category is InvalidItemWarning:
                column, n_failed, first = payload
                self.n_failed[column] = self.n_failed.get(column, 0) + n_failed
                if column not in self.first or start < self.first[column][0]:
                    self.first[column] = (start, first)
            else:
                self.others.setdefault((category, payload))

    def emit(self, n_rows: int, stacklevel: int) -> None:
        for category, message in self.others:
            warnings.warn(message, category, stacklevel=stacklevel + 1)
        for column, n_failed in self.n_failed.items():
            warnings.warn(
                InvalidItemWarning.counted(
                    column, n_failed, n_rows, self.first[column][1]
                ),
                stacklevel=stacklevel + 1,
            )


def _skmm_encoders(estimator: Any) -> Iterator[BaseEncoder]:
    """The skmm encoders inside a fitted estimator (ColumnTransformer,
    Pipeline, or the encoder itself)."""
    if isinstance(estimator, BaseEncoder):
        yield estimator
    for _, step, *_ in getattr(estimator, "transformers_", None) or []:
        yield from _skmm_encoders(step)
    for _, step in getattr(estimator, "steps", None) or []:
        yield from _skmm_encoders(step)


def _with_cache(encoder: Any, cache: Any) -> Any:
    if cache is None:
        return encoder
    encoder = copy.deepcopy(encoder)
    if isinstance(cache, Path):
        cache = str(cache)
    found = False
    for enc in _skmm_encoders(encoder):
        if "cache" in enc.get_params(deep=False):
            enc.cache = cache
            found = True
    if not found:
        raise ValueError(
            f"cache={cache!r}: {type(encoder).__name__} holds no skmm encoder "
            "that takes a cache; pass cache=None"
        )
    return encoder


def _n_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None else len(X)


def _rows(X: Any, start: int, stop: int) -> Any:
    return X.iloc[start:stop] if hasattr(X, "iloc") else X[start:stop]


def _check_args(encoder: Any, partition_size: int, retries: int) -> None:
    if not callable(getattr(encoder, "transform", None)):
        raise TypeError(
            f"encoder must be a fitted transformer; got {type(encoder).__name__}"
        )
    if isinstance(encoder, BaseEstimator):  # duck-typed transformers: as given
        check_is_fitted(encoder)
    if isinstance(partition_size, bool) or not isinstance(partition_size, int):
        raise TypeError(f"partition_size must be an int; got {partition_size!r}")
    if partition_size < 1:
        raise ValueError(f"partition_size must be >= 1; got {partition_size}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an int >= 0; got {retries!r}")


def encode_partitions(
    X: Any,
    encoder: Any,
    *,
    client: Any,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    retries: int = 2,
    cache: Any = None,
    verbose: int = 0,
) -> Iterator[tuple[int, Any]]:
    """Encode ``X`` partition by partition on a Dask cluster, as they finish.

    The streaming form of :func:`encode_table`, for outputs too large to
    hold at once (``skmm encode --workers`` writes one Parquet shard per
    partition from it).  Each partition's result is released as soon as it
    is yielded.

    Parameters
    ----------
    X : DataFrame, Series, list or array
        The table (or column) ``encoder.transform`` takes.
    encoder : fitted transformer
        An skmm encoder or a fitted ``make_modality_encoder`` ColumnTransformer.
    client : dask.distributed.Client
        The cluster to run on.
    partition_size : int, default=2048
        Rows per partition (one Dask task each).
    retries : int, default=2
        Times Dask reruns a partition that raised (a lost worker is handled
        by Dask apart from these).
    cache : bool, str or Path, optional
        The embedding cache the workers use, set on every skmm encoder inside
        ``encoder`` (a copy): a folder every worker reaches, so that a rerun
        or a rescheduled partition reuses what was computed.  ``None`` keeps
        the encoders' own setting (``cache=True`` is each machine's default
        folder).
    verbose : int, default=0
        A progress bar over the partitions when > 0.

    Yields
    ------
    (start, result)
        The partition's first row position in ``X`` and
        ``encoder.transform`` of its rows, in order of completion.

    Raises
    ------
    InvalidItemError
        Under ``on_error="raise"``, the first bad item of the first failing
        partition in row order.

    Examples
    --------
    >>> from dask.distributed import Client, LocalCluster  # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2))  # doctest: +SKIP
    >>> for start, block in encode_partitions(texts, enc, client=client):
    ...     save(start, block)  # doctest: +SKIP
    """
    import_optional("dask.distributed", extra="dask", package="distributed")
    from dask.distributed import as_completed

    _check_args(encoder, partition_size, retries)
    encoder = _with_cache(encoder, cache)
    n = _n_rows(X)
    starts = list(range(0, n, partition_size))
    shared = client.scatter(encoder, broadcast=True, hash=False)
    token = uuid.uuid4().hex
    futures = {
        client.submit(
            _encode_partition,
            shared,
            _rows(X, s, s + partition_size),
            retries=retries,
            pure=False,
            key=f"skmm-encode-{token}-{i}",
        ): s
        for i, s in enumerate(starts)
    }
    failure: tuple[int, InvalidItemError] | None = None
    caught_all = _Warnings()
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc="encode", unit="row")
    try:
        for future in as_completed(list(futures)):
            start = futures.pop(future)
            out, caught = future.result()
            del future
            caught_all.add(start, caught)
            if bar is not None:
                bar.update(min(partition_size, n - start))
            if isinstance(out, _ItemFailure):
                if failure is None or start < failure[0]:
                    failure = (start, out.error)
                continue
            if failure is None:
                yield start, out
    finally:
        if bar is not None:
            bar.close()
        client.cancel(list(futures))
    caught_all.emit(n, stacklevel=2)
    if failure is not None:
        raise failure[1]


def _concat(blocks: list) -> Any:
    first = blocks[0]
    if hasattr(first, "iloc"):
        import pandas as pd

        return pd.concat(blocks)
    import numpy as np
    import scipy.sparse as sp

    if sp.issparse(first):
        return sp.vstack(blocks, format=first.format)
    return np.concatenate([np.asarray(b) for b in blocks])


def encode_table(
    X: Any,
    encoder: Any,
    *,
    client: Any = None,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    retries: int = 2,
    cache: Any = None,
    verbose: int = 0,
) -> Any:
    """``encoder.transform(X)``, in this process or on a Dask cluster.

    With ``client=None`` this is ``encoder.transform(X)``.  With a
    ``dask.distributed.Client`` the table is cut into row partitions, the
    fitted encoder is sent to every worker once (each worker loads the
    weights once), the partitions are encoded in parallel and the results
    come back in row order, equal to the one-process output.  Install Dask
    with ``pip install 'skmm[dask]'``.

    Parameters
    ----------
    X : DataFrame, Series, list or array
        The table (or column) ``encoder.transform`` takes.
    encoder : fitted transformer
        A fitted skmm encoder or ``make_modality_encoder`` ColumnTransformer.
    client : dask.distributed.Client, optional
        The cluster (a ``LocalCluster`` or a real scheduler's client); the
        caller starts and closes it.  ``None`` encodes in this process.
    partition_size : int, default=2048
        Rows per partition (one Dask task each).  Large enough to fill the
        encoder's batches; small enough that a lost worker loses little.
    retries : int, default=2
        Times Dask reruns a partition that raised.  A lost worker's partition
        is rescheduled by Dask, apart from these.
    cache : bool, str or Path, optional
        The embedding cache every skmm encoder inside ``encoder`` uses on the
        workers (set on a copy): a shared folder, so that reruns and
        rescheduled partitions compute only what no worker wrote yet.
        ``None`` keeps the encoders' own setting.
    verbose : int, default=0
        A progress bar over the rows as partitions finish when > 0.

    Returns
    -------
    ndarray, sparse matrix or DataFrame
        What ``encoder.transform(X)`` returns, rows in the order of ``X``
        (a DataFrame keeps ``X``'s index labels).

    Raises
    ------
    InvalidItemError
        Under the encoder's ``on_error="raise"``: the first bad item in row
        order (not retried).  With ``on_error="nan"`` its row is NaN and one
        InvalidItemWarning per column adds up the partitions' bad items.
    MissingDependencyError
        With a client but without ``dask.distributed``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmm.compose import encode_table
    >>> from skmm.text import TfidfTextEncoder
    >>> texts = pd.Series(["red apple", "blue sea", "green apple"], name="caption")
    >>> enc = TfidfTextEncoder(n_components=2, random_state=0, verbose=0).fit(texts)
    >>> encode_table(texts, enc).shape
    (3, 2)
    >>> from dask.distributed import Client, LocalCluster  # doctest: +SKIP
    >>> with LocalCluster(n_workers=2) as cluster, Client(cluster) as client:
    ...     X = encode_table(texts, enc, client=client, cache="/shared/cache")
    ...     # doctest: +SKIP
    """
    _check_args(encoder, partition_size, retries)
    if client is None:
        return _with_cache(encoder, cache).transform(X)
    parts = dict(
        encode_partitions(
            X,
            encoder,
            client=client,
            partition_size=partition_size,
            retries=retries,
            cache=cache,
            verbose=verbose,
        )
    )
    if not parts:
        return encoder.transform(X)
    return _concat([parts[s] for s in sorted(parts)])
