"""Index files that are not indexes: one InvalidFileError naming the file.

``load_index`` / ``ExactIndex.load`` on an empty, truncated, foreign or
damaged file raise :class:`skmm.exceptions.InvalidFileError` (a
``ValueError``) whose message names the file and what was expected, with
the library's own error attached; ``save`` writes atomically.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from skmm.exceptions import InvalidFileError
from skmm.retrieval import BaseIndex, ExactIndex, load_index


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _meta(vectors: bool = True, **changes) -> bytes:
    meta = {
        "class": "ExactIndex",
        "format": 1,
        "params": {"metric": "ip", "device": "cpu"},
        "dim": 4,
        "ntotal": 3,
    }
    meta.update(changes)
    data = {"vectors": np.ones((3, 4), np.float32)} if vectors else {}
    return _npz(meta=np.asarray(json.dumps(meta)), **data)


def _npy() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ones(3))
    return buf.getvalue()


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    """The bytes of a real saved index, to damage."""
    path = tmp_path_factory.mktemp("index") / "good.index"
    ExactIndex(device="cpu").add(np.eye(40, 4, dtype=np.float32) + 0.1).save(path)
    return path.read_bytes()


# kind -> (the file's bytes, made from a good file's; a fragment of the message)
BAD_FILES = {
    "empty": (lambda good: b"", "the file is empty"),
    "truncated": (lambda good: good[: len(good) // 2], "truncated or damaged"),
    "truncated-at-the-end": (lambda good: good[:-10], "truncated or damaged"),
    "png": (lambda good: b"\x89PNG\r\n\x1a\n" + bytes(300), "a PNG image"),
    "random-bytes": (
        lambda good: np.random.RandomState(0).bytes(500),
        "binary data of an unknown format",
    ),
    "text": (lambda good: b"hello, this is not an index\n", "the file holds text"),
    "pickle": (lambda good: pickle.dumps({"a": 1}), "pickle"),
    "npy": (lambda good: _npy(), "a single NumPy array"),
    "npz-without-meta": (
        lambda good: _npz(vectors=np.ones((2, 2))),
        "no 'meta' entry (it holds vectors)",
    ),
    "meta-not-json": (lambda good: _npz(meta=np.asarray("{oops")), "damaged"),
    "meta-unknown-class": (lambda good: _meta(**{"class": "Nope"}), "'Nope'"),
    "meta-newer-format": (lambda good: _meta(format=99), "format 99"),
    "meta-without-ntotal": (lambda good: _meta(ntotal=None), "lacks params, ntotal"),
    "meta-bad-params": (lambda good: _meta(params={"colour": 1}), "parameters"),
    "vectors-of-another-shape": (lambda good: _meta(ntotal=5), "shape (3, 4)"),
    "vectors-missing": (lambda good: _meta(vectors=False), "ExactIndex data"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
@pytest.mark.parametrize("loader", [load_index, ExactIndex.load, BaseIndex.load])
def test_bad_index_file_raises_invalid_file_error(kind, loader, good, tmp_path):
    make, fragment = BAD_FILES[kind]
    path = tmp_path / "gallery.index"
    path.write_bytes(make(good))
    with pytest.raises(InvalidFileError) as info:
        loader(path)
    err = info.value
    assert isinstance(err, ValueError)  # what callers caught before
    assert err.path == str(path)
    message = str(err)
    assert message.startswith(f"{path} does not hold an skmm index: ")
    assert fragment in message, message
    assert "expected an .npz archive written by ExactIndex.save" in message


def test_library_error_is_attached(good, tmp_path):
    path = tmp_path / "gallery.index"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(InvalidFileError) as info:
        load_index(path)
    assert isinstance(info.value.__cause__, zipfile.BadZipFile)


def test_a_file_that_cannot_be_opened_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_index(tmp_path / "missing.index")
    with pytest.raises(IsADirectoryError):
        load_index(tmp_path)


def test_the_good_archive_loads(good, tmp_path):
    path = tmp_path / "gallery.index"
    path.write_bytes(good)
    assert len(load_index(path)) == 40


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "gallery.index"
    ExactIndex(device="cpu").add(np.ones((3, 2))).save(path)
    before = path.read_bytes()

    def half_written(fh, **arrays):
        fh.write(b"PK\x03\x04 partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(np, "savez", half_written)
    with pytest.raises(OSError, match="No space left"):
        ExactIndex(device="cpu").add(np.ones((5, 2))).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before  # the old index is intact
    assert os.listdir(tmp_path) == ["gallery.index"]  # no temporary file left
    assert len(load_index(path)) == 3


def test_save_over_an_index_and_into_a_missing_folder(tmp_path):
    path = tmp_path / "gallery.index"
    ExactIndex(device="cpu").add(np.ones((3, 2))).save(path)
    ExactIndex(device="cpu").add(np.ones((4, 2))).save(path)
    assert len(load_index(path)) == 4
    assert os.listdir(tmp_path) == ["gallery.index"]
    with pytest.raises(FileNotFoundError, match="No folder"):
        ExactIndex().save(tmp_path / "nope" / "gallery.index")


def test_damaged_faiss_data(tmp_path):
    pytest.importorskip("faiss")
    from skmm.retrieval import FaissIndex

    path = tmp_path / "faiss.index"
    FaissIndex(kind="flat").add(np.eye(8, 4, dtype=np.float32)).save(path)
    with np.load(path) as data:
        meta, blob = data["meta"], data["faiss_index"]
    with open(path, "wb") as fh:
        np.savez(fh, meta=meta, faiss_index=blob[: len(blob) // 3])
    with pytest.raises(InvalidFileError, match="its FaissIndex data"):
        load_index(path)
    with pytest.raises(TypeError, match="holds a FaissIndex, not a ExactIndex"):
        ExactIndex.load(path)
