"""The fusion-module base: what every strategy shares, and its contract.

:class:`BaseFusion` holds what the seven built-in strategies (and a plugin's)
have in common, so that a strategy writes only its own layers and its
combination step:

- the constructor (``dims`` and the keywords ``hidden_dim``, ``n_outputs``,
  ``dropout``) and the knobs, read from :meth:`BaseFusion.build`'s keyword
  arguments (:func:`fusion_knobs`);
- the per-modality layers (:meth:`BaseFusion.per_modality`,
  :meth:`BaseFusion.project_each`), applied to every block by ``forward``
  and stacked as ``(batch, n_modalities, width)`` for
  :meth:`BaseFusion.combine`;
- the building blocks the strategies combine with: :meth:`BaseFusion.mlp`,
  :func:`masked_softmax` and :func:`masked_mean` (the presence mask's
  uses);
- the Optuna sub-space and the conformance-test settings (classmethods).

Absent modalities reach ``forward`` already filled by
:class:`~skmm.fusion.ModalityPlaceholder` (zeros or trained placeholders,
held by :class:`~skmm.fusion._net.FusionNetwork` for every fusion module,
:class:`BaseFusion` or not), with the presence mask beside them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

__all__ = ["BaseFusion", "fusion_knobs", "masked_mean", "masked_softmax"]

_BASE_ARGS = ("self", "dims", "hidden_dim", "n_outputs", "dropout")
_PREFIX = "fusion__"


def _signature_knobs(fn: Callable) -> dict[str, Any]:
    """Keyword arguments of ``fn`` beyond the shared ones, with defaults."""
    out = {}
    for name, p in inspect.signature(fn).parameters.items():
        if name in _BASE_ARGS or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        out[name] = None if p.default is inspect.Parameter.empty else p.default
    return out


def fusion_knobs(cls: type) -> dict[str, Any]:
    """The strategy's own keyword arguments (its knobs) and their defaults.

    The knobs of a :class:`BaseFusion` subclass are the keyword arguments of
    its :meth:`~BaseFusion.build` (of its ``__init__`` where it defines one);
    those of any other class, its constructor's beyond ``dims``,
    ``hidden_dim``, ``n_outputs`` and ``dropout``.

    Parameters
    ----------
    cls : type
        A fusion module class.

    Returns
    -------
    dict
        Knob name -> default value.

    Examples
    --------
    >>> from skmm.fusion import LowRankFusion
    >>> fusion_knobs(LowRankFusion)
    {'rank': 4, 'n_layers': 1}
    """
    if isinstance(cls, type) and issubclass(cls, BaseFusion):
        if cls.__init__ is BaseFusion.__init__:
            return _signature_knobs(cls.build)
    return _signature_knobs(cls.__init__)


def masked_softmax(scores: Tensor, mask: Tensor, dim: int) -> Tensor:
    """Softmax of ``scores`` over ``dim`` where ``mask`` is False gets weight 0.

    Parameters
    ----------
    scores : Tensor
        Scores, broadcastable with ``mask``.
    mask : bool Tensor
        True where the entry takes part (a present modality).
    dim : int
        The axis of the softmax.

    Returns
    -------
    Tensor
    """
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=dim)


def masked_mean(h: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``h`` over the modality axis (dim 1), present modalities only.

    Parameters
    ----------
    h : Tensor of shape (batch, n_modalities, width)
    mask : bool Tensor of shape (batch, n_modalities)

    Returns
    -------
    Tensor of shape (batch, width)
    """
    w = mask.unsqueeze(-1).to(h.dtype)
    return (h * w).sum(dim=1) / w.sum(dim=1)


class _ConstructorSignature:
    """``inspect.signature(cls)`` of a strategy: the shared arguments, then
    its :meth:`~BaseFusion.build` knobs (``None`` on instances, so that an
    instance's signature stays its ``forward``'s)."""

    def __init__(self, cls: type) -> None:
        base = inspect.signature(BaseFusion.__init__)
        shared = base.parameters
        own = inspect.signature(cls.build).parameters.values()
        params = [p for p in shared.values() if p.kind != p.VAR_KEYWORD][1:]
        params += [
            p.replace(kind=p.KEYWORD_ONLY)
            for p in own
            if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]
        self.signature = base.replace(parameters=params)

    def __get__(self, obj: Any, owner: type | None = None) -> inspect.Signature | None:
        return self.signature if obj is None else None


class BaseFusion(nn.Module):
    """Base class of fusion modules: a strategy writes its combination step.

    A subclass declares its knobs as the keyword arguments (with defaults) of
    :meth:`build`, where it creates its layers: one per modality with
    :meth:`project_each` or :meth:`per_modality`, then whatever it combines
    them with.  ``forward`` applies the per-modality layer to each block and
    hands the stack to :meth:`combine`, the strategy's own step.  A subclass
    may instead define ``__init__`` (calling this one) and ``forward``
    itself.

    Parameters
    ----------
    dims : dict
        Modality name -> input width, in the order of the mask's columns.
    hidden_dim : int, default=64
        Width of the hidden representations.
    n_outputs : int, default=1
        Width of the output (classes for a classifier, targets for a
        regressor).
    dropout : float, default=0.1
        Dropout probability inside the module.
    **knobs
        The strategy's knobs, passed to :meth:`build`.

    Notes
    -----
    A subclass sets :attr:`name`, :attr:`knob_space` (its Optuna sub-space)
    and :attr:`test_params`, or overrides :meth:`search_space` and
    :meth:`get_test_params`.

    Examples
    --------
    >>> import torch
    >>> class SumFusion(BaseFusion):
    ...     def build(self, *, scale=1.0):
    ...         self.scale = scale
    ...         self.project_each(self.n_outputs, activation=False)
    ...
    ...     def combine(self, h, mask, blocks):
    ...         return self.scale * (h * mask.unsqueeze(-1)).sum(dim=1)
    >>> m = SumFusion({"a": 3, "b": 2}, n_outputs=2, scale=0.5)
    >>> blocks = {"a": torch.zeros(4, 3), "b": torch.zeros(4, 2)}
    >>> m(blocks, torch.ones(4, 2, dtype=torch.bool)).shape
    torch.Size([4, 2])
    >>> fusion_knobs(SumFusion)
    {'scale': 1.0}
    """

    name: ClassVar[str] = ""
    #: knob -> its range in :meth:`search_space`: ``(low, high)`` (ints or
    #: floats), ``(low, high, "log")`` on a log scale, or a list of choices
    knob_space: ClassVar[Mapping[str, tuple | list]] = {}
    #: knob settings for :meth:`get_test_params` (cheap to build and train)
    test_params: ClassVar[list[dict[str, Any]]] = [{}]

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        hidden_dim: int = 64,
        n_outputs: int = 1,
        dropout: float = 0.1,
        **knobs: Any,
    ) -> None:
        super().__init__()
        if not dims:
            raise ValueError("a fusion module needs at least one modality")
        self.dims = {str(k): int(v) for k, v in dims.items()}
        self.modalities = list(self.dims)
        self.hidden_dim = int(hidden_dim)
        self.n_outputs = int(n_outputs)
        self.dropout = float(dropout)
        self._per_modality: str | None = None
        try:
            inspect.signature(self.build).bind(**knobs)
        except TypeError as exc:
            raise TypeError(f"{type(self).__qualname__}.__init__() {exc}") from None
        self.build(**knobs)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):  # its own signature, not an inherited one
            cls.__signature__ = None
        elif "build" in vars(cls):
            cls.__signature__ = _ConstructorSignature(cls)

            # an __init__ of its own whose signature names the knobs, for the
            # API pages (griffe reads __init__, not the class's __signature__)
            def __init__(self: BaseFusion, dims: Mapping[str, int], **kw: Any) -> None:
                BaseFusion.__init__(self, dims, **kw)

            sig = cls.__signature__
            self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
            __init__.__signature__ = sig.replace(  # type: ignore[attr-defined]
                parameters=[self_param, *sig.parameters.values()]
            )
            __init__.__qualname__ = f"{cls.__qualname__}.__init__"
            __init__.__module__ = cls.__module__
            __init__.__doc__ = BaseFusion.__init__.__doc__
            cls.__init__ = __init__  # type: ignore[method-assign]

    # ---------------------------------------------------------------- layers
    def build(self) -> None:
        """Create the strategy's layers; its keyword arguments are the knobs.

        The shared settings are set before: ``self.dims``,
        ``self.modalities``, ``self.hidden_dim``, ``self.n_outputs`` and
        ``self.dropout``.  The default creates nothing (for subclasses that
        define ``__init__`` and ``forward`` themselves).
        """

    def per_modality(
        self, name: str, layer: Callable[[int], nn.Module]
    ) -> nn.ModuleDict:
        """Create ``layer(width)`` for each modality, as attribute ``name``.

        ``forward`` applies them to the blocks before :meth:`combine`.

        Parameters
        ----------
        name : str
            Attribute name of the :class:`~torch.nn.ModuleDict` (modality ->
            layer).
        layer : callable
            Input width -> module.

        Returns
        -------
        torch.nn.ModuleDict
        """
        layers = nn.ModuleDict({m: layer(w) for m, w in self.dims.items()})
        setattr(self, name, layers)
        self._per_modality = name
        return layers

    def project_each(
        self,
        width: int | None = None,
        *,
        activation: bool = True,
        name: str = "project",
    ) -> nn.ModuleDict:
        """One linear projection per modality (see :meth:`per_modality`).

        Parameters
        ----------
        width : int, optional
            Output width; ``hidden_dim`` by default.
        activation : bool, default=True
            Follow the linear layer by ReLU and dropout.
        name : str, default="project"
            Attribute name of the projections.

        Returns
        -------
        torch.nn.ModuleDict
        """
        out = self.hidden_dim if width is None else int(width)

        def layer(w: int) -> nn.Module:
            if not activation:
                return nn.Linear(w, out)
            return nn.Sequential(nn.Linear(w, out), nn.ReLU(), nn.Dropout(self.dropout))

        return self.per_modality(name, layer)

    def mlp(
        self, in_dim: int, n_layers: int = 1, out_dim: int | None = None
    ) -> nn.Sequential:
        """``n_layers`` hidden layers of ``hidden_dim`` (ReLU, dropout), then a
        linear layer to ``out_dim`` (``n_outputs`` by default).

        Parameters
        ----------
        in_dim : int
            Input width.
        n_layers : int, default=1
            Hidden layers.
        out_dim : int, optional
            Output width.

        Returns
        -------
        torch.nn.Sequential
        """
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(n_layers):
            layers += [nn.Linear(width, self.hidden_dim), nn.ReLU()]
            layers.append(nn.Dropout(self.dropout))
            width = self.hidden_dim
        layers.append(nn.Linear(width, self.n_outputs if out_dim is None else out_dim))
        return nn.Sequential(*layers)

    # --------------------------------------------------------------- forward
    def forward(self, blocks: Mapping[str, Tensor], mask: Tensor) -> Tensor:
        """Apply the per-modality layers, then :meth:`combine`.

        Parameters
        ----------
        blocks : dict
            Modality name -> float tensor of shape ``(batch, dims[name])``
            (absent modalities hold their placeholder).
        mask : bool Tensor of shape (batch, n_modalities)
            Presence mask, columns in the order of ``dims``.

        Returns
        -------
        Tensor of shape (batch, n_outputs)
        """
        if self._per_modality is None:
            raise TypeError(
                f"{type(self).__name__} has no per-modality layers: create them "
                "in build() with self.project_each() or self.per_modality(), or "
                "override forward(blocks, mask)."
            )
        return self.combine(self.stack(blocks), mask, blocks)

    def stack(
        self, blocks: Mapping[str, Tensor], layers: nn.ModuleDict | None = None
    ) -> Tensor:
        """Apply one layer per modality; stack as ``(batch, n_modalities, d)``.

        Parameters
        ----------
        blocks : dict
            Modality name -> tensor.
        layers : torch.nn.ModuleDict, optional
            The layers; those of :meth:`per_modality` by default.

        Returns
        -------
        Tensor
        """
        if layers is None:
            layers = getattr(self, str(self._per_modality))
        return torch.stack([layers[m](blocks[m]) for m in self.modalities], dim=1)

    _stack = stack  # the name plugins written before build() may call

    def combine(self, h: Tensor, mask: Tensor, blocks: Mapping[str, Tensor]) -> Tensor:
        """The strategy's own step: per-modality vectors -> outputs.

        Parameters
        ----------
        h : Tensor of shape (batch, n_modalities, width)
            Each modality's block through its per-modality layer, in the
            order of ``dims``.
        mask : bool Tensor of shape (batch, n_modalities)
            Presence mask (at least one True per row).
        blocks : dict
            The input blocks themselves (modality name -> tensor).

        Returns
        -------
        Tensor of shape (batch, n_outputs)
        """
        raise NotImplementedError  # pragma: no cover

    # ------------------------------------------------------- search, tests
    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        """Suggest this strategy's knobs from an Optuna ``trial``.

        The default draws the knobs of :attr:`knob_space`, in its order.

        Parameters
        ----------
        trial : optuna.trial.Trial
            The trial the knobs are drawn from.

        Returns
        -------
        dict
            ``"fusion__<knob>"`` -> suggested value (to pass to ``set_params``).
            Trial parameter names are ``"<strategy>.<knob>"`` so that two
            strategies' knobs never clash in one study.
        """
        strategy = cls.name or cls.__name__.lower()
        out = {}
        for knob, spec in cls.knob_space.items():
            label = f"{strategy}.{knob}"
            if isinstance(spec, list):
                out[_PREFIX + knob] = trial.suggest_categorical(label, spec)
                continue
            low, high, *scale = spec
            ints = isinstance(low, int) and isinstance(high, int)
            suggest = trial.suggest_int if ints else trial.suggest_float
            out[_PREFIX + knob] = suggest(label, low, high, log=scale == ["log"])
        return out

    @classmethod
    def get_test_params(cls) -> list[dict[str, Any]]:
        """Cheap knob settings for conformance tests (without the prefix).

        Returns
        -------
        list of dict
            A copy of :attr:`test_params`.
        """
        return [dict(p) for p in cls.test_params]

    def extra_repr(self) -> str:
        return f"dims={self.dims}, hidden_dim={self.hidden_dim}"
