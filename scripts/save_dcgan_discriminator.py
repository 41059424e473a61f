"""Save notebook 02's trained discriminator as data/pretrained/dcgan_discriminator.keras (read by notebook 07).

    python scripts/save_dcgan_discriminator.py        # ~11 min on 2 CPU cores (notebook 02's full training)

Notebook 02 keeps only its generator. This script runs notebook 02's own code cells, in full mode, up to and
including training (same seed, same code), saves D, and proves it is the D of the stored run: the generator
this run ends with (the average of G's weights, as 02 keeps it) must draw the same images as
data/pretrained/dcgan_generator.keras (training on CPU is deterministic for a fixed seed). Writes nothing if
they differ. Figures go to a temporary folder; notebook 02 and its figures are not touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "02_dcgan_mnist.ipynb"
TARGET = ROOT / "data" / "pretrained" / "dcgan_discriminator.keras"


def main():
    if os.environ.get("GAN_QUICK") or os.environ.get("CI"):
        sys.exit("run in full mode: unset GAN_QUICK and CI (the stored 02 run is a full-mode run)")
    os.environ["GAN_TRAIN"] = "1"
    os.environ["GAN_FIGURES_DIR"] = tempfile.mkdtemp(prefix="dcgan-d-")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import nbformat
    import numpy as np

    nb = nbformat.read(NOTEBOOK, as_version=4)
    namespace = {"__name__": "__main__"}
    os.chdir(ROOT / "notebooks")
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        exec(compile(cell.source, f"02:{cell.get('id', '?')}", "exec"), namespace)
        if "gan.fit(" in cell.source:  # the training cell: D is trained, G holds its averaged weights
            break
    import keras

    from gan_utils.files import atomic_write
    from gan_utils.model_io import load_generator, save_portable

    generator, discriminator, fixed_z = namespace["generator"], namespace["discriminator"], namespace["fixed_z"]
    stored = load_generator(ROOT / "data" / "pretrained" / "dcgan_generator.keras")
    diff = float(np.max(np.abs(np.asarray(stored.predict_on_batch(fixed_z)) - np.asarray(generator.predict_on_batch(fixed_z)))))
    print(f"this run's G vs data/pretrained/dcgan_generator.keras: max pixel difference {diff:.3g}")
    if not diff <= 1e-4:
        sys.exit("this run is not the stored run of notebook 02 (its generator draws other images): nothing written")
    atomic_write(TARGET, lambda tmp: save_portable(discriminator, tmp))
    reloaded = keras.saving.load_model(TARGET, safe_mode=True)
    probe = np.asarray(stored.predict_on_batch(fixed_z))
    check = float(np.max(np.abs(np.asarray(reloaded.predict_on_batch(probe)) - np.asarray(discriminator.predict_on_batch(probe)))))
    assert check <= 1e-5, f"the saved D reloads with other outputs ({check:.3g})"
    print(f"saved {TARGET.relative_to(ROOT)} ({TARGET.stat().st_size / 1e6:.2f} MB); reloaded with safe_mode=True: same outputs")


if __name__ == "__main__":
    main()
