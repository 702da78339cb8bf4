from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from skmm.compose import make_modality_encoder, split_modalities
from skmm.text import TextEncoder, TfidfTextEncoder


def _frame(n=40):
    rng = np.random.RandomState(0)
    fruit = ["apple", "pear", "plum", "fig"]
    sky = ["sky", "sea", "sun", "moon"]
    y = rng.randint(0, 2, n)
    caption = [
        f"a {rng.choice(fruit)} and a {rng.choice(fruit)}"
        if t == 1
        else f"the {rng.choice(sky)} at night"
        for t in y
    ]
    title = [None if i % 7 == 0 else ("fruit" if t else "sky") for i, t in enumerate(y)]
    return pd.DataFrame({"caption": caption, "title": title, "price": rng.rand(n)}), y


def test_names_carry_modality_prefix_and_split_back(tiny_text_model):
    df, _ = _frame(12)
    enc = make_modality_encoder(
        text=TextEncoder(tiny_text_model, verbose=0),
        words=TfidfTextEncoder(n_components=3, random_state=0, verbose=0),
        tabular="passthrough",
        columns={
            "text": "caption",
            "words": ["caption", "title"],
            "tabular": ["price"],
        },
    )
    out = enc.fit_transform(df)
    assert isinstance(out, pd.DataFrame)
    assert out.columns[0] == "text__f0"
    assert "words__caption__f0" in out.columns and "words__title__f2" in out.columns
    assert out.columns[-1] == "tabular__price"
    blocks = split_modalities(out)
    assert {k: v.shape[1] for k, v in blocks.items()} == {
        "text": 32,
        "words": 6,
        "tabular": 1,
    }
    # the missing titles travel as NaN in the title block only
    title_block = blocks["words"][:, 3:]
    assert np.isnan(title_block[0]).all() and not np.isnan(blocks["text"][0]).any()


def test_early_fusion_with_plain_sklearn_under_cross_val_score():
    df, y = _frame(40)
    pipe = make_pipeline(
        make_modality_encoder(
            text=TfidfTextEncoder(n_components=4, random_state=0, verbose=0),
            tabular="passthrough",
            columns={"text": "caption", "tabular": ["price"]},
        ),
        LogisticRegression(),
    )
    scores = cross_val_score(pipe, df, y, cv=4)
    assert scores.mean() > 0.9  # captions separate the classes


def test_argument_errors():
    with pytest.raises(ValueError, match="at least one modality"):
        make_modality_encoder()
    with pytest.raises(ValueError, match="no encoder"):
        make_modality_encoder(text="passthrough", columns={"image": "img"})
    with pytest.raises(ValueError, match="may not contain"):
        make_modality_encoder(**{"a__b": "passthrough"})


def test_a_missing_column_names_the_modality_and_the_columns_x_has():
    from skmm.compose import ModalityColumnTransformer

    df = pd.DataFrame({"caption": ["a red apple", "blue sky"], "price": [1.0, 2.0]})
    enc = make_modality_encoder(
        text=TfidfTextEncoder(verbose=0), columns={"text": "captions"}
    )
    assert isinstance(enc, ModalityColumnTransformer)
    with pytest.raises(ValueError) as info:
        enc.fit(df)
    message = str(info.value)
    assert "modality 'text' reads column 'captions'" in message
    assert "'caption', 'price'" in message and "Did you mean 'caption'?" in message
    with pytest.raises(ValueError, match="modality 'text' reads column 'text'"):
        make_modality_encoder(text=TfidfTextEncoder(verbose=0)).fit_transform(df)

    fitted = make_modality_encoder(
        text=TfidfTextEncoder(verbose=0), columns={"text": "caption"}
    ).fit(df)
    with pytest.raises(ValueError, match="the columns the encoder was fitted on"):
        fitted.transform(df.rename(columns={"caption": "title"}))
    assert fitted.transform(df).shape[0] == 2


def test_the_column_check_keeps_the_estimator_a_plain_column_transformer():
    import pickle

    from sklearn.base import clone
    from sklearn.compose import ColumnTransformer

    enc = make_modality_encoder(text=TfidfTextEncoder(verbose=0))
    assert isinstance(enc, ColumnTransformer)
    assert set(clone(enc).get_params()) == set(enc.get_params())
    assert type(pickle.loads(pickle.dumps(enc))) is type(enc)
