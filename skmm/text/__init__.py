"""Text encoders: pretrained transformers and classic TF-IDF."""

from skmm.text._tfidf import TfidfTextEncoder
from skmm.text._transformer import TextEncoder

__all__ = ["TextEncoder", "TfidfTextEncoder"]
