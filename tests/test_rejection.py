"""gan_utils.rejection: discriminator rejection sampling (Azadi et al. 2019), against a D that is optimal by construction."""

import numpy as np
import pytest

from gan_utils.checks import SampleError
from gan_utils.rejection import discriminator_rejection


def _class_pool(real_target, n=200_000, seed=0):
    """G draws ten classes unevenly (q), the data evenly (p); D is the best D for its real target, per class."""
    q = np.array([0.04, 0.06, 0.08, 0.09, 0.10, 0.10, 0.11, 0.12, 0.14, 0.16])
    p = np.full(10, 0.1)
    labels = np.random.default_rng(seed).choice(10, size=n, p=q)
    return labels, (real_target * p / (p + q))[labels]


def test_discriminator_rejection_turns_g_into_the_data_when_d_is_optimal():
    labels, d = _class_pool(real_target=0.9)
    keep = discriminator_rejection(d, real_target=0.9, seed=1)
    shares = np.bincount(labels[keep], minlength=10) / keep.sum()
    assert np.abs(shares - 0.1).max() < 0.005, shares  # G's shares were 0.04 ... 0.16
    assert abs(keep.mean() - 0.4) < 0.005  # E[r / max r] = 1 / max(p / q) = 0.04 / 0.1
    # the same D read as if trained towards 1.0 misjudges the ratio: the rare class stays rare
    wrong = discriminator_rejection(d, real_target=1.0, seed=1)
    assert np.bincount(labels[wrong], minlength=10)[0] / wrong.sum() < 0.092


def test_discriminator_rejection_keeps_the_asked_share_and_favours_what_d_finds_real():
    labels, d = _class_pool(real_target=0.9)
    for accept in (0.9, 0.7, 0.5):
        keep = discriminator_rejection(d, accept=accept, real_target=0.9, seed=2)
        assert abs(keep.mean() - accept) < 0.005
        kept_share = np.array([keep[labels == k].mean() for k in range(10)])
        assert np.all(np.diff(kept_share) < 0.005), kept_share  # classes D rates more real are kept more often
        assert 0 < kept_share.min() < kept_share.max() <= 1  # a soft rule: no class is dropped outright
    assert discriminator_rejection(d, accept=1.0, real_target=0.9).all()
    again = discriminator_rejection(d, accept=0.7, real_target=0.9, seed=2)
    np.testing.assert_array_equal(again, discriminator_rejection(d, accept=0.7, real_target=0.9, seed=2))


@pytest.mark.parametrize("d_probs, kwargs, match", [
    (np.array([0.5]), {}, "at least 2 samples"),
    (np.ones((4, 2)) * 0.5, {}, "at least 2 samples"),
    (np.array([0.5, np.nan]), {}, "NaN"),
    (np.array([0.5, 1.0]), {}, "strictly between 0 and 1"),
    (np.array([0.0, 0.5]), {}, "strictly between 0 and 1"),
    (np.array([0.2, 0.5]), {"accept": 0}, "accept"),
    (np.array([0.2, 0.5]), {"accept": 1.5}, "accept"),
    (np.array([0.2, 0.5]), {"accept": True}, "accept"),
    (np.array([0.2, 0.5]), {"real_target": 0}, "real_target"),
    (np.array([0.2, 0.5]), {"real_target": "0.9"}, "real_target"),
    (np.array([0.95, 0.97]), {"real_target": 0.9}, "at or above real_target"),
])
def test_discriminator_rejection_refuses_bad_input(d_probs, kwargs, match):
    with pytest.raises(SampleError, match=match):
        discriminator_rejection(d_probs, **kwargs)
