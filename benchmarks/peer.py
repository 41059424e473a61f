"""Part 4, the peer: the TensorFlow DCGAN tutorial's models, trained its way, to the same thresholds.

Rebuilt from the tutorial's published architecture (tensorflow.org/tutorials/generative/dcgan):

* G: Dense(7*7*256, no bias) - BN - LeakyReLU - reshape (7, 7, 256) - Conv2DTranspose(128, 5, s1) - BN -
  LeakyReLU - Conv2DTranspose(64, 5, s2) - BN - LeakyReLU - Conv2DTranspose(1, 5, s2, tanh); z ~ N(0, I_100).
* D: Conv2D(64, 5, s2) - LeakyReLU - Dropout(0.3) - Conv2D(128, 5, s2) - LeakyReLU - Dropout(0.3) -
  Flatten - Dense(1) (a logit).
* Its training step: both losses from one forward pass (G and D in training mode), binary
  cross-entropy from logits, D's loss on real + fake, G's non-saturating loss, Adam(1e-4) for each,
  batch 256, 50 epochs of the 60,000 training images. (The tutorial keeps the last incomplete batch;
  here it is dropped, so the compiled step never retraces.)

The budget is ``factor`` times our DCGAN's training time to the reference threshold (part 2): if the
peer has not passed a threshold when the budget is spent, its ratio is reported as "> factor x",
an honest lower bound.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from benchmarks.fused import compiled_step, jax_state, state_owners, write_state
from benchmarks.quality import QualityClock, dcgan_thresholds, fixed_eval_set, image_scorer, summarise
from gan_utils.batches import predict_in_batches

NOISE_DIM, BATCH_SIZE, LEARNING_RATE, EPOCHS = 100, 256, 1e-4, 50


def make_generator_model():
    return keras.Sequential(
        [
            keras.Input((NOISE_DIM,)),
            layers.Dense(7 * 7 * 256, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Reshape((7, 7, 256)),
            layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False, activation="tanh"),
        ],
        name="tutorial_generator",
    )


def make_discriminator_model():
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(64, (5, 5), strides=(2, 2), padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Conv2D(128, (5, 5), strides=(2, 2), padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(1),
        ],
        name="tutorial_discriminator",
    )


class TutorialTrainer:
    """The tutorial's ``train_step`` as one compiled function (TensorFlow or JAX)."""

    def __init__(self, seed=0):
        keras.utils.set_random_seed(seed)
        self.generator, self.discriminator = make_generator_model(), make_discriminator_model()
        self.g_optimizer, self.d_optimizer = keras.optimizers.Adam(LEARNING_RATE), keras.optimizers.Adam(LEARNING_RATE)
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        models = (self.generator, self.discriminator, self.g_optimizer, self.d_optimizer)
        self._step = compiled_step(self, *models, "tutorial step")

    def _losses(self, real_output, fake_output):
        ones_like, zeros_like = keras.ops.ones_like, keras.ops.zeros_like
        gen_loss = self.bce(ones_like(fake_output), fake_output)
        disc_loss = self.bce(ones_like(real_output), real_output) + self.bce(zeros_like(fake_output), fake_output)
        return gen_loss, disc_loss

    def _tensorflow_step(self):
        import tensorflow as tf

        G, D = self.generator, self.discriminator

        @tf.function
        def train_step(images):
            noise = tf.random.normal([BATCH_SIZE, NOISE_DIM])
            with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
                generated_images = G(noise, training=True)
                real_output = D(images, training=True)
                fake_output = D(generated_images, training=True)
                gen_loss, disc_loss = self._losses(real_output, fake_output)
            g_vars, d_vars = G.trainable_variables, D.trainable_variables
            self.g_optimizer.apply(gen_tape.gradient(gen_loss, g_vars), g_vars)
            self.d_optimizer.apply(disc_tape.gradient(disc_loss, d_vars), d_vars)
            return gen_loss, disc_loss

        return train_step

    def _jax_step(self):
        import jax

        G, D = self.generator, self.discriminator

        def forward(g_tv, d_tv, g_ntv, d_ntv, images, noise):
            generated, g_ntv = G.stateless_call(g_tv, g_ntv, noise, training=True)
            real_output, d_ntv = D.stateless_call(d_tv, d_ntv, images, training=True)
            fake_output, d_ntv = D.stateless_call(d_tv, d_ntv, generated, training=True)
            return self._losses(real_output, fake_output), (g_ntv, d_ntv)

        @jax.jit
        def train_step(state, images):
            g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, key = state
            key, sub = jax.random.split(key)
            noise = jax.random.normal(sub, (BATCH_SIZE, NOISE_DIM))
            losses, vjp, (g_ntv, d_ntv) = jax.vjp(
                lambda g, d: forward(g, d, g_ntv, d_ntv, images, noise), g_tv, d_tv, has_aux=True
            )
            g_grads = vjp((1.0, 0.0))[0]  # d gen_loss / d G
            d_grads = vjp((0.0, 1.0))[1]  # d disc_loss / d D
            g_tv, g_ov = self.g_optimizer.stateless_apply(g_ov, g_grads, g_tv)
            d_tv, d_ov = self.d_optimizer.stateless_apply(d_ov, d_grads, d_tv)
            return (g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, key), losses

        self._state = jax_state(self._owners(), self.seed)

        def run(images):
            self._state, losses = train_step(self._state, images)
            return losses

        return run

    def _owners(self):
        return state_owners(self.generator, self.discriminator, self.g_optimizer, self.d_optimizer)

    def sync_to_models(self):
        """JAX: write the state back into the Keras variables (needed before generating)."""
        if keras.backend.backend() == "jax":
            write_state(self._owners(), self._state)

    def generate(self, z, batch_size=1000):
        self.sync_to_models()
        return predict_in_batches(self.generator, z, batch_size=batch_size)

    def train(self, images, clock, epochs=EPOCHS):
        """Train until ``clock.tick`` says stop or ``epochs`` are done; returns the steps taken."""
        step = 0
        for _ in range(epochs):
            order = self.rng.permutation(len(images))
            for i in range(0, len(images) - BATCH_SIZE + 1, BATCH_SIZE):
                self._step(images[order[i : i + BATCH_SIZE]])
                step += 1
                if clock.tick(step):
                    return step
        clock.tick(step, final=True)
        return step


def reference_threshold(ours, fd_levels):
    """The threshold whose time sets the budget: coverage+confidence if our DCGAN passed it, else
    the lowest Frechet level it reached; (name, seconds) or (None, None)."""
    reached = {k: v for k, v in ours["thresholds"].items() if v}
    if not reached:
        return None, None
    first = next(iter(dcgan_thresholds(fd_levels)))
    if first in reached:
        return first, reached[first]["train_seconds"]
    name = list(reached)[-1]
    return name, reached[name]["train_seconds"]


def run(ours, factor=5.0, max_minutes=60.0, every=200, n_eval=10_000, fd_levels=None, log=print):
    """Part 4: the tutorial's models to our thresholds within ``factor`` x our time (or max_minutes)."""
    from benchmarks.quality import FD_LEVELS
    from gan_utils.data import load_mnist
    from gan_utils.metrics import MnistEvaluator

    fd_levels = FD_LEVELS if fd_levels is None else fd_levels
    ref_name, ref_seconds = reference_threshold(ours, fd_levels) if ours else (None, None)
    budget_s = min(60 * max_minutes, factor * ref_seconds) if ref_seconds else 60 * max_minutes
    log(f"peer: TF DCGAN tutorial, budget {budget_s / 60:.1f} min of training (reference: {ref_name}) ...")
    images, _ = load_mnist(split="train", scale="tanh")
    trainer = TutorialTrainer()
    z, _ = fixed_eval_set(NOISE_DIM, n_eval, conditional=False)
    evaluator = MnistEvaluator()
    evaluator.reference_stats()
    tests = dcgan_thresholds(fd_levels)
    clock = QualityClock(image_scorer(evaluator, lambda: trainer.generate(z), z), every, budget_s, log=log)
    trainer.train(images, clock)
    result = summarise(clock.records, tests, budget_s)
    result.update(reference_threshold=ref_name, reference_seconds=ref_seconds, factor=factor, batch_size=BATCH_SIZE)
    result["ratios"] = ratios(ours, result)
    return result


def ratios(ours, peer):
    """Peer time / our time per threshold we reached; "> r x" (a lower bound) where the peer did not."""
    out = {}
    for name, mine in (ours or {}).get("thresholds", {}).items():
        if not mine:
            continue
        theirs = peer["thresholds"].get(name)
        if theirs:
            out[name] = f"{theirs['train_seconds'] / mine['train_seconds']:.1f}x"
        else:
            out[name] = f"> {peer['trained_seconds'] / mine['train_seconds']:.1f}x"
    return out
