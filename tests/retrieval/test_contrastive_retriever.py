"""ContrastiveRetriever: recovers the pairing, stays at chance when shuffled."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skmm.datasets import make_paired_modalities
from skmm.retrieval import ContrastiveRetriever

FAST = {"embed_dim": 16, "max_epochs": 10, "batch_size": 64, "lr": 1e-2}


@pytest.fixture(scope="module")
def paired():
    data = make_paired_modalities(300, latent_dim=8, random_state=0).data
    return data.iloc[:200], data.iloc[200:]


def test_recovers_the_pairing_in_both_directions(paired, global_random_seed):
    train, test = paired
    r = ContrastiveRetriever(**FAST, random_state=global_random_seed, device="auto")
    r.fit(train)
    r1 = r.score(test, metric="recall@1")
    assert r1 >= 0.9
    top1 = r.index(test).search(test, k=1)[0][:, 0]
    assert (top1 == np.arange(100)).mean() == pytest.approx(r1)
    r.index(test, modality="text")
    indices, scores = r.search(test, k=1, modality="image")
    assert (indices[:, 0] == np.arange(100)).mean() >= 0.9
    assert r.loss_curve_[-1] < r.loss_curve_[0]
    assert 0.01 <= r.temperature_ <= 1.0 and r.temperature_ != 0.07  # learnt


def test_shuffled_pairing_stays_at_chance(paired):
    train, test = paired
    shuffled = train.copy()
    image_cols = [c for c in train.columns if c.startswith("image__")]
    perm = np.random.default_rng(0).permutation(len(train))
    shuffled[image_cols] = train[image_cols].to_numpy()[perm]
    r = ContrastiveRetriever(**FAST, random_state=0, device="cpu").fit(shuffled)
    # chance on a 100-item gallery: 0.01 at 1, 0.10 at 10
    assert r.score(test, metric="recall@1") <= 0.06
    assert r.score(test, metric="recall@10") <= 0.25


def test_random_state_seeds_everything_and_leaves_global_rng_alone(paired):
    train, test = paired
    params = {**FAST, "max_epochs": 2, "device": "cpu"}
    state = torch.random.get_rng_state()
    a = ContrastiveRetriever(**params, random_state=3).fit(train)
    assert torch.equal(torch.random.get_rng_state(), state)
    b = ContrastiveRetriever(**params, random_state=3).fit(train)
    c = ContrastiveRetriever(**params, random_state=4).fit(train)
    np.testing.assert_array_equal(a.embed(test), b.embed(test))
    assert not np.allclose(a.embed(test), c.embed(test))
    # refit forgets the earlier fit
    np.testing.assert_array_equal(a.fit(train).embed(test), b.embed(test))


def test_groups_are_positives_of_each_other():
    b = make_paired_modalities(150, latent_dim=4, n_groups=5, random_state=0)
    r = ContrastiveRetriever(**FAST, random_state=0, device="cpu")
    r.fit(b.data, b.groups)
    assert r.score(b.data, b.groups, metric="recall@1") >= 0.9


def test_infonce_loss_matches_clip_formula():
    from skmm.retrieval._towers import SymmetricInfoNCELoss

    gen = torch.Generator().manual_seed(0)
    zq = F.normalize(torch.randn(6, 4, generator=gen), dim=1)
    zt = F.normalize(torch.randn(6, 4, generator=gen), dim=1)
    scale = torch.tensor(10.0)
    logits = scale * zq @ zt.T
    labels = torch.arange(6)
    clip = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
    loss = SymmetricInfoNCELoss()((zq, zt, scale), labels)
    assert torch.allclose(loss, clip)
    # two rows in one group: each is a positive (target 1/2) of the other
    groups = torch.tensor([0, 0, 1, 2, 3, 4])
    targets = torch.eye(6)
    targets[:2, :2] = 0.5
    expected = 0.5 * (
        F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)
    )
    assert torch.allclose(SymmetricInfoNCELoss()((zq, zt, scale), groups), expected)


def test_mlp_towers_and_fixed_temperature(paired):
    train, test = paired
    r = ContrastiveRetriever(
        **{**FAST, "max_epochs": 3},
        hidden_dim=32,
        dropout=0.1,
        learn_temperature=False,
        temperature=0.1,
        random_state=0,
        device="cpu",
    ).fit(train)
    assert r.temperature_ == pytest.approx(0.1)
    assert isinstance(r.net_.module_.query_tower, torch.nn.Sequential)
    assert r.score(test, metric="recall@10") > 0.3


def test_pickle_round_trip(paired):
    train, test = paired
    r = ContrastiveRetriever(**{**FAST, "max_epochs": 2}, random_state=0, device="cpu")
    r.fit(train).index(test)
    restored = pickle.loads(pickle.dumps(r))
    np.testing.assert_array_equal(restored.embed(test), r.embed(test))
    for a, b in zip(restored.search(test, k=3), r.search(test, k=3)):
        np.testing.assert_array_equal(a, b)
