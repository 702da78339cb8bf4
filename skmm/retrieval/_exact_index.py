"""ExactIndex: exact inner-product search in torch, with skmm's tie rule.

The gallery is scored in chunks against blocks of queries, keeping a
running top-k; the helpers below break ties towards the lower gallery id, so
results equal a stable sort of the full score matrix.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np

from skmm.retrieval._index import BaseIndex
from skmm.utils._device import resolve_device
from skmm.utils._params import estimator_init
from skmm.utils._sklearn_compat import Interval, StrOptions

__all__ = ["ExactIndex"]


@estimator_init
class ExactIndex(BaseIndex):
    """Exact inner-product search: chunked matrix product and top-k in torch.

    The gallery is scored ``chunk_size`` rows at a time against blocks of at
    most ``query_chunk_size`` queries, keeping a running top-k, so the
    memory beyond the stored vectors is bounded by ``query_chunk_size *
    chunk_size`` floats whatever the gallery size.

    Ties follow :mod:`skmm.metrics`' rule: among equal scores the lower
    gallery id ranks first, so results equal a stable sort of the full
    score matrix.

    Parameters
    ----------
    metric : {"ip", "cosine"}, default="ip"
        ``"cosine"`` L2-normalises gallery and queries (the scores are then
        cosine similarities).  skmm retrievers embed L2-normalised vectors,
        for which both are the same.
    chunk_size : int, default=32768
        Gallery rows scored at once.
    query_chunk_size : int, default=1024
        Queries scored at once.
    dtype : {"float32", "float16"}, default="float32"
        Storage type of the gallery vectors; ``"float16"`` halves the memory.
        Scores are computed in float32 on the CPU (in the storage type on a
        GPU) and returned as float32.
    device : str, default="auto"
        Where the gallery lives and is scored (CUDA when available).

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.retrieval import ExactIndex
    >>> gallery = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    >>> index = ExactIndex().add(gallery)
    >>> indices, scores = index.search(np.array([[1.0, 0.1]]), k=2)
    >>> indices, scores.round(2)
    (array([[0, 2]]), array([[1.  , 0.68]], dtype=float32))
    """

    _parameter_constraints: ClassVar[dict] = {
        "metric": [StrOptions({"ip", "cosine"})],
        "chunk_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "query_chunk_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"float32", "float16"})],
        "device": "no_validation",
    }

    metric: str = "ip"
    chunk_size: int = 32768
    query_chunk_size: int = 1024
    dtype: str = "float32"
    device: Any = "auto"

    def _torch_dtype(self):
        import torch

        return torch.float16 if self.dtype == "float16" else torch.float32

    def _add(self, X: np.ndarray) -> None:
        import torch

        dev = resolve_device(self.device)
        new = torch.tensor(X, dtype=self._torch_dtype(), device=dev)
        old = getattr(self, "_store", None)
        self._store = new if old is None else torch.cat([old.to(dev), new])

    def _search(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        store = self._store
        dev = store.device
        compute = store.dtype if dev.type == "cuda" else torch.float32
        n = store.shape[0]
        out_idx = np.empty((Q.shape[0], k), np.int64)
        out_val = np.empty((Q.shape[0], k), np.float32)
        with torch.inference_mode():
            for qs in range(0, Q.shape[0], self.query_chunk_size):
                q = torch.as_tensor(Q[qs : qs + self.query_chunk_size], device=dev)
                q = q.to(compute)
                best_v = best_i = None
                for gs in range(0, n, self.chunk_size):
                    block = store[gs : gs + self.chunk_size]
                    if block.dtype != compute:
                        block = block.to(compute)
                    s = (q @ block.T).float()
                    v, i = _block_topk(s, k)
                    i = i + gs
                    if best_v is None:
                        best_v, best_i = v, i
                    else:
                        best_v, best_i = _merge(best_v, best_i, v, i, k)
                rows = slice(qs, qs + q.shape[0])
                out_idx[rows] = best_i.cpu().numpy()
                out_val[rows] = best_v.cpu().numpy()
        return out_idx, out_val

    def _state(self) -> dict[str, np.ndarray]:
        return {"vectors": self._store.cpu().numpy()}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        import torch

        self._store = torch.as_tensor(
            np.ascontiguousarray(arrays["vectors"]), dtype=self._torch_dtype()
        ).to(resolve_device(self.device))

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        if "_store" in state:  # pickle on the CPU, like skorch
            state["_store"] = state["_store"].cpu()
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        store = getattr(self, "_store", None)
        if store is not None:
            self._store = store.to(resolve_device(self.device))


def _order_by_score_then_id(v, i):
    """Sort candidate lists by score descending, then id ascending."""
    import torch

    i, perm = torch.sort(i, dim=1)
    v = torch.gather(v, 1, perm)
    v, perm = torch.sort(v, dim=1, descending=True, stable=True)
    return v, torch.gather(i, 1, perm)


def _block_topk(s, k: int):
    """Top-k of one score block with ties broken towards the lower column."""
    import torch

    n = s.shape[1]
    if n <= k:
        ids = torch.arange(n, device=s.device).expand(s.shape[0], n)
        return _order_by_score_then_id(s, ids.contiguous())
    # one extra candidate tells whether the k-th place is tied with the next
    v, i = torch.topk(s, k + 1, dim=1, largest=True, sorted=True)
    tied = v[:, k - 1] == v[:, k]
    v, i = v[:, :k], i[:, :k]
    if bool(tied.any()):
        # rare: several columns share the k-th score; keep the lowest ids
        for r in torch.nonzero(tied).flatten().tolist():
            row, t = s[r], v[r, k - 1]
            above = torch.nonzero(row > t).flatten()
            equal = torch.nonzero(row == t).flatten()[: k - above.numel()]
            ids = torch.cat([above, equal])
            i[r] = ids
            v[r] = row[ids]
    return _order_by_score_then_id(v, i)


def _merge(v1, i1, v2, i2, k: int):
    """Merge two sorted candidate lists; ids in ``i1`` are all lower than ``i2``."""
    import torch

    v = torch.cat([v1, v2], dim=1)
    i = torch.cat([i1, i2], dim=1)
    # stable: on equal scores the earlier (lower-id) list wins
    v, perm = torch.sort(v, dim=1, descending=True, stable=True)
    return v[:, :k], torch.gather(i, 1, perm[:, :k])
