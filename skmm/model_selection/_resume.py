"""Resuming a study safely: the search space it was made with, and the trials
that killed workers left running.

A study remembers its search space (a JSON description in the study's user
attribute ``skmm_search_space``); resuming it with another space fails at once
instead of failing every new trial.  Each trial sends heartbeats while it runs
(Optuna's own for RDB storages, a timestamp in the trial's system attribute
``skmm:heartbeat`` for the others, the journal file included); a ``RUNNING``
trial whose heartbeat is older than the grace period is marked ``FAIL``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

__all__ = [
    "GRACE_PERIOD",
    "HEARTBEAT_INTERVAL",
    "SPACE_ATTR",
    "check_space",
    "describe_space",
    "fail_stale_trials",
    "grace_period",
    "heartbeat_interval",
    "trial_heartbeat",
]

#: Seconds between two heartbeats of a running trial (environment variable
#: ``SKMM_HEARTBEAT_INTERVAL`` overrides it).
HEARTBEAT_INTERVAL = 30.0
#: Seconds without a heartbeat after which a running trial counts as dead
#: (environment variable ``SKMM_HEARTBEAT_GRACE`` overrides it).
GRACE_PERIOD = 90.0

SPACE_ATTR = "skmm_search_space"
HEARTBEAT_ATTR = "skmm:heartbeat"
_FORMAT = 1
# probes of a define-by-run space (one per choice that may open a sub-space)
_MAX_PROBES = 256
# differences shown in the error message
_MAX_SHOWN = 8


def _seconds(env: str, default: float) -> float:
    text = os.environ.get(env)
    if text is None or not text.strip():
        return float(default)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{env}={text!r} must be a number of seconds.") from None
    if not value > 0:
        raise ValueError(f"{env}={text!r} must be a positive number of seconds.")
    return value


def heartbeat_interval() -> float:
    """Seconds between heartbeats: ``$SKMM_HEARTBEAT_INTERVAL`` or
    :data:`HEARTBEAT_INTERVAL` (30)."""
    return _seconds("SKMM_HEARTBEAT_INTERVAL", HEARTBEAT_INTERVAL)


def grace_period() -> float:
    """Seconds of silence after which a running trial is failed:
    ``$SKMM_HEARTBEAT_GRACE`` or :data:`GRACE_PERIOD` (90)."""
    return _seconds("SKMM_HEARTBEAT_GRACE", GRACE_PERIOD)


# ------------------------------------------------------------------ the space
def _probe_trial_class() -> type:
    import optuna

    class _ProbeTrial(optuna.trial.FixedTrial):
        """A FixedTrial that records every distribution asked for, answering
        with a given value or the distribution's first value."""

        def __init__(self, params: Mapping[str, Any]) -> None:
            super().__init__(dict(params))
            self.missing: list[str] = []

        def _suggest(self, name: str, distribution: Any) -> Any:
            if name in self._params:
                value = self._params[name]
            else:
                self.missing.append(name)
                value = _first(distribution)
            self._suggested_params[name] = value
            self._distributions.setdefault(name, distribution)
            return value

    return _ProbeTrial


def _first(dist: Any) -> Any:
    choices = getattr(dist, "choices", None)
    return choices[0] if choices is not None else dist.low


def _others(dist: Any) -> list[Any]:
    choices = getattr(dist, "choices", None)
    if choices is not None:
        return list(choices[1:])
    return [dist.high] if dist.high != dist.low else []


def _fixed_values(space: Any) -> dict[str, str]:
    """The fixed (not searched) values of a dict space, when JSON can hold them."""
    from skmm.model_selection._space import FlatSpace

    if not isinstance(space, FlatSpace):
        return {}
    out = {}
    for name, spec in space.params.items():
        if isinstance(spec, (list, tuple)) or hasattr(spec, "_contains"):
            continue
        try:
            value = json.dumps(spec, sort_keys=True)
        except (TypeError, ValueError):
            continue
        out[name] = json.dumps({"name": "Fixed", "attributes": {"value": value}})
    return out


def describe_space(space: Callable[[Any], Any]) -> dict[str, str] | None:
    """Every parameter a search space may draw, with its distribution as JSON.

    A define-by-run space is called on probe trials: first with each
    parameter at its first value, then once more for each other choice of a
    categorical parameter (and the top of a numeric range), keeping the
    choices that led there, so that sub-spaces opened by a choice (a fusion
    strategy's own knobs) are found too.

    Parameters
    ----------
    space : callable
        ``space(trial) -> dict``.

    Returns
    -------
    dict or None
        Trial parameter name -> ``optuna.distributions.distribution_to_json``
        (fixed values of a dict space as ``{"name": "Fixed", ...}``); ``None``
        when the space cannot be called on a probe trial.
    """
    from optuna.distributions import distribution_to_json

    probe_cls = _probe_trial_class()
    found: dict[str, Any] = {}
    queue: list[dict[str, Any]] = [{}]
    probes = 0
    while queue and probes < _MAX_PROBES:
        forced = queue.pop(0)
        trial = probe_cls(forced)
        probes += 1
        try:
            space(trial)
        except Exception:
            if probes == 1:
                return None
            continue
        for name, dist in trial.distributions.items():
            if name in found:
                continue
            found[name] = dist
            queue.extend({**trial.params, name: v} for v in _others(dist))
    out = {name: distribution_to_json(dist) for name, dist in found.items()}
    out.update(_fixed_values(space))
    return dict(sorted(out.items()))


def _brief(spec: str) -> str:
    """A distribution's JSON, briefly: ``float in [0.0001, 0.01] (log)``."""
    try:
        data = json.loads(spec)
        kind, attrs = data["name"], data["attributes"]
    except (ValueError, KeyError, TypeError):
        return spec
    if kind == "Fixed":
        return f"fixed {attrs.get('value')}"
    if kind == "CategoricalDistribution":
        choices = list(attrs.get("choices", []))
        more = ", ..." if len(choices) > 6 else ""
        shown = ", ".join(map(repr, choices[:6])) + more
        return f"one of [{shown}]"
    word = "int" if kind.startswith("Int") else "float"
    text = f"{word} in [{attrs.get('low')}, {attrs.get('high')}]"
    if attrs.get("log"):
        text += " (log)"
    step = attrs.get("step")
    if step is not None and not (word == "int" and step == 1):
        text += f" step {step}"
    return text


def _same(a: str, b: str) -> bool:
    from optuna.distributions import json_to_distribution

    if a == b:
        return True
    try:
        return json_to_distribution(a) == json_to_distribution(b)
    except Exception:
        return False


def _diff(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    lines = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            lines.append(f"  + added {name!r}: {_brief(new[name])}")
        elif name not in new:
            lines.append(f"  - removed {name!r}: {_brief(old[name])}")
        elif not _same(old[name], new[name]):
            lines.append(
                f"  ~ changed {name!r}: {_brief(old[name])} -> {_brief(new[name])}"
            )
    return lines


def _diff_trials(trials: list, space: Callable[[Any], Any]) -> list[str]:
    """Differences between finished trials and what ``space`` draws when it
    replays their parameters (for studies stored before the space was
    recorded)."""
    from optuna.distributions import distribution_to_json

    probe_cls = _probe_trial_class()
    lines: dict[str, str] = {}  # parameter -> its first difference
    for t in trials:
        trial = probe_cls(t.params)
        try:
            space(trial)
            complete = True
        except Exception:  # e.g. a choice the new space no longer has
            complete = False
        for name, dist in trial.distributions.items():
            new = distribution_to_json(dist)
            if name in trial.missing:
                lines.setdefault(name, f"  + added {name!r}: {_brief(new)}")
            elif name in t.distributions:
                old = distribution_to_json(t.distributions[name])
                if not _same(old, new):
                    lines.setdefault(
                        name,
                        f"  ~ changed {name!r}: {_brief(old)} -> {_brief(new)}",
                    )
        if complete:
            for name in set(t.distributions) - set(trial.distributions):
                old = distribution_to_json(t.distributions[name])
                lines.setdefault(name, f"  - removed {name!r}: {_brief(old)}")
    return [lines[k] for k in sorted(lines)]


def _free_name(study: Any) -> str:
    try:
        taken = {s.study_name for s in study._storage.get_all_studies()}
    except Exception:
        taken = set()
    k = 2
    while f"{study.study_name}-{k}" in taken:
        k += 1
    return f"{study.study_name}-{k}"


def check_space(study: Any, space: Callable[[Any], Any], where: str) -> None:
    """Refuse to resume ``study`` with another search space; remember the space
    of a new study.

    Parameters
    ----------
    study : optuna.Study
        The study just created or loaded.
    space : callable
        The search's ``space(trial) -> dict``.
    where : str
        Where the study lives (for the message).

    Raises
    ------
    ValueError
        The study was made with another space; the message lists the
        parameters added, removed or changed and suggests a new
        ``study_name``.
    """
    import optuna

    current = describe_space(space)
    stored = study.user_attrs.get(SPACE_ATTR)
    finished = [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    ]
    if isinstance(stored, Mapping) and current is not None:
        lines = _diff(stored.get("params", {}), current)
    else:  # an older study, or a space that cannot be probed
        lines = _diff_trials(finished, space)
    if lines:
        shown = lines[:_MAX_SHOWN]
        if len(lines) > _MAX_SHOWN:
            shown.append(f"  ... and {len(lines) - _MAX_SHOWN} more")
        name = study.study_name
        raise ValueError(
            f"The study {name!r} in {where} was made with another search space "
            f"({len(finished)} finished trials); the new space differs:\n"
            + "\n".join(shown)
            + "\nA study holds the trials of one search space (Optuna fails new "
            "trials whose parameters changed, and old and new scores would be "
            f"mixed). Fit under a new study_name (e.g. {_free_name(study)!r}), or "
            "delete the old study to start over: "
            f"optuna.delete_study(study_name={name!r}, storage=...)."
        )
    if stored is None and current is not None:
        study.set_user_attr(SPACE_ATTR, {"format": _FORMAT, "params": current})


# ------------------------------------------------------------ dead workers
def _native(storage: Any) -> bool:
    from optuna.storages._heartbeat import is_heartbeat_enabled

    return is_heartbeat_enabled(storage)


def _in_memory(storage: Any) -> bool:
    import optuna

    return isinstance(storage, optuna.storages.InMemoryStorage)


def _last_sign_of_life(trial: Any) -> float:
    beat = trial.system_attrs.get(HEARTBEAT_ATTR)
    start = trial.datetime_start.timestamp() if trial.datetime_start else 0.0
    return max(float(beat) if isinstance(beat, (int, float)) else 0.0, start)


def fail_stale_trials(study: Any) -> list[int]:
    """Mark ``FAIL`` the running trials whose worker stopped (killed, lost).

    A trial is stale when its last heartbeat is older than the grace period
    (:func:`grace_period`; for RDB storages with Optuna's heartbeats, the
    storage's own ``grace_period``).  Its ``error`` user attribute says so.

    Parameters
    ----------
    study : optuna.Study

    Returns
    -------
    list of int
        The numbers of the trials failed.
    """
    import optuna

    storage = study._storage
    if _in_memory(storage):
        return []
    running = study.get_trials(
        deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)
    )
    if not running:
        return []
    if _native(storage):
        stale_ids = set(storage._get_stale_trial_ids(study._study_id))
        stale = [t for t in running if t._trial_id in stale_ids]
    else:
        now, grace = time.time(), grace_period()
        stale = [t for t in running if now - _last_sign_of_life(t) > grace]
    failed = []
    for t in stale:
        message = (
            f"its worker stopped sending heartbeats (killed or lost) while trial "
            f"{t.number} was running; marked FAIL when the study was resumed"
        )
        try:
            storage.set_trial_user_attr(t._trial_id, "error", message)
            if storage.set_trial_state_values(
                t._trial_id, state=optuna.trial.TrialState.FAIL
            ):
                failed.append(t.number)
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # another process failed (or finished) it first
    return failed


@contextmanager
def trial_heartbeat(trial: Any) -> Iterator[None]:
    """Send heartbeats while ``trial`` runs, for storages without their own.

    On entry, the stale trials of other (dead) workers are failed first; then
    a daemon thread writes the time into the trial's system attribute
    ``skmm:heartbeat`` every :func:`heartbeat_interval` seconds until the
    block ends.  RDB storages with Optuna's heartbeats and in-memory storages
    need nothing.

    Parameters
    ----------
    trial : optuna.Trial
    """
    storage = trial.storage
    if _in_memory(storage) or _native(storage):
        yield
        return
    try:
        fail_stale_trials(trial.study)
    except Exception:  # never stop a trial for the bookkeeping of others
        pass
    interval = heartbeat_interval()
    trial_id = trial._trial_id
    stop = threading.Event()

    def beat() -> bool:
        try:
            storage.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())
        except Exception:  # the trial was failed by another process, or I/O
            return False
        return True

    def loop() -> None:
        while not stop.wait(interval) and beat():
            pass

    beat()
    thread = threading.Thread(
        target=loop, name=f"skmm-heartbeat-{trial.number}", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
