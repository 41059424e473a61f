"""Train the MNIST evaluator reproducibly and write its weights to data/.

    python scripts/train_evaluator.py                  # ~4 minutes on a 2-core CPU
    python scripts/train_evaluator.py --reference-only # only rewrite the reference statistics (~20 s)

Writes data/mnist_evaluator.weights.h5 and data/mnist_evaluator.json (test accuracy, sha256,
versions), then data/mnist_evaluator_reference.npz (the test and train sets' feature statistics, which
every Frechet distance compares with; valid for these weights and data/mnist.npz only). The weights are
committed; retrain only to change the evaluator. Run on the CPU with the TensorFlow backend for
bit-identical weights.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from gan_utils.data import DATA_DIR, load_mnist, sha256_of  # noqa: E402
from gan_utils.metrics import (  # noqa: E402
    EVALUATOR_INFO,
    EVALUATOR_WEIGHTS,
    MnistEvaluator,
    build_evaluator,
    write_reference_stats,
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder for the weights (default data/)")
    parser.add_argument("--reference-only", action="store_true",
                        help="keep the weights; only recompute data/mnist_evaluator_reference.npz")
    args = parser.parse_args(argv)
    if args.reference_only:
        print(f"wrote {write_reference_stats(MnistEvaluator(args.out / EVALUATOR_WEIGHTS))}")
        return

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(split="both")  # [-1, 1]
    rng = np.random.default_rng(args.seed)
    model = build_evaluator()
    steps = args.epochs * (len(x_train) // 128)
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=steps)
    model.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        # light augmentation: random shifts of up to 2 pixels, so generated digits off-centre still read
        shifted = np.empty_like(x_train)
        dx, dy = rng.integers(-2, 3, size=(2, len(x_train)))
        for s in range(-2, 3):
            for t in range(-2, 3):
                sel = (dx == s) & (dy == t)
                shifted[sel] = np.roll(x_train[sel], (s, t), axis=(1, 2))
        model.fit(shifted[order], y_train[order], batch_size=128, epochs=1, shuffle=False, verbose=2)
        print(f"epoch {epoch + 1}: test accuracy {model.evaluate(x_test, y_test, verbose=0)[1]:.4f}")
    seconds = time.perf_counter() - start
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    train_acc = model.evaluate(x_train, y_train, verbose=0)[1]
    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / EVALUATOR_WEIGHTS
    tmp = weights.with_name("tmp_" + weights.name)
    model.save_weights(tmp)
    tmp.replace(weights)
    info = {
        "test_accuracy": round(float(acc), 4),
        "train_accuracy": round(float(train_acc), 4),
        "test_loss": round(float(loss), 4),
        "epochs": args.epochs,
        "seed": args.seed,
        "train_seconds": round(seconds, 1),
        "weights_sha256": sha256_of(weights),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    (args.out / EVALUATOR_INFO).write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))
    print(f"wrote {write_reference_stats(MnistEvaluator(weights))}")
    if acc < 0.99:
        sys.exit(f"test accuracy {acc:.4f} is below the required 0.99")


if __name__ == "__main__":
    main()
