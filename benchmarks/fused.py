"""The fused reference: one compiled function per iteration doing the trainer's D and G updates.

``FusedTrainer(gan)`` takes a ``gan_utils.training.GAN`` (for its models, optimizers and options)
and trains it without ``train_on_batch``: per iteration the host draws exactly what ``GAN.fit``
draws, from the same kind of NumPy generator in the same order (the real batch, z and labels for
the fakes, instance noise, z and labels for G), and one compiled function then does

1. fake = G(z) in inference mode (as ``predict_on_batch``), instance noise added to both batches;
2. a D update on the real batch, then a D update on the fake batch (two optimizer steps, as the
   trainer's two ``D.train_on_batch`` calls), binary cross-entropy on D's probabilities;
3. a G update through D(G(z)) with D frozen (the combined model's step), with the GAN's generator
   loss and instance noise.

It returns (d_loss_real, d_loss_fake, g_loss, mean D(x), mean D(G(z))), which the host converts
to floats every iteration, as the trainer records its history. Backends: TensorFlow
(``tf.function`` + ``GradientTape``) and JAX (``jax.jit`` over ``stateless_call``); torch is not
implemented. ``tests/test_bench.py`` checks that one fused iteration gives the trainer's weights.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from gan_utils.games import BinaryCrossEntropyGame
from gan_utils.training import minimax_generator_loss, sample_z


def _pair(x, y):
    """A model input: x alone, or [x, label] for a conditional GAN."""
    return x if y is None else [x, y]


def _check_supported(gan):
    if gan.d_steps != 1:
        raise NotImplementedError("the fused reference does one D step per G step (d_steps=1)")
    if not isinstance(gan.game, BinaryCrossEntropyGame):
        raise NotImplementedError("the fused reference plays the binary cross-entropy game")
    if gan.game.random_targets:
        raise NotImplementedError("the fused reference uses constant targets (no flipped or ranged labels)")
    if gan.instance_noise and gan.noise_decay_steps is None:
        raise ValueError("with instance noise, give the GAN noise_decay_steps (the fused loop has no first fit)")


def compiled_step(owner, G, D, g_optimizer, d_optimizer, what):
    """Build both optimizers, then ``owner``'s compiled step for the current backend."""
    g_optimizer.build(G.trainable_variables)
    d_optimizer.build(D.trainable_variables)
    backend = keras.backend.backend()
    builders = {"tensorflow": owner._tensorflow_step, "jax": owner._jax_step}
    if backend not in builders:
        raise NotImplementedError(f"no {what} for the {backend} backend")
    return builders[backend]()


def state_owners(G, D, g_optimizer, d_optimizer):
    """The variable lists a JAX step carries as its state, in the order of ``jax_state``."""
    return (
        G.trainable_variables,
        G.non_trainable_variables,
        D.trainable_variables,
        D.non_trainable_variables,
        g_optimizer.variables,
        d_optimizer.variables,
    )


def jax_state(owners, seed):
    """(g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, key): the variables' current values and a PRNG key."""
    import jax

    return tuple([v.value for v in variables] for variables in owners) + (jax.random.PRNGKey(seed),)


def write_state(owners, state):
    """Assign a JAX step's state back to the Keras variables."""
    for variables, values in zip(owners, state):
        for variable, value in zip(variables, values):
            variable.assign(value)


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


class FusedTrainer:
    """Train ``gan``'s models with one compiled step per iteration (see the module docstring)."""

    def __init__(self, gan):
        _check_supported(gan)
        self.gan = gan
        self.rng = np.random.default_rng(gan.seed)
        self.step = 0
        self.history = []
        bce = keras.losses.BinaryCrossentropy()
        self.d_loss = bce
        if gan.game.generator_loss == "minimax":
            self.g_loss = lambda t, p: ops.mean(minimax_generator_loss(t, p))
        else:
            self.g_loss = bce
        self._step = compiled_step(self, *self._owners_of(gan), "fused reference step")

    # ------------------------------------------------------------------ TensorFlow
    def _tensorflow_step(self):
        import tensorflow as tf

        gan, G, D = self.gan, self.gan.generator, self.gan.discriminator

        def d_update(x, targets):
            with tf.GradientTape() as tape:
                p = D(x, training=True)
                loss = self.d_loss(targets, p)
            variables = D.trainable_variables
            gan.d_optimizer.apply(tape.gradient(loss, variables), variables)
            return loss, tf.reduce_mean(p)

        def g_update(z_in, y_gen, targets, sigma):
            D.trainable = False  # read while tracing: D frozen, as in the combined model
            try:
                with tf.GradientTape() as tape:
                    fake = G(z_in, training=True)
                    if gan.instance_noise:
                        fake = fake + sigma * tf.random.normal(tf.shape(fake))
                    p = D(_pair(fake, y_gen), training=True)
                    loss = self.g_loss(targets, p)
            finally:
                D.trainable = True
            variables = G.trainable_variables
            gan.g_optimizer.apply(tape.gradient(loss, variables), variables)
            return loss, tf.reduce_mean(p)

        @tf.function
        def step(real, y_real, z_d, y_fake, noise_r, noise_f, z_g, y_gen, real_t, fake_t, ones, sigma):
            fake = G(_pair(z_d, y_fake), training=False)
            if noise_r is not None:
                real, fake = real + noise_r, fake + noise_f
            loss_r, mean_r = d_update(_pair(real, y_real), real_t)
            loss_f, mean_f = d_update(_pair(fake, y_fake), fake_t)
            loss_g, _ = g_update(_pair(z_g, y_gen), y_gen, ones, sigma)
            return tf.stack([loss_r, loss_f, loss_g, mean_r, mean_f])

        return lambda *args: step(*args).numpy()

    # ------------------------------------------------------------------ JAX
    def _jax_step(self):
        import jax

        gan, G, D = self.gan, self.gan.generator, self.gan.discriminator
        if any(isinstance(layer, layers.BatchNormalization) for layer in _all_layers(D)):
            raise NotImplementedError("the fused JAX reference assumes a discriminator without BatchNorm")

        def d_loss(d_tv, d_ntv, x, targets):
            p, d_ntv = D.stateless_call(d_tv, d_ntv, x, training=True)
            return self.d_loss(targets, p), (d_ntv, ops.mean(p))

        def g_loss(g_tv, g_ntv, d_tv, d_ntv, z_in, y_gen, targets, sigma, key):
            fake, g_ntv = G.stateless_call(g_tv, g_ntv, z_in, training=True)
            if gan.instance_noise:
                fake = fake + sigma * jax.random.normal(key, fake.shape)
            p, d_ntv = D.stateless_call(d_tv, d_ntv, _pair(fake, y_gen), training=True)
            return self.g_loss(targets, p), (g_ntv, d_ntv, ops.mean(p))

        d_grad = jax.value_and_grad(d_loss, has_aux=True)
        g_grad = jax.value_and_grad(g_loss, has_aux=True)

        def d_update(state, x, targets):
            g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, key = state
            (loss, (d_ntv, mean)), grads = d_grad(d_tv, d_ntv, x, targets)
            d_tv, d_ov = gan.d_optimizer.stateless_apply(d_ov, grads, d_tv)
            return (g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, key), loss, mean

        @jax.jit
        def step(state, real, y_real, z_d, y_fake, noise_r, noise_f, z_g, y_gen, real_t, fake_t, ones, sigma):
            g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, key = state
            fake, _ = G.stateless_call(g_tv, g_ntv, _pair(z_d, y_fake), training=False)
            if noise_r is not None:
                real, fake = real + noise_r, fake + noise_f
            state, loss_r, mean_r = d_update(state, _pair(real, y_real), real_t)
            state, loss_f, mean_f = d_update(state, _pair(fake, y_fake), fake_t)
            g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, key = state
            key, sub = jax.random.split(key)
            (loss_g, (g_ntv, d_ntv, _)), grads = g_grad(g_tv, g_ntv, d_tv, d_ntv, _pair(z_g, y_gen), y_gen, ones, sigma, sub)
            g_tv, g_ov = gan.g_optimizer.stateless_apply(g_ov, grads, g_tv)
            state = (g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, key)
            return state, ops.stack([loss_r, loss_f, loss_g, mean_r, mean_f])

        self._state = jax_state(self._owners(), gan.seed)

        def run(*args):
            self._state, out = step(self._state, *args)
            return np.asarray(out)

        return run

    @staticmethod
    def _owners_of(gan):
        return gan.generator, gan.discriminator, gan.g_optimizer, gan.d_optimizer

    def _owners(self):
        return state_owners(*self._owners_of(self.gan))

    def sync_to_models(self):
        """Write the JAX state back into the Keras variables (TensorFlow updates them in place)."""
        if keras.backend.backend() == "jax":
            write_state(self._owners(), self._state)

    # ------------------------------------------------------------------ the host loop
    def fit(self, data, labels=None, *, batch_size, steps):
        """``steps`` iterations drawing what ``GAN.fit`` draws (array data or a sampler function)."""
        gan, n = self.gan, batch_size
        draws = HostDraws(gan, data, labels, n, self.rng)
        real_t, fake_t = gan.game.d_targets(n, None)  # constant targets draw nothing
        ones = gan.game.g_targets(n)
        for _ in range(steps):
            sigma = gan.noise_std(self.step)
            real, y_real, z_d, y_fake, noise_r, noise_f, z_g, y_gen = draws.next(sigma)
            out = self._step(
                real, y_real, z_d, y_fake, noise_r, noise_f, z_g, y_gen, real_t, fake_t, ones, np.asarray(sigma, np.float32)
            )
            self.step += 1
            self.history.append([float(v) for v in out])
        return self.history


class HostDraws:
    """What one ``GAN.fit`` iteration draws on the host, from ``rng`` in the trainer's order.

    ``next(sigma)`` returns (real, y_real, z_d, y_fake, noise_r, noise_f, z_g, y_gen): the real batch
    (epochs of shuffled array data, or a sampler's fresh samples), z and labels for D's fakes, the
    instance noise for D's real and fake batches (None when ``sigma`` is 0), z and labels for G's
    step (labels None unless the GAN is conditional). Shared by the fused step and the plain loop.
    """

    def __init__(self, gan, data, labels, batch_size, rng):
        self.gan, self.data, self.labels, self.n, self.rng = gan, data, labels, batch_size, rng
        self.order, self.cursor = None, 0

    def next(self, sigma):
        gan, rng, n, data = self.gan, self.rng, self.n, self.data
        if callable(data):
            real, y_real = np.asarray(data(n, rng), dtype=np.float32), None
        else:
            if self.order is None or self.cursor + n > len(data):
                self.order, self.cursor = rng.permutation(len(data)), 0
            idx = self.order[self.cursor : self.cursor + n]
            self.cursor += n
            real, y_real = data[idx], (self.labels[idx] if gan.conditional else None)
        z_d = sample_z(n, gan.latent_dim, rng, gan.z_distribution)
        y_fake = rng.integers(0, gan.num_classes, n, dtype=np.int32) if gan.conditional else None
        noise_r = noise_f = None
        if sigma:
            noise_r = rng.normal(0.0, sigma, real.shape).astype(np.float32)
            noise_f = rng.normal(0.0, sigma, real.shape).astype(np.float32)
        z_g = sample_z(n, gan.latent_dim, rng, gan.z_distribution)
        y_gen = rng.integers(0, gan.num_classes, n, dtype=np.int32) if gan.conditional else None
        return real, y_real, z_d, y_fake, noise_r, noise_f, z_g, y_gen
