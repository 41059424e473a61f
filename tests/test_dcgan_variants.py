"""scripts/dcgan_variants.py (how notebook 02's discriminator was chosen) runs end to end on a tiny budget."""

import importlib.util
import json
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("dcgan_variants", ROOT / "scripts" / "dcgan_variants.py")
dcgan_variants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dcgan_variants)

# A design tool run on TensorFlow; on JAX this smoke test is a minute of XLA compiles of code paths
# (GAN.fit, WeightAverage, the evaluator) that the rest of the JAX suite already covers.
pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the design script is run on TensorFlow")


@pytest.mark.parametrize("extra", [["--hidden", "16", "--dropout", "0.3", "--ema", "0.9", "--dsteps", "2", "--g-mlp", "8", "--g-mlp-layers", "2", "--latent", "12", "--ema-more", "0.95"]])
def test_variant_runs_and_reports_every_epoch(tmp_path, capsys, extra):  # every option on: one run covers them all
    results = dcgan_variants.main(["--name", "tiny", "--epochs", "2", "--decay", "1", "--n-train", "640",
                                   "--n-eval", "200", "--gf", "16", "--df", "8", "--save", str(tmp_path), *extra])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert lines == results and [r["n"] for r in results] == [200, 10_000]
    assert results[-1]["step"] == 2 * (640 // 64) // (2 if extra else 1)
    for r in results:
        assert 0 <= r["raw"]["cov"] <= 10 and 0 < r["raw"]["conf"] <= 1 and r["raw"]["fd"] > 0
        assert sum(r["raw"]["hist"]) == pytest.approx(1, abs=0.01)
    assert ("ema" in results[-1]) == ("ema_0.95" in results[-1]) == bool(extra)  # --ema, --ema-more
    assert (tmp_path / "tiny_G.keras").exists() and (tmp_path / "tiny_G_ema.keras").exists() == bool(extra)
    G = keras.models.load_model(tmp_path / "tiny_G.keras", compile=False)
    assert G.input_shape == (None, 12)  # --latent
    assert [layer.units for layer in G.layers if isinstance(layer, keras.layers.Dense)] == [8, 8, 7 * 7 * 16]  # --g-mlp twice, then the projection


_bspec = importlib.util.spec_from_file_location("dcgan_boundary", ROOT / "scripts" / "dcgan_boundary.py")
dcgan_boundary = importlib.util.module_from_spec(_bspec)
_bspec.loader.exec_module(dcgan_boundary)


def test_boundary_script_measures_both_generators_and_the_sampling_rows(capsys):
    """scripts/dcgan_boundary.py (docs/dcgan_design.md, 2026-12-05) on the committed generators, a small budget."""
    results = dcgan_boundary.main(["--n", "200", "--sigma", "0.1", "--repeats", "1"])
    assert set(results) == {("DCGAN (02)", 0.1), ("conditional GAN (03)", 0.1)}
    for out in results.values():
        assert out["change"].shape == (200,) and set(out["change"]) <= {0.0, 1.0}
    # 02's unconditional G crosses borders between digits far more often than 03's G, told the digit
    assert results["DCGAN (02)", 0.1]["change"].mean() > results["conditional GAN (03)", 0.1]["change"].mean()
    assert "real test digits" in capsys.readouterr().out
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Frechet distances on 200 samples: biased, and said so
        dcgan_boundary.main(["--n", "200", "--sampling"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0].strip() for line in lines] == [
        "z x 1.0", "z x 0.9", "z x 0.8", "z x 0.7", "z x 0.6", "D's top 90%", "D's top 70%", "D's top 50%"]
