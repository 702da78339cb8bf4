"""A tiny randomly initialised wav2vec2-style model, saved like a real folder."""

from __future__ import annotations

from pathlib import Path

from skmm.testing._tiny import TINY_DOCS, new_folder, quiet_hf_progress, seeded_model
from skmm.utils._docs import fill_doc

__all__ = ["make_tiny_audio_model"]

_ARCHITECTURES = ("wav2vec2", "hubert", "wavlm")


@fill_doc(TINY_DOCS)
def make_tiny_audio_model(
    path: str | Path,
    *,
    architecture: str = "wav2vec2",
    hidden_size: int = 32,
    num_layers: int = 2,
    sampling_rate: int = 16000,
    return_attention_mask: bool = True,
    seed: int = 0,
) -> Path:
    """Build a tiny speech encoder and its feature extractor into ``path``.

    The folder holds ``config.json``, ``model.safetensors`` and
    ``preprocessor_config.json``, so :class:`skmm.audio.HFAudioEncoder`
    loads it exactly as it loads a real model, without any download.  The
    CNN front end has three small layers (kernel 10/3/3, stride 5/2/2: one
    frame per 20 samples).

    Parameters
    ----------
    {path}
    architecture : {"wav2vec2", "hubert", "wavlm"}, default="wav2vec2"
        Which Hugging Face model class to build.
    hidden_size : int, default=32
        Width of the transformer, hence of the embeddings.
    num_layers : int, default=2
        Transformer layers.
    sampling_rate : int, default=16000
        The rate written into the feature extractor.
    return_attention_mask : bool, default=True
        Whether the feature extractor returns an attention mask (like
        wav2vec2-large-lv60; ``False`` is like wav2vec2-base, whose
        front end uses group norm instead of layer norm).
    {seed}

    {returns_folder}

    Examples
    --------
    >>> import tempfile
    >>> folder = make_tiny_audio_model(tempfile.mkdtemp(), architecture="hubert")
    >>> sorted(p.name for p in folder.iterdir())
    ['config.json', 'model.safetensors', 'preprocessor_config.json']
    """
    import transformers

    if architecture not in _ARCHITECTURES:
        raise ValueError(
            f"architecture must be one of {_ARCHITECTURES}; got {architecture!r}"
        )
    config_cls, model_cls = {
        "wav2vec2": (transformers.Wav2Vec2Config, transformers.Wav2Vec2Model),
        "hubert": (transformers.HubertConfig, transformers.HubertModel),
        "wavlm": (transformers.WavLMConfig, transformers.WavLMModel),
    }[architecture]
    path = new_folder(path)
    # layer-norm front end when the extractor returns masks (as real models do)
    norm = "layer" if return_attention_mask else "group"
    config = config_cls(
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        conv_dim=(16, 16, 16),
        conv_kernel=(10, 3, 3),
        conv_stride=(5, 2, 2),
        feat_extract_norm=norm,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        do_stable_layer_norm=return_attention_mask,
        mask_time_prob=0.0,
        vocab_size=8,
    )
    model = seeded_model(model_cls, config, seed)
    with quiet_hf_progress():
        model.save_pretrained(path)
    extractor = transformers.Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=sampling_rate,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=return_attention_mask,
    )
    extractor.save_pretrained(path)
    return path
