"""mode_coverage (VEEGAN's modes captured and share of high-quality samples) and energy_distance, on the 2-D ring."""

import numpy as np
import pytest

from gan_utils.data import ring_modes, sample_ring
from scipy import stats

from gan_utils.metrics import energy_distance, mode_coverage


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


def uniform_box(n, rng, std):
    # uniform noise over the ring's box: the reference a mode count must not be fooled by
    half = 2.0 + 3 * std
    return rng.uniform(-half, half, size=(n, 2))


def test_min_share_stops_uniform_noise_capturing_modes():
    rng = np.random.default_rng(0)
    noise = uniform_box(2500, rng, std=0.05)
    assert mode_coverage(noise, ring_modes(), std=0.05)["modes"] == 8  # VEEGAN's count is fooled
    s = mode_coverage(noise, ring_modes(), std=0.05, min_share=0.01)
    assert s["modes"] == 0 and s["high_quality"] < 0.05
    real = sample_ring(2500, rng, std=0.05)
    assert mode_coverage(real, ring_modes(), std=0.05, min_share=0.01)["modes"] == 8
    # a mode holding exactly min_share counts; one sample fewer does not
    x = np.concatenate([np.repeat(ring_modes()[:1], 10, axis=0), np.zeros((990, 2))])
    assert mode_coverage(x, ring_modes(), std=0.05, min_share=0.01)["modes"] == 1
    assert mode_coverage(x[1:], ring_modes(), std=0.05, min_share=0.01)["modes"] == 0


def test_energy_distance_separates_the_references():
    rng = np.random.default_rng(1)
    std = 0.05
    target, real = sample_ring(2000, rng, std=std), sample_ring(2000, rng, std=std)
    one_mode = ring_modes()[0] + rng.normal(0.0, std, size=(2000, 2))
    floor = energy_distance(real, target)
    assert 0 <= floor < 0.01
    assert energy_distance(one_mode, target) > 1.0
    assert energy_distance(uniform_box(2000, rng, std), target) > 0.05  # about 0.09
    assert energy_distance(target, target) == pytest.approx(0.0, abs=1e-12)
    assert energy_distance(real, target) == pytest.approx(energy_distance(target, real))


def test_energy_distance_is_the_square_of_scipys_in_one_dimension():
    rng = np.random.default_rng(2)
    x, y = rng.normal(0, 1, 500), rng.normal(0.5, 2, 300)
    assert energy_distance(x, y) == pytest.approx(stats.energy_distance(x, y) ** 2, rel=1e-9)
    assert energy_distance(x[:, None], y[:, None]) == pytest.approx(energy_distance(x, y))


def test_argument_checks():
    with pytest.raises(ValueError, match="min_share"):
        mode_coverage(np.zeros((3, 2)), ring_modes(), std=0.02, min_share=1.0)
    with pytest.raises(ValueError, match="finite"):
        energy_distance(np.full((3, 2), np.nan), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="dimension"):
        energy_distance(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="std"):
        mode_coverage(np.zeros((3, 2)), ring_modes(), std=0.0)
    with pytest.raises(ValueError, match="finite"):
        mode_coverage(np.full((3, 2), np.nan), ring_modes(), std=0.02)
