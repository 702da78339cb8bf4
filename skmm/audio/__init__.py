"""Audio encoders: classic MFCC / log-mel statistics and pretrained models.

Cells are paths to audio files (wav, flac, ogg, mp3, ...), the bytes of such
files, 1-D float waveforms, or ``(waveform, rate)`` tuples; missing cells
(None / NaN) give rows of NaN.  Every encoder resamples to its own
``sampling_rate``.
"""

from skmm.audio._classic import LogMelEncoder, MFCCEncoder
from skmm.audio._hf import HFAudioEncoder
from skmm.audio._io import load_audio
from skmm.audio._resemblyzer import SpeakerEncoder
from skmm.audio._speech import SpeechTranscriber
from skmm.audio._whisper import WhisperEncoder

__all__ = [
    "HFAudioEncoder",
    "LogMelEncoder",
    "MFCCEncoder",
    "SpeakerEncoder",
    "SpeechTranscriber",
    "WhisperEncoder",
    "load_audio",
]
