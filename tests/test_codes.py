"""gan_utils.codes: what InfoGAN's codes learned (matching codes to classes; ink and slant)."""

import numpy as np
import pytest

from gan_utils.codes import ink_mass, matched_accuracy, slant_degrees


def test_matched_accuracy_finds_the_best_one_to_one_matching():
    classes = np.repeat(np.arange(10), 20)
    codes = (classes + 3) % 10  # every code names one digit, under other names
    result = matched_accuracy(codes, classes)
    assert result["accuracy"] == 1.0 and list(result["mapping"]) == [(k - 3) % 10 for k in range(10)]
    codes[:20] = 4  # the 20 zeros now share code 4 with the ones: one of the two digits loses
    result = matched_accuracy(codes, classes)
    assert result["accuracy"] == pytest.approx(180 / 200) and result["confusion"].sum() == 200
    assert np.isnan(result["per_code"][3])  # code 3 (the zeros' code) no longer occurs
    random = matched_accuracy(np.random.default_rng(0).integers(0, 10, 5000), np.random.default_rng(1).integers(0, 10, 5000))
    assert 0.1 <= random["accuracy"] < 0.13  # chance, inflated a little by the matching
    with pytest.raises(ValueError, match=r"codes must lie in 0..9"):
        matched_accuracy(np.array([0, 10]), np.array([0, 1]))
    with pytest.raises(TypeError, match="integers"):
        matched_accuracy(np.array([0.0, 1.0]), np.array([0, 1]))
    with pytest.raises(ValueError, match="one length"):
        matched_accuracy(np.array([0, 1]), np.array([0]))


def test_slant_and_ink_of_drawn_strokes():
    images = -np.ones((3, 28, 28, 1), np.float32)
    for r in range(4, 24):
        images[0, r, 14] = 1.0                      # upright
        images[1, r, 14 + (14 - r) // 2] = 1.0      # top leaning right by half a column per row
        images[2, r, 14 - (14 - r) // 2] = 1.0      # top leaning left
    slant = slant_degrees(images)
    assert slant[0] == pytest.approx(0.0, abs=1e-9)
    assert slant[1] == pytest.approx(np.degrees(np.arctan(0.5)), abs=1.5) and slant[2] == pytest.approx(-slant[1])
    thick = images.copy()
    thick[:, :, 15] = np.maximum(thick[:, :, 15], thick[:, :, 14])
    assert np.all(ink_mass(thick) > ink_mass(images)) and ink_mass(images)[0] == pytest.approx(20.0)
    with pytest.raises(ValueError, match="without ink"):
        slant_degrees(-np.ones((1, 28, 28)))
