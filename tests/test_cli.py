"""The ``skmm`` command line: encode, index, query, search and their errors.

Only weight-free encoders (TF-IDF, pixels) and the tiny test models are used,
so the file runs in seconds without downloads.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from skmm.cli import main
from skmm.cli._column_spec import parse_column_spec
from skmm.cli._errors import CLIError

CAPTIONS = [
    "a red apple",
    "a green apple",
    "blue sky over the sea",
    "a red car on the road",
    "green tree in the park",
    "a blue boat",
]
TEXT = "caption=tfidf:n_components=4,random_state=0"
IMAGE = "photo=pixels:size=4"


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def run_quietly(*argv) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue()


def assert_one_line_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("skmm: error: ") or ": error: " in lines[0], err
    assert lines[1].startswith("hint: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def make_table(folder: Path) -> Path:
    from PIL import Image

    (folder / "img").mkdir(parents=True)
    rows = []
    for i, caption in enumerate(CAPTIONS):
        pixels = np.random.RandomState(i).randint(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / "img" / f"{i}.png")
        rows.append(
            {
                "id": f"item{i}",
                "caption": caption,
                "photo": f"img/{i}.png",  # relative to the CSV's folder
                "label": caption.split()[1] if caption.startswith("a ") else "x",
            }
        )
    path = folder / "data.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def table(workdir) -> Path:
    return make_table(workdir / "data")


@pytest.fixture(scope="module")
def encoded(workdir, table) -> Path:
    out = workdir / "encoded.parquet"
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(elsewhere)  # image paths resolve against the CSV, not the cwd
        rc, _ = run_quietly(
            "encode", table, "-c", TEXT, "-c", IMAGE, "--keep", "id",
            "--keep", "label", "-o", out, "--cache", workdir / "cache", "--quiet",
        )  # fmt: skip
    assert rc == 0
    return out


# ------------------------------------------------------------------ encode
def test_encode_writes_parquet_sidecar_and_encoders(encoded, table, workdir, capsys):
    df = pd.read_parquet(encoded)
    assert list(df.columns[:3]) == ["__row__", "id", "label"]
    assert [c for c in df.columns if c.startswith("text__")] == [
        f"text__f{i}" for i in range(4)
    ]
    assert sum(c.startswith("image__") for c in df.columns) == 4 * 4 * 3
    assert df.shape == (6, 3 + 4 + 48)
    assert df["__row__"].tolist() == list(range(6))
    meta = json.loads(Path(str(encoded) + ".skmm.json").read_text())
    assert meta["modalities"]["text"]["encoder"] == "tfidf"
    assert meta["modalities"]["text"]["settings"] == {
        "n_components": 4,
        "random_state": 0,
    }
    assert meta["modalities"]["image"]["column"] == "photo"
    assert meta["modalities"]["image"]["width"] == 48
    fitted = joblib.load(Path(str(encoded) + ".encoders.joblib"))
    assert set(fitted) == {"text", "image"}

    # the same run again reads every embedding from the cache
    rc, out, err = run(
        capsys, "encode", table, "-c", TEXT, "-c", IMAGE, "-o",
        workdir / "again.parquet", "--cache", workdir / "cache", "--quiet",
    )  # fmt: skip
    assert rc == 0, err
    assert len(out.strip().splitlines()) == 1
    assert "encoded 6 rows" in out
    assert "text 4-d (tfidf), image 48-d (pixels)" in out
    assert "cache 12 hits, 0 misses" in out


def test_encode_npz_without_cache(table, tmp_path, capsys):
    out = tmp_path / "enc.npz"
    rc, stdout, err = run(
        capsys, "encode", table, "-c", "caption=tfidf", "-c", "photo=pixels:size=2",
        "--keep", "label", "-o", out, "--no-cache", "--batch-size", "2",
    )  # fmt: skip
    assert rc == 0, err
    assert "cache off" in stdout
    with np.load(out, allow_pickle=False) as data:
        assert data["X"].shape[0] == 6
        assert data["X"].dtype == np.float32
        names = list(data["feature_names"])
        assert len(names) == data["X"].shape[1]
        assert names[-12:] == [f"image__f{i}" for i in range(12)]
        assert data["__row__"].tolist() == list(range(6))
        assert data["label"].tolist()[:2] == ["red", "green"]


def test_encode_with_a_tiny_pretrained_model(table, tiny_text_model, tmp_path, capsys):
    # the short form: a bare first setting is the model
    out = tmp_path / "tiny.parquet"
    rc, stdout, err = run(
        capsys, "encode", table, "-c", f"caption=text:{tiny_text_model}",
        "--keep", "id", "-o", out, "--no-cache", "--device", "cpu",
    )  # fmt: skip
    assert rc == 0, err
    assert "text 32-d (text)" in stdout
    index = tmp_path / "tiny.index"
    assert run(capsys, "index", out, "-o", index)[0] == 0
    rc, stdout, err = run(capsys, "query", index, CAPTIONS[4], "-k", "2", "--json")
    assert rc == 0, err
    first = json.loads(stdout)["results"][0]
    assert first["id"] == "item4"
    assert first["score"] == pytest.approx(1.0, abs=1e-4)


# ------------------------------------------------------------ index/query
@pytest.fixture(scope="module")
def text_index(encoded, workdir) -> Path:
    out = workdir / "text.index"
    rc, stdout = run_quietly("index", encoded, "--modality", "text", "-o", out)
    assert rc == 0
    assert "indexed 6 text vectors (4-d, exact, encoder space)" in stdout
    return out


def test_query_text_returns_the_duplicate_first(text_index, capsys):
    for row in (1, 3):
        rc, out, err = run(capsys, "query", text_index, CAPTIONS[row], "-k", "3")
        assert rc == 0, err
        lines = out.strip().splitlines()
        assert lines[0].split() == ["rank", "score", "__row__", "id", "label"]
        assert len(lines) == 4
        rank, score, row_id, item_id, _ = lines[1].split()
        assert (rank, row_id, item_id) == ("1", str(row), f"item{row}")
        assert float(score) == pytest.approx(1.0, abs=1e-4)


def test_query_json_output(text_index, capsys):
    rc, out, err = run(capsys, "query", text_index, "a green apple", "--json", "-k", 9)
    assert rc == 0, err  # k larger than the gallery is clipped
    doc = json.loads(out)
    assert doc["query_modality"] == doc["gallery_modality"] == "text"
    assert [r["rank"] for r in doc["results"]] == [1, 2, 3, 4, 5, 6]
    assert doc["results"][0]["__row__"] == 1
    assert doc["results"][0]["label"] == "green"


def test_query_image_by_column_name(encoded, table, tmp_path, capsys):
    index = tmp_path / "photos.index"
    rc, _, err = run(capsys, "index", encoded, "--modality", "photo", "-o", index)
    assert rc == 0, err
    image = table.parent / "img" / "3.png"
    rc, out, err = run(capsys, "query", index, "--image", image, "--json")
    assert rc == 0, err
    results = json.loads(out)["results"]
    assert len(results) == 5
    assert results[0]["__row__"] == 3
    assert results[0]["score"] == pytest.approx(1.0, abs=1e-4)
    assert results[1]["score"] < 0.999


def test_faiss_index(encoded, tmp_path, capsys):
    pytest.importorskip("faiss")
    index = tmp_path / "titles.index"
    argv = ["index", encoded, "--modality", "caption", "--kind", "faiss-hnsw"]
    rc, out, err = run(capsys, *argv, "-o", index)
    assert rc == 0, err
    assert "faiss-hnsw" in out
    rc, out, err = run(capsys, "query", index, CAPTIONS[5], "-k", 1, "--json")
    assert rc == 0, err
    assert json.loads(out)["results"][0]["__row__"] == 5


def test_cross_modal_query_needs_a_retriever(encoded, tmp_path, capsys):
    index = tmp_path / "photos.index"
    assert run(capsys, "index", encoded, "--modality", "image", "-o", index)[0] == 0
    rc, out, err = run(capsys, "query", index, "a red apple")
    assert rc == 2
    assert out == ""
    assert_one_line_error(err, "different spaces", "--retriever")


def test_text_to_image_through_a_retriever(encoded, tmp_path, capsys):
    from skmm.retrieval import CCARetriever

    df = pd.read_parquet(encoded)
    X = df[[c for c in df.columns if c.startswith(("text__", "image__"))]]
    retriever = CCARetriever(n_components=2).fit(X)
    joblib.dump(retriever, tmp_path / "cca.joblib")
    index = tmp_path / "photos.index"
    rc, out, err = run(
        capsys, "index", encoded, "--modality", "image",
        "--retriever", tmp_path / "cca.joblib", "-o", index,
    )  # fmt: skip
    assert rc == 0, err
    assert "retriever space" in out
    expected = retriever.index(X).search(X.iloc[[2]], k=3)[0][0].tolist()
    # the retriever is found beside the index, or given again
    for extra in ([], ["--retriever", tmp_path / "cca.joblib"]):
        argv = ["query", index, CAPTIONS[2], "-k", 3, "--json", *extra]
        rc, out, err = run(capsys, *argv)
        assert rc == 0, err
        doc = json.loads(out)
        assert (doc["query_modality"], doc["gallery_modality"]) == ("text", "image")
        assert [r["__row__"] for r in doc["results"]] == expected


def test_retriever_rejected_on_an_encoder_space_index(text_index, tmp_path, capsys):
    from skmm.retrieval import CCARetriever

    joblib.dump(CCARetriever(), tmp_path / "r.joblib")
    rc, _, err = run(
        capsys, "query", text_index, "apple", "--retriever", tmp_path / "r.joblib"
    )
    assert rc == 2
    assert_one_line_error(err, "built without --retriever")


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["encode", "{d}/nope.csv", "-c", TEXT, "-o", "{t}/x.npz"], ["not found"]),
        (
            ["encode", "{table}", "-c", "captoin=tfidf", "-o", "{t}/x.npz"],
            ["unknown column 'captoin'", "caption, photo, label"],
        ),
        (
            ["encode", "{table}", "-c", "caption=tfidff", "-o", "{t}/x.npz"],
            ["unknown encoder 'tfidff'", "tfidf", "pixels"],
        ),
        (
            ["encode", "{table}", "-c", "caption=tfidf:n_component=4", "-o", "x.npz"],
            ["n_component", "n_components"],
        ),
        (["encode", "{table}", "-c", "caption", "-o", "{t}/x.npz"], ["COLUMN=ENC"]),
        (["encode", "{table}", "-c", TEXT, "-o", "{t}/x.csv"], [".parquet or .npz"]),
        (["encode", "{table}", "-o", "{t}/x.npz"], ["--column"]),
        (
            ["index", "{encoded}", "--modality", "video", "-o", "{t}/x.index"],
            ["unknown modality 'video'", "text (tfidf, 4-d)"],
        ),
        (["index", "{encoded}", "-o", "{t}/x.index"], ["several modalities"]),
        (["query", "{d}/none.index", "apple"], ["not found"]),
    ],
)
def test_usage_errors_are_one_line_and_a_hint(
    argv, fragments, table, encoded, tmp_path, capsys
):
    fill = {"table": table, "encoded": encoded, "t": tmp_path, "d": tmp_path}
    rc, out, err = run(capsys, *[a.format(**fill) for a in argv])
    assert rc == 2
    assert_one_line_error(err, *fragments)


def test_query_needs_exactly_one_item(text_index, tmp_path, capsys):
    rc, _, err = run(capsys, "query", text_index)
    assert rc == 2
    assert_one_line_error(err, "exactly one query")
    image = tmp_path / "q.png"
    rc, _, err = run(capsys, "query", text_index, "apple", "--image", image)
    assert rc == 2


def test_missing_extra_is_a_runtime_error(table, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow fails
    rc, _, err = run(capsys, "encode", table, "-c", TEXT, "-o", tmp_path / "x.pq")
    assert rc == 1
    assert_one_line_error(err, "'pyarrow'", "hint: pip install pyarrow")


def test_bad_item_is_a_runtime_error(tmp_path, capsys):
    (tmp_path / "bad.csv").write_text("photo\nmissing.png\n")
    rc, _, err = run(
        capsys, "encode", tmp_path / "bad.csv", "-c", "photo=pixels", "-o",
        tmp_path / "x.npz", "--no-cache",
    )  # fmt: skip
    assert rc == 1
    assert_one_line_error(err, "missing.png", "on_error=nan")


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(CLIError, match="not found"):
        main(["--debug", "encode", str(tmp_path / "no.csv"), "-c", TEXT, "-o", "x.npz"])


# ------------------------------------------------------------------ search
@pytest.fixture(scope="module")
def synthetic(workdir) -> Path:
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 6)).astype(np.float32)
    y = np.where(X[:, 0] + X[:, 3] > 0, "yes", "no")
    names = [f"a__f{i}" for i in range(3)] + [f"b__f{i}" for i in range(3)]
    path = workdir / "synthetic.npz"
    np.savez(path, X=X, feature_names=np.array(names), label=y)
    return path


SEARCH_TOML = """\
target = "label"
task = "classification"
[estimator]
max_epochs = 2
device = "cpu"
random_state = 0
[search]
n_trials = 2
cv = 2
scoring = "accuracy"
random_state = 0
fusions = ["concat", "late"]
"""


def test_search_prints_best_and_top_trials_and_resumes(synthetic, tmp_path, capsys):
    config = tmp_path / "search.toml"
    config.write_text(SEARCH_TOML)
    argv = [
        "search", synthetic, config, "--storage", tmp_path / "study.db",
        "--study-name", "cli", "--output", tmp_path / "best.joblib", "--quiet",
    ]  # fmt: skip
    rc, out, err = run(capsys, *argv)
    assert rc == 0, err
    assert "searched 2 trials" in out
    assert "best score: " in out
    assert "best params: fusion=" in out
    lines = out.splitlines()
    top = lines.index("top trials:")
    assert lines[top + 1].split()[:4] == ["rank", "trial", "state", "score"]
    assert len([ln for ln in lines[top + 2 :] if "COMPLETE" in ln]) == 2
    best = joblib.load(tmp_path / "best.joblib")
    X = np.load(synthetic)["X"]
    frame = pd.DataFrame(X, columns=list(np.load(synthetic)["feature_names"]))
    assert set(best.predict(frame)) <= {"yes", "no"}
    # same study name: the 2 finished trials are kept, none is run again
    rc, out, err = run(capsys, *argv[:-3], "--quiet")
    assert rc == 0, err
    assert "searched 2 trials" in out


@pytest.mark.parametrize(
    "toml, fragments",
    [
        ("target = \n", ["not valid TOML"]),
        ('target = "label"\ncolour = 1\n', ["unknown key(s) colour"]),
        ('target = "lbl"\n', ["'lbl' is not in", "--keep lbl"]),
        ('target = "label"\n[search]\nfusions = ["nope"]\n', ["'nope'", "concat"]),
        ('target = "label"\n[estimator]\nmax_epoch = 2\n', ["max_epoch"]),
        ('target = "label"\ntask = "ranking"\n', ["task must be"]),
    ],
)
def test_search_config_errors(toml, fragments, synthetic, tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    rc, out, err = run(capsys, "search", synthetic, config, "--storage", "memory")
    assert rc == 2
    assert_one_line_error(err, *fragments)


# -------------------------------------------------------------- the parser
def test_column_spec_forms():
    spec = parse_column_spec("caption=tfidf:n_components=8,ngram_range=(1,2)")
    assert (spec.column, spec.encoder) == ("caption", "tfidf")
    assert spec.settings == {"n_components": 8, "ngram_range": (1, 2)}
    spec = parse_column_spec("photo=image-hf:./models/vit,batch_size=4")
    assert spec.positional == "./models/vit" and spec.has_positional
    assert spec.settings == {"batch_size": 4}
    assert parse_column_spec("a=pixels:grayscale=true").settings["grayscale"] is True


@pytest.mark.parametrize("command", ["encode", "index", "query", "search"])
def test_help_has_an_example(command, capsys):
    rc, out, _ = run(capsys, command, "--help")
    assert rc == 0
    assert f"skmm {command} " in out.split("example")[-1]


def test_top_level_help_lists_every_command(capsys):
    rc, out, _ = run(capsys, "--help")
    assert rc == 0
    for command in ("demo", "datasets", "encode", "index", "query", "search"):
        assert command in out


def test_datasets_help_reaches_the_datasets_command(capsys):
    try:
        rc = main(["datasets", "--help"])
    except SystemExit as exc:  # the datasets parser exits on --help
        rc = exc.code
    assert rc == 0
    assert "fetch" in capsys.readouterr().out


def test_entry_point_runs_encode_help():
    proc = subprocess.run(
        [sys.executable, "-m", "skmm", "encode", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "COLUMN=ENCODER[:SETTINGS]" in proc.stdout
    assert "tfidf" in proc.stdout  # the registered encoders are listed


# ------------------------------------------------------- encode on Dask
def test_encode_workers_writes_shards_equal_to_one_file(encoded, table, tmp_path):
    pytest.importorskip(
        "dask.distributed", reason="needs dask.distributed: pip install 'skmm[dask]'"
    )
    from skmm.cli._files import read_encoded
    from skmm.cli._shards import iter_encoded_shards, shard_files

    folder = tmp_path / "shards"
    rc, out = run_quietly(
        "encode", table, "-c", TEXT, "-c", IMAGE, "--keep", "id", "--keep",
        "label", "-o", folder, "--workers", 2, "--partition-size", 4,
        "--cache", tmp_path / "cache", "--quiet",
    )  # fmt: skip
    assert rc == 0
    assert "encoded 6 rows" in out and "2 shards" in out
    assert [f.name for f in shard_files(folder)] == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    assert [len(t) for _, t in iter_encoded_shards(folder)] == [4, 2]
    single = pd.read_parquet(encoded)
    sharded = pd.read_parquet(folder)  # pandas reads the folder as one table
    assert list(sharded.columns) == list(single.columns)
    assert list(sharded.index) == list(range(6))
    assert sharded["__row__"].tolist() == list(range(6))
    pd.testing.assert_frame_equal(
        sharded[["id", "label"]], single[["id", "label"]], check_dtype=False
    )
    features = [c for c in single.columns if "__f" in c]
    np.testing.assert_allclose(
        sharded[features].to_numpy(), single[features].to_numpy(), rtol=1e-5
    )
    meta = json.loads(Path(str(folder) + ".skmm.json").read_text())
    assert meta["shards"] == [
        {"file": "part-00000.parquet", "rows": 4},
        {"file": "part-00001.parquet", "rows": 2},
    ]
    assert meta["modalities"]["text"]["encoder"] == "tfidf"
    assert set(joblib.load(Path(str(folder) + ".encoders.joblib"))) == {
        "text",
        "image",
    }
    back = read_encoded(folder)
    np.testing.assert_allclose(back.features.to_numpy(), single[features].to_numpy())


def test_encode_sharded_output_errors(table, tmp_path, capsys):
    rc, _, err = run(
        capsys, "encode", table, "-c", TEXT, "-o", tmp_path / "x.npz",
        "--workers", 2,
    )  # fmt: skip
    assert rc == 2
    assert_one_line_error(err, "shards into a folder")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    rc, _, err = run(
        capsys, "encode", table, "-c", TEXT, "-o", busy, "--workers", 1,
    )  # fmt: skip
    assert rc == 2
    assert_one_line_error(err, "other files than shards", "notes.txt")
    rc, _, err = run(
        capsys, "encode", table, "-c", TEXT, "-o", tmp_path / "o",
        "--workers", 1, "--scheduler", "tcp://127.0.0.1:1",
    )  # fmt: skip
    assert rc == 2


# ------------------------------------------------------ index from shards
def split_encoded(encoded: Path, folder: Path, sizes=(2, 3, 1)) -> Path:
    """A shard folder as `skmm encode --workers` writes it, from a single file."""
    import shutil

    df = pd.read_parquet(encoded)
    folder.mkdir(parents=True)
    start = 0
    for i, size in enumerate(sizes):
        part = df.iloc[start : start + size]
        part.to_parquet(folder / f"part-{i:05d}.parquet", index=False)
        start += size
    meta = json.loads(Path(str(encoded) + ".skmm.json").read_text())
    meta["encoders_file"] = folder.name + ".encoders.joblib"
    Path(str(folder) + ".skmm.json").write_text(json.dumps(meta))
    shutil.copyfile(
        str(encoded) + ".encoders.joblib", folder.parent / meta["encoders_file"]
    )
    return folder


@pytest.mark.parametrize("kind", ["exact", "faiss-ivf", "faiss-hnsw"])
def test_index_shard_folder_then_query(encoded, text_index, kind, tmp_path, capsys):
    if kind != "exact":
        pytest.importorskip("faiss")
    folder = split_encoded(encoded, tmp_path / "shards")
    index = tmp_path / "sharded.index"
    rc, out, err = run(
        capsys, "index", folder, "--modality", "text", "--kind", kind,
        "--train-size", 4, "--max-memory", "1G", "-o", index,
    )  # fmt: skip
    assert rc == 0, err
    assert f"indexed 6 text vectors (4-d, {kind}, encoder space) from 3 shards" in out
    assert "memory bound" in out and "peak RSS" in out
    for row in (1, 3, 4):
        argv = [CAPTIONS[row], "-k", 6, "--json"]
        rc, got, err = run(capsys, "query", index, *argv)
        assert rc == 0, err
        rc, want, _ = run(capsys, "query", text_index, *argv)
        got, want = json.loads(got)["results"], json.loads(want)["results"]
        assert got[0]["__row__"] == row
        assert got[0]["id"] == f"item{row}"
        if kind == "exact":  # the same rows, ids and scores as one file
            assert [r["__row__"] for r in got] == [r["__row__"] for r in want]
            assert [r["score"] for r in got] == pytest.approx(
                [r["score"] for r in want], abs=1e-5
            )


def test_index_bad_shard_folders(encoded, tmp_path, capsys):
    bad = tmp_path / "x.index"
    empty = tmp_path / "empty"
    empty.mkdir()
    rc, _, err = run(capsys, "index", empty, "--modality", "text", "-o", bad)
    assert rc == 2
    assert_one_line_error(err, "empty", "part-*.parquet")

    folder = split_encoded(encoded, tmp_path / "shards")
    rc, _, err = run(
        capsys, "index", folder, "--modality", "text", "--max-memory", "100",
        "-o", bad,
    )  # fmt: skip
    assert rc == 2
    assert_one_line_error(err, "--max-memory")

    narrow = pd.read_parquet(folder / "part-00001.parquet").drop(columns="image__f47")
    narrow.to_parquet(folder / "part-00001.parquet", index=False)
    rc, _, err = run(capsys, "index", folder, "--modality", "text", "-o", bad)
    assert rc == 2
    assert_one_line_error(err, "part-00001.parquet", "mixed widths")

    raw = (folder / "part-00002.parquet").read_bytes()
    for damaged in (b"", b"not parquet", raw[: len(raw) // 2]):
        (folder / "part-00001.parquet").write_bytes(raw)  # width fixed again
        (folder / "part-00002.parquet").write_bytes(damaged)
        rc, _, err = run(capsys, "index", folder, "--modality", "text", "-o", bad)
        assert rc == 2
        assert_one_line_error(err, "part-00002.parquet", "cannot read the shard")
    assert not bad.exists()


def test_index_shard_folder_through_a_retriever(encoded, tmp_path, capsys):
    from skmm.retrieval import CCARetriever

    df = pd.read_parquet(encoded)
    X = df[[c for c in df.columns if c.startswith(("text__", "image__"))]]
    retriever = CCARetriever(n_components=2).fit(X)
    joblib.dump(retriever, tmp_path / "cca.joblib")
    folder = split_encoded(encoded, tmp_path / "shards")
    index = tmp_path / "photos.index"
    rc, out, err = run(
        capsys, "index", folder, "--modality", "image",
        "--retriever", tmp_path / "cca.joblib", "-o", index,
    )  # fmt: skip
    assert rc == 0, err
    assert "(2-d, exact, retriever space) from 3 shards" in out
    expected = retriever.index(X).search(X.iloc[[2]], k=3)[0][0].tolist()
    rc, out, err = run(capsys, "query", index, CAPTIONS[2], "-k", 3, "--json")
    assert rc == 0, err
    assert [r["__row__"] for r in json.loads(out)["results"]] == expected


def test_index_shard_folder_leaves_out_missing_rows(encoded, tmp_path, capsys):
    folder = split_encoded(encoded, tmp_path / "shards")
    part = pd.read_parquet(folder / "part-00001.parquet")  # rows 2, 3, 4
    part.loc[part["__row__"] == 3, [f"text__f{i}" for i in range(4)]] = np.nan
    part.to_parquet(folder / "part-00001.parquet", index=False)
    index = tmp_path / "text.index"
    rc, out, err = run(capsys, "index", folder, "--modality", "text", "-o", index)
    assert rc == 0, err
    assert "indexed 5 text vectors" in out and "1 rows without that modality" in out
    rc, out, err = run(capsys, "query", index, CAPTIONS[4], "-k", 6, "--json")
    assert rc == 0, err
    results = json.loads(out)["results"]
    assert sorted(r["__row__"] for r in results) == [0, 1, 2, 4, 5]
    assert (results[0]["__row__"], results[0]["id"]) == (4, "item4")


def test_encode_workers_then_index_then_query(table, tmp_path, capsys):
    pytest.importorskip(
        "dask.distributed", reason="needs dask.distributed: pip install 'skmm[dask]'"
    )
    folder = tmp_path / "shards"
    rc, _ = run_quietly(
        "encode", table, "-c", TEXT, "--keep", "id", "-o", folder, "--workers", 2,
        "--partition-size", 2, "--cache", tmp_path / "cache", "--quiet",
    )  # fmt: skip
    assert rc == 0
    index = tmp_path / "text.index"
    rc, out, err = run(capsys, "index", folder, "-o", index)
    assert rc == 0, err
    assert "indexed 6 text vectors (4-d, exact, encoder space) from 3 shards" in out
    rc, out, err = run(capsys, "query", index, CAPTIONS[3], "-k", 2, "--json")
    assert rc == 0, err
    first = json.loads(out)["results"][0]
    assert (first["__row__"], first["id"]) == (3, "item3")
