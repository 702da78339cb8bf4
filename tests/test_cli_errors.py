"""Bad files handed to the ``skmm`` command line: one clear line, exit code 2.

Every command is run (in-process, through :func:`skmm.cli.main`) against
every kind of bad file it reads: a truncated, foreign, empty or damaged
file, malformed CSV / TOML / JSON, a missing column, a path that does not
exist and a folder.  The error must name the file (and the line, for text
formats), exit with 2, and show no traceback.  Two subprocess runs check the
real exit codes.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from skmm.cli import _io, main
from skmm.cli import encode as encode_command
from skmm.cli._errors import CLIError
from skmm.exceptions import InvalidFileError

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
RANDOM = np.random.RandomState(0).bytes(3000)
TEXT = "caption=tfidf:n_components=2"


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_clear_error(err: str, name: str, line: int | None) -> None:
    """One ``skmm: error:`` line naming the file (and line), a hint, no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("skmm: error: "), err
    assert lines[1].startswith("hint: "), err
    assert "Traceback" not in err
    assert name in lines[0], (name, err)
    if line is not None:
        assert f"line {line}" in lines[0], err


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict:
    """Valid files of every kind, and their bytes to damage."""
    d = tmp_path_factory.mktemp("good")
    X = np.random.RandomState(0).normal(size=(6, 3)).astype(np.float32)
    names = np.array([f"text__f{i}" for i in range(3)])
    np.savez(
        d / "encoded.npz", X=X, feature_names=names, label=np.array(list("ab") * 3)
    )
    (d / "ok.toml").write_text('target = "label"\n[search]\nn_trials = 1\n')
    pd.DataFrame({"caption": ["a red apple", "a blue boat"]}).to_csv(
        d / "table.csv", index=False
    )
    rc = main(["index", str(d / "encoded.npz"), "-o", str(d / "gallery.index")])
    assert rc == 0
    parquet = io.BytesIO()
    pd.DataFrame({"caption": ["a", "b"] * 50, "text__f0": np.arange(100.0)}).to_parquet(
        parquet
    )
    pickled = io.BytesIO()
    joblib.dump({"weights": np.ones(500)}, pickled)
    return {
        "dir": d,
        "encoded": d / "encoded.npz",
        "toml": d / "ok.toml",
        "table": d / "table.csv",
        "index": d / "gallery.index",
        "index_bytes": (d / "gallery.index").read_bytes(),
        "index_sidecar": (d / "gallery.index.skmm.json").read_text(),
        "npz_bytes": (d / "encoded.npz").read_bytes(),
        "parquet_bytes": parquet.getvalue(),
        "joblib_bytes": pickled.getvalue(),
    }


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


# kind -> (file name, contents(good) or None for a folder / no file, line)
KINDS = {
    "csv-unbalanced-quote": (
        "bad.csv",
        lambda g: 'caption,label\n"a red apple,x\nb,y\n',
        2,
    ),
    "csv-ragged-row": ("bad.csv", lambda g: "caption,label\na,x\nb,y,z\n", 3),
    "csv-empty": ("bad.csv", lambda g: b"", None),
    "csv-foreign-png": ("bad.csv", lambda g: PNG, None),
    "csv-random-bytes": ("bad.csv", lambda g: RANDOM, None),
    "csv-not-utf8": ("bad.csv", lambda g: "caption\na\ncaf\xe9\n".encode("latin-1"), 3),
    "parquet-truncated": ("bad.parquet", lambda g: _half(g["parquet_bytes"]), None),
    "parquet-foreign-csv": ("bad.parquet", lambda g: "caption\na\n", None),
    "parquet-empty": ("bad.parquet", lambda g: b"", None),
    "npz-truncated": ("bad.npz", lambda g: _half(g["npz_bytes"]), None),
    "npz-foreign-png": ("bad.npz", lambda g: PNG, None),
    "npz-empty": ("bad.npz", lambda g: b"", None),
    "toml-malformed": ("bad.toml", lambda g: 'target = "label"\n[search\n', 2),
    "toml-foreign-png": ("bad.toml", lambda g: PNG, None),
    "joblib-truncated": ("bad.joblib", lambda g: _half(g["joblib_bytes"]), None),
    "joblib-foreign-png": ("bad.joblib", lambda g: PNG, None),
    "joblib-random-bytes": ("bad.joblib", lambda g: RANDOM, None),
    "joblib-empty": ("bad.joblib", lambda g: b"", None),
    "index-truncated": ("bad.index", lambda g: _half(g["index_bytes"]), None),
    "index-foreign-png": ("bad.index", lambda g: PNG, None),
    "index-random-bytes": ("bad.index", lambda g: RANDOM, None),
    "index-empty": ("bad.index", lambda g: b"", None),
    "nonexistent": ("nope.dat", None, None),
    "directory": ("folder.dat", "dir", None),
}


def make_bad(kind: str, folder: Path, good: dict) -> tuple[Path, int | None]:
    name, contents, line = KINDS[kind]
    path = folder / name
    if contents == "dir":
        path.mkdir()
    elif contents is not None:
        data = contents(good)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path, line


# command -> the bad file kinds it reads, and where the bad file goes
ENCODE = ["encode", "{bad}", "-c", TEXT, "-o", "{tmp}/out.npz", "--no-cache"]
INDEX = ["index", "{bad}", "-o", "{tmp}/out.index"]
RETRIEVER = ["index", "{encoded}", "--retriever", "{bad}", "-o", "{tmp}/out.index"]
QUERY = ["query", "{bad}", "apple"]
QUERY_IMAGE = ["query", "{index}", "--image", "{bad}"]
CONFIG = ["search", "{encoded}", "{bad}", "--storage", "memory"]
SEARCH_DATA = ["search", "{bad}", "{toml}", "--storage", "memory"]
CASES = [
    *[
        ("encode", ENCODE, kind)
        for kind in [
            "csv-unbalanced-quote",
            "csv-ragged-row",
            "csv-empty",
            "csv-foreign-png",
            "csv-random-bytes",
            "csv-not-utf8",
            "parquet-truncated",
            "parquet-foreign-csv",
            "parquet-empty",
            "nonexistent",
            "directory",
        ]
    ],
    *[
        ("index", INDEX, kind)
        for kind in [
            "parquet-truncated",
            "parquet-foreign-csv",
            "npz-truncated",
            "npz-foreign-png",
            "npz-empty",
            "nonexistent",
            "directory",
        ]
    ],
    *[
        ("index --retriever", RETRIEVER, kind)
        for kind in [
            "joblib-truncated",
            "joblib-foreign-png",
            "joblib-random-bytes",
            "joblib-empty",
            "nonexistent",
            "directory",
        ]
    ],
    *[
        ("query", QUERY, kind)
        for kind in [
            "index-truncated",
            "index-foreign-png",
            "index-random-bytes",
            "index-empty",
            "nonexistent",
            "directory",
        ]
    ],
    *[("query --image", QUERY_IMAGE, kind) for kind in ["nonexistent", "directory"]],
    *[
        ("search config", CONFIG, kind)
        for kind in ["toml-malformed", "toml-foreign-png", "nonexistent", "directory"]
    ],
    *[
        ("search data", SEARCH_DATA, kind)
        for kind in [
            "parquet-truncated",
            "npz-foreign-png",
            "npz-empty",
            "nonexistent",
            "directory",
        ]
    ],
]


@pytest.mark.parametrize(
    "argv, kind",
    [pytest.param(argv, kind, id=f"{cmd}-{kind}") for cmd, argv, kind in CASES],
)
def test_bad_file_is_one_clear_line_and_exit_2(argv, kind, good, tmp_path, capsys):
    bad, line = make_bad(kind, tmp_path, good)
    if kind.startswith("index-"):  # a damaged index keeps its good sidecar
        Path(f"{bad}.skmm.json").write_text(good["index_sidecar"])
    fill = {
        "bad": bad,
        "tmp": tmp_path,
        "encoded": good["encoded"],
        "index": good["index"],
        "toml": good["toml"],
    }
    rc, out, err = run(capsys, *[a.format(**fill) for a in argv])
    assert rc == 2, err
    assert out == ""
    assert_clear_error(err, bad.name, line)
    assert not (tmp_path / "out.index").exists()


def test_a_foreign_index_without_sidecar_is_named(tmp_path, capsys):
    bad = tmp_path / "photo.index"
    bad.write_bytes(PNG)
    rc, _, err = run(capsys, "query", bad, "apple")
    assert rc == 2
    assert_clear_error(err, "photo.index", None)
    assert "a PNG image" in err and "does not hold an skmm index" in err


@pytest.mark.parametrize(
    "sidecar, line",
    [
        pytest.param('{\n  "skmm_index": 1,\n  oops\n}\n', 3, id="malformed-json"),
        pytest.param("", None, id="empty"),
        pytest.param('{"skmm_index": 1}', None, id="lacks-keys"),
        pytest.param("[1, 2]", None, id="not-an-object"),
    ],
)
def test_a_bad_index_sidecar_is_named_with_its_line(
    sidecar, line, good, tmp_path, capsys
):
    index = tmp_path / "g.index"
    index.write_bytes(good["index_bytes"])
    (tmp_path / "g.index.skmm.json").write_text(sidecar)
    rc, _, err = run(capsys, "query", index, "apple")
    assert rc == 2
    assert_clear_error(err, "g.index.skmm.json", line)


def test_an_index_and_a_sidecar_of_different_runs(good, tmp_path, capsys):
    index = tmp_path / "g.index"
    index.write_bytes(good["index_bytes"])
    meta = json.loads(good["index_sidecar"])
    meta["rows"] = meta["rows"][:2]
    (tmp_path / "g.index.skmm.json").write_text(json.dumps(meta))
    rc, _, err = run(capsys, "query", index, "apple")
    assert rc == 2
    assert_clear_error(err, "g.index", None)
    assert "different runs" in err


def test_damaged_encoders_beside_the_index(good, tmp_path, capsys):
    index = tmp_path / "g.index"
    index.write_bytes(good["index_bytes"])
    meta = json.loads(good["index_sidecar"])
    meta["files"] = {"encoders": "g.index.encoders.joblib"}
    (tmp_path / "g.index.skmm.json").write_text(json.dumps(meta))
    (tmp_path / "g.index.encoders.joblib").write_bytes(_half(good["joblib_bytes"]))
    rc, _, err = run(capsys, "query", index, "apple")
    assert rc == 2
    assert_clear_error(err, "g.index.encoders.joblib", None)


def test_damaged_encoded_sidecar_names_its_line(good, tmp_path, capsys):
    encoded = tmp_path / "enc.npz"
    shutil.copyfile(good["encoded"], encoded)
    (tmp_path / "enc.npz.skmm.json").write_text('{"modalities":\n{"text": }\n}')
    rc, _, err = run(capsys, "index", encoded, "-o", tmp_path / "x.index")
    assert rc == 2
    assert_clear_error(err, "enc.npz.skmm.json", 2)


# ----------------------------------------------------------- missing columns
def test_missing_column_names_the_file(good, tmp_path, capsys):
    # encode: the --column is not in the input table
    rc, _, err = run(
        capsys, "encode", good["table"], "-c", "captoin=tfidf", "-o", tmp_path / "x.npz"
    )
    assert rc == 2
    assert_clear_error(err, "table.csv", None)
    assert "'captoin'" in err and "caption" in err

    # index: the sidecar lists a feature column the file lacks
    encoded = tmp_path / "enc.npz"
    shutil.copyfile(good["encoded"], encoded)
    block = {"name": "text", "features": ["text__f0", "text__f7"]}
    (tmp_path / "enc.npz.skmm.json").write_text(
        json.dumps({"modalities": {"text": block}})
    )
    rc, _, err = run(capsys, "index", encoded, "-o", tmp_path / "x.index")
    assert rc == 2
    assert_clear_error(err, "enc.npz", None)
    assert "'text__f7'" in err

    # search: the target column is not in the encoded file
    config = tmp_path / "t.toml"
    config.write_text('target = "price"\n')
    rc, _, err = run(capsys, "search", good["encoded"], config, "--storage", "memory")
    assert rc == 2
    assert_clear_error(err, "encoded.npz", None)
    assert "'price'" in err


def test_npz_whose_arrays_disagree(tmp_path, capsys):
    bad = tmp_path / "enc.npz"
    np.savez(bad, X=np.zeros((3, 2)), feature_names=np.array(["a__f0"]))
    rc, _, err = run(capsys, "index", bad, "-o", tmp_path / "x.index")
    assert rc == 2
    assert_clear_error(err, "enc.npz", None)
    assert "1 feature names" in err


# --------------------------------------------------- the exception underneath
def test_debug_raises_with_the_invalid_file_error_attached(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(CLIError) as info:
        main(["--debug", "encode", str(bad), "-c", TEXT, "-o", str(tmp_path / "x.npz")])
    cause = info.value.__cause__
    assert isinstance(cause, InvalidFileError)
    assert isinstance(cause, ValueError)
    assert (cause.path, cause.line) == (str(bad), 3)
    assert isinstance(cause.__cause__, pd.errors.ParserError)


def test_read_table_raises_invalid_file_error(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text('a\tb\n1\t"2\n')
    with pytest.raises(
        InvalidFileError, match=r"bad\.tsv, line 2: a quoted field"
    ) as info:
        _io.read_table(bad)
    assert info.value.line == 2


def test_an_unwrapped_invalid_file_error_exits_2(monkeypatch, tmp_path, capsys):
    def fail(args):
        raise InvalidFileError(f"{tmp_path}/x.bin: damaged", path=tmp_path / "x.bin")

    monkeypatch.setattr(encode_command, "cmd_encode", fail)
    rc, _, err = run(capsys, "encode", "in.csv", "-c", TEXT, "-o", "out.npz")
    assert rc == 2
    assert_clear_error(err, "x.bin", None)


def test_an_unexpected_failure_exits_1(monkeypatch, capsys):
    def fail(args):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(encode_command, "cmd_encode", fail)
    rc, _, err = run(capsys, "encode", "in.csv", "-c", TEXT, "-o", "out.npz")
    assert rc == 1
    lines = err.strip().splitlines()
    assert lines == [
        "skmm: error: RuntimeError: out of memory",
        "hint: run again with --debug for the traceback",
    ]


# ------------------------------------------------------ real exit codes
@pytest.mark.parametrize(
    "contents, code, fragment",
    [
        pytest.param('caption\n"an apple\n', 2, "line 2", id="malformed-csv-2"),
        pytest.param("photo\nmissing.png\n", 1, "missing.png", id="runtime-1"),
    ],
)
def test_the_process_exit_code(contents, code, fragment, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(contents)
    column = "photo=pixels" if "photo" in contents else TEXT
    proc = subprocess.run(
        [sys.executable, "-m", "skmm", "encode", str(bad), "-c", column,
         "-o", str(tmp_path / "x.npz"), "--no-cache"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    assert "bad.csv" in proc.stderr or "missing.png" in proc.stderr
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "name, data, line",
    [
        ("study.db", RANDOM, None),
        ("study.db", b"a text file, not SQLite\n", None),
        ("study.journal", b"garbage\n{}\n", 1),
    ],
)
def test_search_with_a_damaged_storage_file_exits_2(
    name, data, line, good, tmp_path, capsys
):
    bad = tmp_path / name
    bad.write_bytes(data)
    toml = tmp_path / "search.toml"
    toml.write_text('target = "label"\n[search]\nn_trials = 1\ncv = 2\n')
    rc, out, err = run(capsys, "search", good["encoded"], toml, "--storage", bad)
    assert rc == 2, err
    assert_clear_error(err, bad.name, line)
