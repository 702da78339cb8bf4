"""Video: frames sampled with PyAV, embedded by any image encoder.

A video column holds paths to video files (mp4, mkv, webm, avi, mov, ...) or
their bytes; ``None``/``NaN`` cells are missing and give NaN rows.  Reading
needs PyAV, the ``video`` extra (``pip install 'skmm[video]'``), whose
wheels bundle FFmpeg.

- :class:`VideoEncoder`: frames -> image encoder -> mean / max pooling, or
  the frame sequence for a model to pool; optionally the sound track
  through an audio encoder.
- :class:`VideoSummarizer`: keyframes (k-medoids or change points over the
  frame embeddings), their timestamps and a contact sheet.
"""

from skmm.video._encoder import VideoEncoder
from skmm.video._io import read_video
from skmm.video._summarize import VideoSummarizer, VideoSummary, change_points, kmedoids
from skmm.video._write import write_video

__all__ = [
    "VideoEncoder",
    "VideoSummarizer",
    "VideoSummary",
    "change_points",
    "kmedoids",
    "read_video",
    "write_video",
]
