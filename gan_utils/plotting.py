"""Figures for the notebooks: sample grids, training curves, 1-D densities, GIFs.

Every function returns a matplotlib Figure (shown inline by Jupyter) and, given ``save=``,
writes it as a PNG under ``figures/`` (see ``figures_dir``) without timestamps, so the same run
gives byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .files import atomic_write
from .environment import figures_root

_PNG_METADATA = {"Software": None}  # no version string: same bytes across matplotlib patch releases


def figures_dir(name) -> Path:
    """``figures/<name>/`` in the repository (or under ``$GAN_FIGURES_DIR``), created if needed.

    In quick mode (``GAN_QUICK`` or ``CI`` set) figures go to ``figures/quick/<name>/`` instead (git-ignored),
    so quick checks never overwrite the stored full-mode figures.
    """
    folder = figures_root() / str(name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_figure(fig, path):
    """Write ``fig`` as a PNG at ``path`` (atomically: a temporary file, then a rename)."""
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight",
                                                      metadata=_PNG_METADATA))


def _finish(fig, save):
    fig.tight_layout()
    if save is not None:
        save_figure(fig, save)
    return fig


def image_grid(images, ncols=10, pad=1, value=-1.0) -> np.ndarray:
    """Tile images (N, H, W[, 1]) in [-1, 1] into one (rows*(H+pad)-pad, cols*(W+pad)-pad) array."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, 1), got {np.shape(images)}")
    n, h, w = x.shape
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    grid = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), value, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        grid[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = x[i]
    return grid


def plot_samples(images, ncols=10, row_labels=None, title=None, save=None, scale=0.6):
    """A grid of images in [-1, 1]; ``row_labels`` names each row (e.g. the requested digit)."""
    grid = image_grid(images, ncols)
    n = len(images)
    nrows = -(-n // min(ncols, n))
    fig, ax = plt.subplots(figsize=(scale * min(ncols, n) + (0.6 if row_labels is not None else 0), scale * nrows))
    ax.imshow(grid, cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    if row_labels is not None:
        if len(row_labels) != nrows:
            raise ValueError(f"row_labels needs {nrows} entries, got {len(row_labels)}")
        h = (grid.shape[0] + 1) / nrows
        ax.set_yticks([h * (i + 0.5) for i in range(nrows)], [str(r) for r in row_labels])
        ax.tick_params(length=0)
    else:
        ax.set_yticks([])
    if title:
        ax.set_title(title)
    return _finish(fig, save)


def moving_average(values, window):
    """Trailing mean over ``window`` points (shorter at the start), same length as ``values``."""
    v = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(v) == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_history(history, window=None, title=None, save=None):
    """Losses and mean D outputs per generator step, with the game's equilibrium marked.

    ``history`` is a ``GAN`` (the equilibrium then follows its game's targets: D = 0.45, not 1/2, with one-sided
    label smoothing at 0.9) or its ``GAN.history`` dict (the plain game's targets 1 and 0 are assumed). Curves are
    smoothed by a trailing mean over ``window`` steps (default: 1% of the run), the raw values drawn faintly behind.
    """
    if hasattr(history, "history") and hasattr(history, "game"):
        equilibrium, history = history.game.equilibrium(), history.history
    else:
        from .games import BinaryCrossEntropyGame

        equilibrium = BinaryCrossEntropyGame().equilibrium()
    h = {k: np.asarray(v) for k, v in history.items()}
    if len(h.get("step", [])) == 0:
        raise ValueError("history is empty: train first")
    window = window or max(1, len(h["step"]) // 100)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
    losses = (("d_loss_real", "D loss on real", "tab:blue"), ("d_loss_fake", "D loss on fake", "tab:orange"),
              ("g_loss", "G loss", "tab:green"))
    for key, label, color in losses:
        ax1.plot(h["step"], h[key], color=color, alpha=0.15, lw=0.8)
        ax1.plot(h["step"], moving_average(h[key], window), color=color, label=label)
    if equilibrium is not None:
        if len({round(equilibrium[key], 3) for key, _, _ in losses}) == 1:  # targets 1 and 0: all three are log 2
            ax1.axhline(equilibrium["g_loss"], color="gray", ls="--", lw=1,
                        label=f"equilibrium {equilibrium['g_loss']:.3f} (log 2)")
        else:
            for key, label, color in losses:
                ax1.axhline(equilibrium[key], color=color, ls="--", lw=1,
                            label=f"{label} at equilibrium: {equilibrium[key]:.3f}")
    ax1.set_xlabel("generator step")
    ax1.set_ylabel("loss")
    ax1.legend(fontsize=7)
    for key, label, color in (("d_real", "mean D(x)", "tab:blue"), ("d_fake", "mean D(G(z))", "tab:orange")):
        ax2.plot(h["step"], h[key], color=color, alpha=0.15, lw=0.8)
        ax2.plot(h["step"], moving_average(h[key], window), color=color, label=label)
    if equilibrium is not None:
        ax2.axhline(equilibrium["d"], color="gray", ls="--", lw=1, label=f"equilibrium D = {equilibrium['d']:.3g}")
        ax2.set_ylim(0, 1)
    ax2.set_xlabel("generator step")
    ax2.set_ylabel("discriminator output")
    ax2.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _finish(fig, save)


def plot_density_1d(xs, p_data, fake, d_values, d_star=None, title=None, ax=None, save=None, ylim=None):
    """Real density, generated histogram, D(x) and (optionally) the optimal D*(x) on one axis.

    Args:
        xs: grid (M,); p_data: the real density on the grid (M,); fake: generated samples;
        d_values: D(x) on the grid (M,); d_star: D*(x) = p_data / (p_data + p_g) on the grid.
    """
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(7, 3.6))
    else:
        fig = ax.figure
    ax.plot(xs, p_data, color="tab:blue", lw=2, label="real density $p_{data}$")
    ax.hist(np.ravel(fake), bins=80, range=(xs[0], xs[-1]), density=True, color="tab:orange", alpha=0.45,
            label="generated $p_g$")
    ax2 = ax.twinx()
    ax2.plot(xs, d_values, color="tab:green", lw=2, label="D(x)")
    if d_star is not None:
        ax2.plot(xs, d_star, color="black", ls="--", lw=1.2, label="D*(x)")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("D(x)")
    ax.set_xlim(xs[0], xs[-1])
    if ylim:
        ax.set_ylim(*ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="upper left")
    if title:
        ax.set_title(title)
    return _finish(fig, save) if own else fig


def figure_to_array(fig, dpi=80) -> np.ndarray:
    """Render a figure to an RGB uint8 array (H, W, 3), e.g. as a GIF frame; closes the figure."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    frame = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return frame


def grid_frame(images, ncols=10, upscale=3, caption=None) -> np.ndarray:
    """A GIF frame from images in [-1, 1]: the grid as uint8 RGB, each pixel ``upscale`` x ``upscale``."""
    grid = image_grid(images, ncols)
    g = np.clip((grid + 1.0) * 127.5, 0, 255).astype(np.uint8)
    g = np.kron(g, np.ones((upscale, upscale), dtype=np.uint8))
    frame = np.stack([g] * 3, axis=-1)
    if caption:
        from PIL import Image, ImageDraw

        band = np.zeros((14, frame.shape[1], 3), dtype=np.uint8)
        img = Image.fromarray(np.concatenate([band, frame]))
        ImageDraw.Draw(img).text((2, 1), caption, fill=(255, 255, 255))
        frame = np.asarray(img)
    return frame


def save_gif(frames, path, fps=5, hold_last=5):
    """Write RGB uint8 frames (H, W, 3) as a looping GIF (the last frame held ``hold_last`` times)."""
    import imageio.v2 as imageio

    frames = [np.asarray(f) for f in frames]
    if not frames:
        raise ValueError("save_gif needs at least one frame")
    shape = frames[0].shape
    if any(f.shape != shape for f in frames):
        raise ValueError("all frames must have the same shape")
    frames = frames + [frames[-1]] * int(hold_last)
    return atomic_write(path, lambda tmp: imageio.mimsave(tmp, frames, format="GIF", duration=1000.0 / fps, loop=0))
