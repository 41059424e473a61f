"""How much the default training monitor costs per generator step, on tiny models.

    KERAS_BACKEND=tensorflow python scripts/monitor_overhead.py

Times the monitor's own work directly (its per-step check, and the every-100-steps check that hashes D's
weights and generates a fixed batch), then whole ``fit`` calls with and without it, interleaved.
On a shared machine the whole-fit comparison is noisy; the direct timings are the reliable numbers.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from gan_utils.monitor import Monitor  # noqa: E402
from gan_utils.training import GAN  # noqa: E402


def mlp():
    G = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(1)])
    D = keras.Sequential([keras.Input((1,)), layers.Dense(8, activation="relu"), layers.Dense(1, activation="sigmoid")])
    return G, D


def conv():
    G = keras.Sequential([keras.Input((4,)), layers.Dense(128), layers.BatchNormalization(), layers.LeakyReLU(0.2),
                          layers.Reshape((4, 4, 8)),
                          layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")])
    D = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(8, 3, strides=2, padding="same"),
                          layers.BatchNormalization(), layers.LeakyReLU(0.2), layers.Flatten(), layers.Dropout(0.3),
                          layers.Dense(1, activation="sigmoid")])
    return G, D


def per_call(fn, n):
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t) / n)
    return best


def main(steps=300, reps=5):
    keras.utils.set_random_seed(0)
    cases = {
        "1-D MLP": (mlp, lambda n, r: r.normal(4.0, 1.0, (n, 1)).astype("float32")),
        "8x8 conv (BatchNorm, Dropout)": (conv, lambda n, r: r.uniform(-1, 1, (n, 8, 8, 1)).astype("float32")),
    }
    for name, (build, data) in cases.items():
        gan = GAN(*build(), seed=0, monitor=False)
        gan.fit(data, steps=250, batch_size=32, verbose=0)  # traced and warm; a full window of history
        monitor = Monitor()
        assert gan.step % monitor.every and len(gan.history["step"]) >= monitor.window
        cheap = per_call(lambda: monitor.check(gan), 2000)  # NaN test and window averages only
        expensive = per_call(lambda: (monitor._check_d_moves(gan), monitor._check_diversity(gan),
                                        monitor._measure_mode_gap(gan)), 20)
        times = {"off": [], "on": []}
        for _ in range(reps):
            for mode in ("off", "on"):
                t = time.perf_counter()
                gan.fit(data, steps=steps, batch_size=32, verbose=0, monitor=mode == "on")
                times[mode].append((time.perf_counter() - t) / steps)
        off, on = np.median(times["off"]), np.median(times["on"])
        per_step = cheap + expensive / monitor.every
        print(f"{name}: step {off * 1e3:.2f} ms without the monitor; monitor work per step "
              f"{per_step * 1e6:.0f} us = {per_step / off:.1%} (check after every step {cheap * 1e6:.1f} us, "
              f"every {monitor.every} steps {expensive * 1e3:.2f} ms); whole fit with/without: {on / off - 1:+.1%} "
              f"(median of {reps}, noisy)")


if __name__ == "__main__":
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}")
    main()
