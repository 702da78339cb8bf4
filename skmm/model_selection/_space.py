"""Search spaces: the default define-by-run space and flat (GridSearchCV-like)
spaces, both as functions ``space(trial) -> {estimator parameter: value}``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["FlatSpace", "default_space", "final_step", "fusion_space"]

_PRIMITIVE = (type(None), bool, int, float, str)


def final_step(estimator: Any) -> tuple[Any, str]:
    """The estimator at the end of (nested) Pipelines and its parameter prefix.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmm.fusion import FusionClassifier
    >>> est, prefix = final_step(make_pipeline(StandardScaler(), FusionClassifier()))
    >>> type(est).__name__, prefix
    ('FusionClassifier', 'fusionclassifier__')
    """
    from sklearn.pipeline import Pipeline

    prefix = ""
    while isinstance(estimator, Pipeline):
        name, estimator = estimator.steps[-1]
        prefix += f"{name}__"
    return estimator, prefix


def fusion_space(
    trial: Any,
    *,
    strategies: list[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    prefix: str = "",
) -> dict[str, Any]:
    """The default space of a fusion estimator, drawn define-by-run.

    The strategy is drawn first (``"fusion"``, among ``strategies`` or every
    registered one, plugins included), then the knobs every strategy shares
    (``lr``, ``hidden_dim``, ``dropout``, ``weight_decay``), then the chosen
    strategy's own sub-space (its ``search_space(trial)``, trial names
    ``"<strategy>.<knob>"``).

    Parameters
    ----------
    trial : optuna.trial.Trial
    strategies : list of str, optional
        The strategies to choose from (default: all registered ones).
    overrides : dict, optional
        Trial parameter name (``"lr"``, ``"concat.n_layers"``, ...) -> a list
        of choices, an Optuna distribution, or a fixed value, replacing that
        part of the space.
    prefix : str, default=""
        Prepended to the returned estimator parameter names (for a fusion
        estimator at the end of a Pipeline: ``"<step name>__"``).

    Returns
    -------
    dict
        Estimator parameter -> value, for ``set_params``.

    Examples
    --------
    >>> import optuna
    >>> trial = optuna.trial.FixedTrial({"fusion": "lowrank", "lr": 1e-3,
    ...     "hidden_dim": 64, "dropout": 0.1, "weight_decay": 1e-4,
    ...     "lowrank.rank": 8})
    >>> fusion_space(trial)  # doctest: +NORMALIZE_WHITESPACE
    {'fusion': 'lowrank', 'lr': 0.001, 'hidden_dim': 64, 'dropout': 0.1,
     'weight_decay': 0.0001, 'fusion__rank': 8}
    """
    import optuna

    from skmm.registry import fusions

    names = list(strategies) if strategies is not None else fusions.names()
    overrides = dict(overrides or {})
    defaults: dict[str, Any] = {
        "fusion": optuna.distributions.CategoricalDistribution(names),
        "lr": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True),
        "hidden_dim": optuna.distributions.CategoricalDistribution([32, 64, 128, 256]),
        "dropout": optuna.distributions.FloatDistribution(0.0, 0.5),
        "weight_decay": optuna.distributions.FloatDistribution(1e-6, 1e-2, log=True),
    }
    params: dict[str, Any] = {}
    for name, dist in defaults.items():
        params[prefix + name] = suggest(trial, name, overrides.pop(name, dist))
    strategy = params[prefix + "fusion"]
    fusion_cls = fusions.get(strategy)
    own = getattr(fusion_cls, "search_space", None)
    if own is not None:
        sub = _OverridingTrial(trial, overrides)
        for key, value in own(sub).items():
            params[prefix + key] = value
    return params


def tower_depths(encoders: Mapping[str, Any] | None) -> dict[str, int]:
    """Modality -> how many blocks its encoder's tower can unfreeze (0 for
    encoders that can only be locked), read without loading weights."""
    out = {}
    for m, enc in (encoders or {}).items():
        depth = getattr(enc, "_tower_depth", None)
        out[m] = int(depth()) if depth is not None else 0
    return out


def tuning_space(
    trial: Any,
    depths: Mapping[str, int],
    *,
    modalities: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    prefix: str = "",
) -> dict[str, Any]:
    """How deep to fine-tune each tower: the sub-space of fine-tuning
    estimators (``FusionClassifier(encoders=...)``, ``TwoTowerRetriever``).

    For each tower that can train, ``unfreeze.<modality>`` (0 .. at most 4
    transformer layers or 6 CNN blocks, never more than its depth), and when
    it trains, ``tower_lr.<modality>`` (1e-5 .. 1e-3, log); with a tuned text
    tower, ``lora`` (rank 0 = off, 4, 16).

    Parameters
    ----------
    trial : optuna.trial.Trial
    depths : dict
        Modality -> tower depth (see :func:`tower_depths`).
    modalities : dict, optional
        Modality -> its kind (``"text"``, ``"image"``); by default the
        modality's name.
    overrides : dict, optional
        Trial parameter name -> choices, distribution or fixed value.
    prefix : str, default=""
        Prepended to the returned parameter names.

    Returns
    -------
    dict
        ``{"unfreeze": {...}, "tower_lr": {...}, "lora": rank or None}``
        (prefixed).

    Examples
    --------
    >>> import optuna
    >>> trial = optuna.trial.FixedTrial({"unfreeze.text": 2,
    ...     "tower_lr.text": 3e-5, "unfreeze.image": 0, "lora": 0})
    >>> tuning_space(trial, {"text": 6, "image": 19})
    {'unfreeze': {'text': 2, 'image': 0}, 'tower_lr': {'text': 3e-05}, 'lora': None}
    """
    import optuna

    overrides = dict(overrides or {})
    kinds = dict(modalities or {})
    unfreeze: dict[str, int] = {}
    tower_lr: dict[str, float] = {}
    text_tuned = False
    for m, depth in depths.items():
        if depth <= 0:
            unfreeze[m] = 0
            continue
        kind = kinds.get(m, m)
        top = min(depth, 4 if kind == "text" else 6)
        dist = optuna.distributions.IntDistribution(0, top)
        n = suggest(trial, f"unfreeze.{m}", overrides.pop(f"unfreeze.{m}", dist))
        unfreeze[m] = int(n)
        if n:
            lr = optuna.distributions.FloatDistribution(1e-5, 1e-3, log=True)
            tower_lr[m] = suggest(
                trial, f"tower_lr.{m}", overrides.pop(f"tower_lr.{m}", lr)
            )
            text_tuned |= kind == "text"
    params: dict[str, Any] = {prefix + "unfreeze": unfreeze}
    if tower_lr:
        params[prefix + "tower_lr"] = tower_lr
    if text_tuned:
        rank = suggest(trial, "lora", overrides.pop("lora", [0, 4, 16]))
        params[prefix + "lora"] = int(rank) or None
    return params


def default_space(estimator: Any) -> Callable[[Any], dict[str, Any]]:
    """The default ``space(trial)`` of an estimator (or Pipeline ending in one).

    Fusion estimators get :func:`fusion_space` (plus :func:`tuning_space`
    when they fine-tune ``encoders``); any other estimator class with a
    ``search_space(trial)`` classmethod (e.g.
    :class:`skmm.retrieval.ContrastiveRetriever`) gets its own, called with
    ``estimator=`` when it takes it (so a space can read the towers' depths).

    Parameters
    ----------
    estimator : estimator or Pipeline

    Returns
    -------
    callable
        ``space(trial) -> dict`` of (prefixed) estimator parameters.

    Raises
    ------
    TypeError
        When the estimator declares no space.
    """
    final, prefix = final_step(estimator)
    if "fusion" in final.get_params(deep=False) and hasattr(final, "_resolve_fusion"):
        encoders = getattr(final, "encoders", None)
        return _PrefixedFusionSpace(prefix, tower_depths(encoders))
    own = getattr(type(final), "search_space", None)
    if own is not None:
        import inspect

        takes = "estimator" in inspect.signature(own).parameters
        return _PrefixedOwnSpace(type(final), prefix, final if takes else None)
    raise TypeError(
        f"{type(final).__name__} declares no search space; pass "
        "param_distributions (a dict like GridSearchCV's param_grid, or a "
        "callable space(trial) -> dict)."
    )


class _PrefixedFusionSpace:
    def __init__(self, prefix: str, depths: dict[str, int] | None = None) -> None:
        self.prefix = prefix
        self.depths = depths or {}

    def __call__(self, trial: Any) -> dict[str, Any]:
        params = fusion_space(trial, prefix=self.prefix)
        if any(self.depths.values()):
            params.update(tuning_space(trial, self.depths, prefix=self.prefix))
        return params


class _PrefixedOwnSpace:
    def __init__(self, cls: type, prefix: str, estimator: Any = None) -> None:
        self.cls = cls
        self.prefix = prefix
        self.estimator = estimator

    def __call__(self, trial: Any) -> dict[str, Any]:
        if self.estimator is not None:
            space = self.cls.search_space(trial, estimator=self.estimator)
        else:
            space = self.cls.search_space(trial)
        return {self.prefix + k: v for k, v in space.items()}


class _OverridingTrial:
    """Wraps a trial so that ``suggest_*`` calls of overridden names use the
    user's choices instead of the declared range."""

    def __init__(self, trial: Any, overrides: Mapping[str, Any]) -> None:
        self._trial = trial
        self._overrides = overrides

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._trial, attr)
        if not attr.startswith("suggest_"):
            return value

        def wrapped(name: str, *args: Any, **kwargs: Any) -> Any:
            if name in self._overrides:
                return suggest(self._trial, name, self._overrides[name])
            return value(name, *args, **kwargs)

        return wrapped


def _choice_label(value: Any) -> Any:
    return value if isinstance(value, _PRIMITIVE) else repr(value)


def suggest(trial: Any, name: str, spec: Any) -> Any:
    """Draw ``name`` from a list of choices, an Optuna distribution, or return
    a fixed value."""
    import optuna

    dists = optuna.distributions
    if isinstance(spec, dists.FloatDistribution):
        return trial.suggest_float(
            name, spec.low, spec.high, log=spec.log, step=spec.step
        )
    if isinstance(spec, dists.IntDistribution):
        return trial.suggest_int(
            name, spec.low, spec.high, log=spec.log, step=spec.step
        )
    if isinstance(spec, dists.CategoricalDistribution):
        spec = list(spec.choices)
    if isinstance(spec, (list, tuple)):
        choices = list(spec)
        if not choices:
            raise ValueError(f"The choices for {name!r} are empty.")
        labels = [_choice_label(c) for c in choices]
        if len(set(map(repr, labels))) != len(labels):
            raise ValueError(f"The choices for {name!r} have duplicates: {choices}")
        label = trial.suggest_categorical(name, labels)
        return choices[labels.index(label)]
    return spec  # a fixed value


class FlatSpace:
    """A flat space like GridSearchCV's ``param_grid``: parameter -> list of
    choices (or an Optuna distribution, or a fixed value).

    Trial parameter names are the estimator parameter names, so
    ``optuna.samplers.GridSampler(space.grid())`` enumerates it.

    Parameters
    ----------
    params : dict

    Examples
    --------
    >>> import optuna
    >>> space = FlatSpace({"fusion": ["concat", "late"], "lr": [1e-3, 1e-2]})
    >>> space(optuna.trial.FixedTrial({"fusion": "late", "lr": 0.01}))
    {'fusion': 'late', 'lr': 0.01}
    >>> space.grid()
    {'fusion': ['concat', 'late'], 'lr': [0.001, 0.01]}
    """

    def __init__(self, params: Mapping[str, Any]) -> None:
        if not isinstance(params, Mapping):
            raise TypeError(
                "param_distributions must be a dict (parameter -> list of "
                "choices or Optuna distribution) or a callable space(trial); got "
                f"{type(params).__name__}. A list of grids is not supported: "
                "write a callable that draws which grid first."
            )
        self.params = dict(params)

    def __call__(self, trial: Any) -> dict[str, Any]:
        return {name: suggest(trial, name, spec) for name, spec in self.params.items()}

    def grid(self) -> dict[str, list]:
        """The space as ``GridSampler`` wants it (lists only)."""
        out = {}
        for name, spec in self.params.items():
            if isinstance(spec, (list, tuple)):
                out[name] = [_choice_label(c) for c in spec]
            elif hasattr(spec, "choices"):
                out[name] = [_choice_label(c) for c in spec.choices]
            elif hasattr(spec, "low"):
                raise ValueError(
                    f"sampler='grid' needs lists of choices; {name!r} is a "
                    f"continuous distribution {spec!r}."
                )
            else:
                out[name] = [_choice_label(spec)]
        return out

    def __repr__(self) -> str:
        return f"FlatSpace({self.params!r})"
