import numpy as np
from PIL import Image

from gan_utils import plotting


def test_figures_are_byte_identical(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.uniform(-1, 1, (20, 28, 28, 1)).astype(np.float32)
    a = plotting.save_figure(plotting.plot_samples(imgs, ncols=10, row_labels=[0, 1]), tmp_path / "a.png")
    b = plotting.save_figure(plotting.plot_samples(imgs, ncols=10, row_labels=[0, 1]), tmp_path / "b.png")
    assert a.read_bytes() == b.read_bytes()


def test_history_plot_and_gif(tmp_path):
    hist = {k: list(np.linspace(0, 1, 50)) for k in ("step", "d_loss_real", "d_loss_fake", "g_loss", "d_real", "d_fake")}
    plotting.plot_history(hist, save=tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 1000
    frames = [plotting.grid_frame(np.full((4, 8, 8), v, np.float32), ncols=2, caption=f"step {i}")
              for i, v in enumerate((-1.0, 0.0, 1.0))]
    path = plotting.save_gif(frames, tmp_path / "t.gif", fps=4, hold_last=2)
    with Image.open(path) as gif:
        assert gif.n_frames >= 3


def test_image_grid_layout():
    g = plotting.image_grid(np.zeros((12, 4, 4)), ncols=5, pad=1)
    assert g.shape == (3 * 5 - 1, 5 * 5 - 1)
