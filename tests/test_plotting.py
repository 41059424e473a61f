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


def test_the_equilibrium_follows_the_games_targets():
    from gan_utils.games import BinaryCrossEntropyGame
    from gan_utils.wgan import WassersteinGame

    plain = BinaryCrossEntropyGame().equilibrium()
    assert plain["d"] == 0.5 and all(np.isclose(plain[k], np.log(2)) for k in ("d_loss_real", "d_loss_fake", "g_loss"))
    smoothed = BinaryCrossEntropyGame(real_target=0.9).equilibrium()  # D* = 0.9 p_data / (p_data + p_g) = 0.45
    assert np.isclose(smoothed["d"], 0.45)
    assert np.isclose(smoothed["d_loss_real"], -(0.9 * np.log(0.45) + 0.1 * np.log(0.55)))  # 0.778
    assert np.isclose(smoothed["d_loss_fake"], -np.log(0.55)) and np.isclose(smoothed["g_loss"], -np.log(0.45))
    assert np.isclose(BinaryCrossEntropyGame(real_target=(0.8, 1.0)).equilibrium()["d_loss_real"],
                      -(0.9 * np.log(0.45) + 0.1 * np.log(0.55)))  # soft labels: the target's mean
    flipped = BinaryCrossEntropyGame(flip_prob=0.1).equilibrium()  # targets 0.9 / 0.1 on average, D still 1/2
    assert flipped["d"] == 0.5 and np.isclose(flipped["d_loss_real"], np.log(2))
    assert np.isclose(BinaryCrossEntropyGame(generator_loss="minimax").equilibrium()["g_loss"], np.log(0.5))
    assert WassersteinGame().equilibrium() is None


def test_history_plot_draws_the_gans_equilibrium(tmp_path):
    from gan_utils.games import BinaryCrossEntropyGame

    class FakeGAN:  # what plot_history reads from a GAN
        game = BinaryCrossEntropyGame(real_target=0.9)
        history = {k: list(np.linspace(0, 1, 50)) for k in ("step", "d_loss_real", "d_loss_fake", "g_loss", "d_real", "d_fake")}

    fig = plotting.plot_history(FakeGAN(), save=tmp_path / "h.png")
    labels = [line.get_label() for ax in fig.axes for line in ax.get_lines()]
    assert "equilibrium D = 0.45" in labels and "D loss on real at equilibrium: 0.778" in labels
    assert not any("log 2" in label for label in labels)
