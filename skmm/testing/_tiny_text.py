"""A tiny randomly initialised BERT, saved like a real Hugging Face folder."""

from __future__ import annotations

from pathlib import Path

from skmm.testing._tiny import TINY_DOCS, new_folder, seeded_model
from skmm.utils._docs import fill_doc

__all__ = ["make_tiny_text_model"]

_WORDS = (
    "a the cat dog on mat red green blue apple sky sun sea car tree house "
    "smiling face with heart eyes flag of france party popper"
).split()


@fill_doc(TINY_DOCS)
def make_tiny_text_model(
    path: str | Path, *, hidden_size: int = 32, seed: int = 0
) -> Path:
    """Build a 2-layer BERT with a small word-piece vocabulary into ``path``.

    The folder holds ``config.json``, ``model.safetensors`` and tokenizer
    files, so :class:`skmm.text.TextEncoder` loads it exactly as it loads a
    real model, without any download.

    Parameters
    ----------
    {path}
    hidden_size : int, default=32
        Width of the model, hence of its embeddings.
    {seed}

    {returns_folder}

    Examples
    --------
    >>> import tempfile
    >>> from skmm.text import TextEncoder
    >>> folder = make_tiny_text_model(tempfile.mkdtemp())
    >>> TextEncoder(folder, verbose=0).fit_transform(["a red apple"]).shape
    (1, 32)
    """
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path = new_folder(path)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *_WORDS]
    vocab += [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"] + list(
        "abcdefghijklmnopqrstuvwxyz0123456789.,!?"
    )
    # built from a `tokenizers` object: recent transformers ignore
    # BertTokenizerFast(vocab_file=...), which would map every word to [UNK]
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    ids = {w: i for i, w in enumerate(vocab)}
    core = Tokenizer(models.WordPiece(ids, unk_token="[UNK]"))
    core.normalizer = normalizers.BertNormalizer(lowercase=True)
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])],
    )
    tokenizer = BertTokenizerFast(
        tokenizer_object=core,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    tokenizer.model_max_length = 64
    tokenizer.save_pretrained(path)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=64,
    )
    seeded_model(BertModel, config, seed).save_pretrained(path)
    return path
