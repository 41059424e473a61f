"""gan_utils.boundary: how often a nudge of a latent point changes the digit (notebook 02)."""

import numpy as np
import pytest

from gan_utils.boundary import latent_class_changes


class _SignEvaluator:
    """A stand-in evaluator: the 'image' is the latent point itself; class 1 if its first coordinate is > 0, else 0."""

    def __init__(self):
        self.calls = 0

    def features_and_probs(self, images):
        self.calls += 1
        p1 = 1 / (1 + np.exp(-20 * np.asarray(images)[:, 0]))
        probs = np.zeros((len(images), 10))
        probs[:, 0], probs[:, 1] = 1 - p1, p1
        return None, probs


def test_latent_class_changes_finds_the_border_between_two_classes():
    z = np.zeros((400, 8), np.float32)
    z[:, 0] = np.repeat([-5.0, -0.01, 0.01, 5.0], 100)   # far from the border, next to it (both sides), far
    out = latent_class_changes(lambda zz: zz, _SignEvaluator(), z, sigma=0.1, repeats=4, seed=1)
    assert out["classes"].tolist() == [0] * 200 + [1] * 200
    far, near = np.r_[0:100, 300:400], np.r_[100:300]
    assert out["change"][far].max() == 0                          # 50 sigmas from the border: never
    assert 0.35 < out["change"][near].mean() < 0.65                # on the border: about every other nudge
    assert np.allclose(out["top2"], 1) and out["confidence"][far].min() > 0.99 and out["confidence"][near].max() < 0.6
    again = latent_class_changes(lambda zz: zz, _SignEvaluator(), z, sigma=0.1, repeats=4, seed=1)
    assert np.array_equal(again["change"], out["change"])          # seeded


@pytest.mark.parametrize("z, kwargs, match", [
    (np.zeros((4, 3), np.int64), {}, "float"),
    (np.zeros(4, np.float32), {}, "float array"),
    (np.zeros((0, 3), np.float32), {}, "non-empty"),
    (np.full((4, 3), np.nan, np.float32), {}, "NaN"),
    (np.zeros((4, 3), np.float32), {"sigma": 0}, "sigma"),
    (np.zeros((4, 3), np.float32), {"sigma": float("nan")}, "sigma"),
    (np.zeros((4, 3), np.float32), {"repeats": 0}, "repeats"),
    (np.zeros((4, 3), np.float32), {"repeats": 1.5}, "repeats"),
    (np.zeros((4, 3), np.float32), {"repeats": True}, "repeats"),
])
def test_latent_class_changes_refuses_bad_input_before_generating(z, kwargs, match):
    evaluator = _SignEvaluator()
    with pytest.raises(ValueError, match=match):
        latent_class_changes(lambda zz: zz, evaluator, z, **kwargs)
    assert evaluator.calls == 0
