"""mode_coverage: VEEGAN's modes captured and share of high-quality samples on the 2-D ring."""

import numpy as np
import pytest

from gan_utils.data import ring_modes, sample_ring
from gan_utils.metrics import mode_coverage


def test_real_ring_samples_capture_every_mode():
    x = sample_ring(2500, np.random.default_rng(0))
    s = mode_coverage(x, ring_modes(), std=0.02)
    assert s["modes"] == 8
    assert s["high_quality"] > 0.98  # within 3 std: 98.9% of a 2-D Gaussian's mass
    assert s["per_mode"].shape == (8,) and s["per_mode"].sum() == pytest.approx(s["high_quality"])


def test_collapsed_and_off_target_samples():
    centres = ring_modes()
    one_mode = np.repeat(centres[:1], 100, axis=0)
    s = mode_coverage(one_mode, centres, std=0.02)
    assert s["modes"] == 1 and s["high_quality"] == 1.0
    origin = np.zeros((100, 2))  # far from every mode: no high-quality sample, no mode captured
    s = mode_coverage(origin, centres, std=0.02)
    assert s["modes"] == 0 and s["high_quality"] == 0.0


def test_one_high_quality_sample_captures_a_mode():
    centres = ring_modes()
    x = np.array([centres[3] + [0.05, 0.0], centres[5] + [0.07, 0.0], [0.0, 0.0]])
    s = mode_coverage(x, centres, std=0.02)  # 0.05 <= 3 std = 0.06 < 0.07
    assert s["modes"] == 1
    assert s["high_quality"] == pytest.approx(1 / 3)
    assert s["per_mode"][3] == pytest.approx(1 / 3)


def test_one_dimensional_mixture():
    s = mode_coverage(np.array([-3.0, -2.9, 3.1, 0.0]), np.array([-3.0, 3.0]), std=0.5)
    assert s["modes"] == 2 and s["per_mode"].tolist() == [0.5, 0.25]


def test_argument_checks():
    with pytest.raises(ValueError, match="std"):
        mode_coverage(np.zeros((3, 2)), ring_modes(), std=0.0)
    with pytest.raises(ValueError, match="finite"):
        mode_coverage(np.full((3, 2), np.nan), ring_modes(), std=0.02)
