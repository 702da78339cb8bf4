"""Declared estimator parameters: the generated __init__ is what sklearn expects."""

from __future__ import annotations

import inspect
import pickle
from dataclasses import KW_ONLY

import pytest
from sklearn.base import BaseEstimator, clone

from skmm.utils._params import declared_params, estimator_init, param_group


@param_group
class _Shared:
    batch_size: int = 32
    verbose: int = 1


@estimator_init
class _Encoder(BaseEstimator, _Shared):
    model: str
    _: KW_ONLY
    size: int = 16
    batch_size: int = 8  # a new default, the group's place

    def transform(self, X):
        return X


@estimator_init
class _Child(_Encoder):
    depth: int = 2


def test_signature_order_and_kinds():
    sig = inspect.signature(_Encoder)
    assert list(sig.parameters) == ["model", "size", "batch_size", "verbose"]
    kinds = [p.kind for p in sig.parameters.values()]
    assert kinds[0] is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert set(kinds[1:]) == {inspect.Parameter.KEYWORD_ONLY}
    assert sig.parameters["batch_size"].default == 8
    assert sig.parameters["model"].default is inspect.Parameter.empty
    assert sig.parameters["size"].annotation == "int"


def test_init_stores_each_argument_and_nothing_else():
    est = _Encoder("m", size=3)
    assert vars(est) == {"model": "m", "size": 3, "batch_size": 8, "verbose": 1}
    assert est.get_params() == {"batch_size": 8, "model": "m", "size": 3, "verbose": 1}
    with pytest.raises(TypeError, match="unexpected keyword argument 'sizes'"):
        _Encoder("m", sizes=3)
    with pytest.raises(TypeError, match="positional"):
        _Encoder("m", 3)


def test_defaults_leave_the_class_namespace():
    assert "size" not in vars(_Encoder)
    assert not hasattr(_Encoder, "size")
    assert [p.name for p in declared_params(_Shared)] == ["batch_size", "verbose"]


def test_clone_pickle_set_params_and_repr():
    est = _Encoder("m", size=3, verbose=0)
    copy = clone(est)
    assert copy.get_params() == est.get_params() and copy is not est
    back = pickle.loads(pickle.dumps(est))
    assert back.get_params() == est.get_params()
    assert est.set_params(size=5).size == 5
    assert repr(est) == "_Encoder(model='m', size=5, verbose=0)"


def test_a_subclass_puts_its_own_parameters_first():
    assert list(inspect.signature(_Child).parameters) == [
        "model",
        "depth",
        "size",
        "batch_size",
        "verbose",
    ]
    assert _Child("m").depth == 2


def test_a_handwritten_init_is_refused():
    with pytest.raises(TypeError, match="defines __init__"):

        @estimator_init
        class _Bad(BaseEstimator):
            size: int = 1

            def __init__(self, size=1):
                self.size = size


def test_a_required_positional_after_a_default_is_refused():
    with pytest.raises(TypeError, match="'b' has no default"):

        @estimator_init
        class _Bad(BaseEstimator):
            a: int = 1
            b: int
            _: KW_ONLY


def test_private_names_and_class_vars_are_not_parameters():
    from typing import ClassVar

    @estimator_init
    class _Est(BaseEstimator):
        _modality: ClassVar[str] = "text"
        _cache: dict = {}
        alpha: float = 1.0

    assert list(inspect.signature(_Est).parameters) == ["alpha"]
    assert _Est._modality == "text" and _Est._cache == {}


def test_a_base_hook_runs_once_the_init_is_written():
    seen = []

    class _Base(BaseEstimator):
        @classmethod
        def _init_written(cls):
            seen.append(cls._get_param_names())

    @estimator_init
    class _Est(_Base):
        beta: int = 0

    assert seen == [["beta"]]


def test_a_base_abstract_init_is_implemented():
    import abc

    class _Abstract(BaseEstimator, abc.ABC):
        @abc.abstractmethod
        def __init__(self): ...

    @estimator_init
    class _Concrete(_Abstract):
        gamma: int = 1

    assert _Concrete().gamma == 1
