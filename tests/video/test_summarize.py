from __future__ import annotations

import numpy as np
import pytest

from skmm.video import VideoSummarizer, change_points, kmedoids


def test_kmedoids_finds_one_frame_per_cluster():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X = np.vstack([c + rng.normal(scale=0.1, size=(5, 2)) for c in centres])
    picks = kmedoids(X, 3)
    assert sorted(p // 5 for p in picks) == [0, 1, 2]
    assert kmedoids(np.zeros((3, 2)), 2).tolist() == [0, 0]  # repeats


def test_change_points_cut_at_the_largest_jumps():
    X = np.array([[0.0]] * 4 + [[5.0]] * 3 + [[9.0]] * 3)
    assert change_points(X, 3).tolist() == [0, 4, 7]
    assert change_points(X, 1).tolist() == [4]  # one segment: its medoid


@pytest.mark.parametrize("method", ["kmedoids", "changepoints"])
def test_one_keyframe_per_shot(clips, method):
    summ = VideoSummarizer(n_keyframes=3, n_frames=12, method=method, verbose=0)
    T = summ.fit_transform([clips["rgb"], None])
    assert T.shape == (2, 3) and np.isnan(T[1]).all()
    # shots: red [0, 1), green [1, 2), blue [2, 3) seconds
    assert (np.floor(T[0]) == [0, 1, 2]).all()
    assert summ.get_feature_names_out().tolist() == [
        "keyframe0_s",
        "keyframe1_s",
        "keyframe2_s",
    ]


def test_summarize_returns_frames_and_a_contact_sheet(clips):
    summary = VideoSummarizer(n_keyframes=3, n_frames=6).summarize(clips["rgb"])
    assert summary.frame_indices.tolist() == [2, 12, 22]
    np.testing.assert_allclose(summary.timestamps, [0.2, 1.2, 2.2], atol=1e-6)
    assert [img[0, 0].argmax() for img in summary.images] == [0, 1, 2]
    sheet = summary.contact_sheet(columns=2, thumb_width=40)
    assert sheet.size == (80, 80) and sheet.mode == "RGB"
    px = np.asarray(sheet)
    assert px[30, 20].argmax() == 0 and px[30, 60].argmax() == 1
    assert (px[70, 60] == 255).all()  # the empty cell stays white


@pytest.mark.data
def test_keyframes_of_the_real_clips(capsys):
    from skmm.datasets import DataNotFoundError, load_sample_videos

    try:
        clips = load_sample_videos()
    except DataNotFoundError as exc:
        pytest.skip(str(exc).splitlines()[0])
    summ = VideoSummarizer(n_keyframes=4, n_frames=32, verbose=0)
    T = summ.fit_transform(clips.frame)
    assert T.shape == (3, 4) and np.isfinite(T).all()
    assert (np.diff(T, axis=1) > 0).all()  # four distinct, ascending times
    for name, row in zip(clips.names, T):
        print(name, [round(float(t), 2) for t in row])
        summary = summ.summarize(clips.frame.loc[name, "video"])
        np.testing.assert_allclose(summary.timestamps, row, atol=1e-5)
        assert summary.contact_sheet().size[0] == 4 * 160
