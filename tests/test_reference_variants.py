"""The trainer's variants are hand-written loops, bit for bit: ``WassersteinGAN`` in every configuration of notebook 05,
``SemiSupervisedGAN`` in notebook 07's.

The approach of ``tests/test_reference_loops.py`` (the plain GAN of notebooks 01-04 and 08), for the classes that
override the trainer's steps: tiny versions of a notebook's models are built twice under one
``keras.utils.set_random_seed`` (the same initial weights, power-iteration vectors and noise seed states), one copy is
trained by the variant as the notebook calls it (its options, its kind of data, hooks like its own), the other by a
reference written here in plain Keras, and then every variable of G and of the critic / classifier (seed states
included), every optimizer variable and the losses of every step must be ``np.array_equal``, not close. Both runs share
one process, so this holds on any processor and stack.

The references, and the randomness they reproduce (one ``np.random.default_rng(seed)``, the variant's ``seed``):

* **Wasserstein GAN, clipped or spectrally normalised critic** (``ReferenceWGAN``): the critic compiled on its own with
  ``wasserstein_loss``; per critic step the real batch (a sampler's ``sample(n, rng)``, or an array's epochs as in
  ``test_reference_loops.real_batches``), z for the fakes, the fakes through G in inference mode, then with
  ``critic.trainable = True`` one ``train_on_batch`` on the real batch with targets -1 and one on the fakes with +1;
  n_critic = 5 of those, then G's step: fresh z through ``critic(G(z))`` with the critic frozen, target -1. The
  clipping is the ``WeightClip`` constraint the optimizer applies; the normalisation is
  ``gan_utils.layers.SpectralNormalization``, which updates only in the critic's own step.
* **with the gradient penalty**: the critic's step is one ``train_on_batch([real, fake], {"real": -1, "fake": +1})`` of
  a model built here on ``GradientPenalty(critic, 10, seed=penalty_seed)`` (which adds lambda * GP in training); the
  penalty's eps generator state is compared too.
* **semi-supervised GAN** (``ReferenceSGAN``): D = sigmoid(logsumexp(classifier(x))) built here; D's step model
  ``[labelled, unlabelled, fake] -> {labelled logits, D(unlabelled), D(fake)}`` (sparse cross-entropy weight 1, binary
  cross-entropy 1/2 each) on the labelled batch ``rng.choice(len(labelled), labelled_batch, replace=False)`` (drawn
  before the fakes' z); G's step: feature matching, the real batch's mean features (the feature layer of the
  classifier, called in training mode: its noise layers draw) as the target of ``z -> features(G(z))`` with D frozen.

One backend detail: on TensorFlow, two traces of the same gradient-penalty step do not always compute the same sums
(grappler's dependency optimizer rewrites them differently from trace to trace: ``reproducible_traces`` has the
measurements), so the penalty's tests trace with that pass off; every other step here, and JAX, needs nothing.

Marked ``backend``: ``make unit-jax`` and ``make unit-oldest`` run them too.
"""

import contextlib

import keras
import numpy as np
import pytest
from keras import layers, ops

from gan_utils.data import sample_gaussian, sample_ring
from gan_utils.layers import SpectralNormalization, WeightClip
from gan_utils.losses import wasserstein_loss
from gan_utils.monitor import Monitor
from gan_utils.semi_supervised import SemiSupervisedGAN, labelled_subset
from gan_utils.training import Hook
from gan_utils.wgan import GradientPenalty, WassersteinGAN, input_gradient
from test_reference_loops import LATENT, real_batches, trainer_fit, twice

pytestmark = pytest.mark.backend

N_CRITIC, GP_WEIGHT = 5, 10.0  # notebook 05's n_critic and lambda


@contextlib.contextmanager
def reproducible_traces(method):
    """On TensorFlow, a gradient-penalty step traced with grappler's dependency optimizer off (restored after).

    With it on, two traces of one and the same penalty step in one process do not always compute the same numbers:
    measured on TensorFlow 2.21 (CPU), fresh copies of one critic step (same weights, inputs and eps seed, SGD) gave
    2 distinct results in every run of 60 to 100 copies (3 to 12 of them the odd one), also with
    ``enable_op_determinism()`` or one inter-op thread; with the meta-optimizer off, or only
    ``dependency_optimization``, 100 of 100 were equal. Calling one traced step again is exact (400 of 400): what
    varies is how each new trace is rewritten, so the trainer's trace and the reference's may differ in rounding
    (this file failed 1 run in 25 before, 0 in 30 after). The penalty's step is the one here whose weights get
    gradients along several paths (the critic on real, fake and x_hat, and the second derivative); the other steps
    gave one result in 80 to 100 fresh traces. JAX: nothing to do."""
    if method != "gp" or keras.backend.backend() != "tensorflow":
        yield
        return
    import tensorflow as tf

    before = tf.config.optimizer.get_experimental_options().get("dependency_optimization", True)
    tf.config.optimizer.set_experimental_options({"dependency_optimization": False})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"dependency_optimization": before})


def train(model, x, y):
    """One ``train_on_batch``; its logs. Metrics reset first: per-batch values on every Keras version."""
    model.reset_metrics()
    return model.train_on_batch(x, y, return_dict=True)


def build_optimizers(D, d_model, d_optimizer, g_model, g_optimizer):
    """Both optimizers' slots before the first step, for D's step model's weights and for G's model's with D
    frozen (G's): created inside the first traced step, they would make TensorFlow trace it twice (slower only)."""
    d_optimizer.build(d_model.trainable_variables)
    D.trainable = False
    g_optimizer.build(g_model.trainable_variables)
    D.trainable = True


def to_numpy(v):
    return np.asarray(keras.ops.convert_to_numpy(v))


def initial_weights(model):
    return [np.array(to_numpy(v), copy=True) for v in model.trainable_variables]


def assert_same_variables(name, ours, theirs):
    assert len(ours) == len(theirs), f"{name}: {len(ours)} variables, the reference has {len(theirs)}"
    for a, b in zip(ours, theirs):
        a, b = to_numpy(a), to_numpy(b)
        assert a.shape == b.shape and np.array_equal(a, b), (
            f"{name}: a variable of shape {a.shape} differs from the reference's "
            f"(largest difference {np.max(np.abs(a.astype(np.float64) - b)):.3g})")


def assert_bit_identical(gan, ref):
    """G, the critic / D, both optimizers, the reference's extra state (``ref.extra(gan)``: the trainer's and the
    reference's variables) and every loss the reference records; and training moved G and D (nothing vacuous)."""
    for name, model, initial in (("G", ref.G, ref.initial_G), ("D", ref.D, ref.initial_D)):
        assert any(not np.array_equal(a, to_numpy(b)) for a, b in zip(initial, model.trainable_variables)), (
            f"the reference's {name} never moved")
    assert_same_variables("G", gan.generator.variables, ref.G.variables)
    assert_same_variables("D", gan.discriminator.variables, ref.D.variables)
    assert_same_variables("D's optimizer", gan.d_optimizer.variables, ref.d_optimizer.variables)
    assert_same_variables("G's optimizer", gan.g_optimizer.variables, ref.g_optimizer.variables)
    for name, ours, theirs in ref.extra(gan):
        assert_same_variables(name, ours, theirs)
    for key, values in ref.history.items():
        assert len(gan.history[key]) == len(values) and gan.history[key] == values, (
            f"history[{key!r}] differs from the reference's: {gan.history[key]} != {values}")


# --------------------------------------------------------------------------------------------- 05: the references
class ReferenceWGAN:
    """A Wasserstein GAN in plain Keras: the critic kept Lipschitz by its layers, or by ``GradientPenalty``."""

    def __init__(self, G, critic, d_optimizer, g_optimizer, *, seed, gradient_penalty=None, penalty_seed=None):
        self.G, self.D, self.d_optimizer, self.g_optimizer = G, critic, d_optimizer, g_optimizer
        self.initial_G, self.initial_D = initial_weights(G), initial_weights(critic)
        self.rng = np.random.default_rng(seed)
        shape = tuple(critic.inputs[0].shape[1:])
        self.penalty = None
        if gradient_penalty is None:
            critic.compile(optimizer=d_optimizer, loss=wasserstein_loss)
        else:  # one model on [real, fake] -> {D(real), D(fake)}; the layer adds lambda * GP in training
            real, fake = keras.Input(shape), keras.Input(shape)
            self.penalty = GradientPenalty(critic, gradient_penalty, seed=penalty_seed)
            real_score, fake_score = self.penalty([real, fake])
            self.critic_step = keras.Model([real, fake], {"real": real_score, "fake": fake_score})
            self.critic_step.compile(optimizer=d_optimizer, loss={"real": wasserstein_loss, "fake": wasserstein_loss})
        z = keras.Input((LATENT,))
        self.combined = keras.Model(z, critic(G(z)))
        self.combined.compile(optimizer=g_optimizer, loss=wasserstein_loss)
        build_optimizers(critic, critic, d_optimizer, self.combined, g_optimizer)
        self.history = {"d_loss_real": [], "d_loss_fake": [], "g_loss": []}

    def z(self, n):
        return self.rng.standard_normal((n, LATENT), dtype=np.float32)

    def d_step(self, real):
        """One critic step: E[D(fake)] - E[D(real)] (+ lambda GP), the critic unfrozen; its losses on real and fake."""
        n = len(real)
        minus, plus = -np.ones((n, 1), np.float32), np.ones((n, 1), np.float32)
        fake = self.G.predict_on_batch(self.z(n))
        self.D.trainable = True
        if self.penalty is None:
            losses = train(self.D, real, minus)["loss"], train(self.D, fake, plus)["loss"]
        else:
            logs = train(self.critic_step, [real, fake], {"real": minus, "fake": plus})
            losses = logs["real_loss"], logs["fake_loss"]
        return {"d_loss_real": float(losses[0]), "d_loss_fake": float(losses[1])}

    def g_step(self, n, real=None):
        """G through the frozen critic, target -1 (G maximises E[D(G(z))]); its loss (``real`` unused)."""
        z = self.z(n)
        self.D.trainable = False
        loss = float(train(self.combined, z, -np.ones((n, 1), np.float32))["loss"])
        self.D.trainable = True
        return loss

    def fit(self, data, *, steps, batch_size, d_steps=N_CRITIC):
        batches = real_batches(data, None, batch_size, d_steps, self.rng)
        for _ in range(steps):
            logs = [self.d_step(next(batches)[0]) for _ in range(d_steps)]
            for key in ("d_loss_real", "d_loss_fake"):  # the mean over the critic steps
                self.history[key].append(sum(step[key] for step in logs) / d_steps)
            self.history["g_loss"].append(self.g_step(batch_size))

    def extra(self, gan):
        if self.penalty is None:
            return []
        (ours,) = [layer for layer in gan.d_model.layers if isinstance(layer, GradientPenalty)]
        return [("the penalty's eps generator", [ours.seed_generator.state], [self.penalty.seed_generator.state])]


# --------------------------------------------------------------------------------------------- 05: the models
def dense(units, method, clip, **kwargs):
    """Notebook 05's ``dense``: clipped weights ("clip"), spectrally normalised ("sn"), or plain ("gp")."""
    if method == "clip":
        return layers.Dense(units, kernel_constraint=WeightClip(clip), bias_constraint=WeightClip(clip), **kwargs)
    if method == "sn":
        return SpectralNormalization(layers.Dense(units, **kwargs))
    return layers.Dense(units, **kwargs)


def mlp_generator(dim, width=8):
    """05's MLP generator: two ReLU layers, a linear output."""
    z = keras.Input((LATENT,), name="z")
    h = layers.Dense(width, activation="relu")(z)
    h = layers.Dense(width, activation="relu")(h)
    return keras.Model(z, layers.Dense(dim, name="sample")(h), name="generator")


def mlp_critic(dim, method, clip=0.01, width=8, depth=2):
    """05's MLP critic (``depth=2``) and its deep critic of section 5: LeakyReLU layers, a linear score."""
    x = keras.Input((dim,), name="x")
    h = x
    for _ in range(depth):
        h = dense(width, method, clip, activation="leaky_relu")(h)
    return keras.Model(x, dense(1, method, clip, name="score")(h), name=f"critic_{method}")


def image_generator():
    """05's MNIST generator shrunk to 8x8: Dense without bias, BatchNorm(0.8), ReLU, a strided transposed conv."""
    z = keras.Input((LATENT,), name="z")
    h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(layers.Dense(4 * 4 * 4, use_bias=False)(z)))
    h = layers.Reshape((4, 4, 4))(h)
    return keras.Model(z, layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")(h),
                       name="generator")


def image_critic(method, clip=0.01):
    """05's MNIST critic shrunk: a strided convolution kept Lipschitz like ``dense``, LeakyReLU, a linear score
    (no BatchNorm, no Dropout). One convolution: on JAX each train step's compile grows with them."""
    image = keras.Input((8, 8, 1), name="image")
    if method == "clip":
        conv = layers.Conv2D(4, 3, strides=2, padding="same", kernel_constraint=WeightClip(clip),
                             bias_constraint=WeightClip(clip))
    else:
        conv = layers.Conv2D(4, 3, strides=2, padding="same")
        conv = SpectralNormalization(conv) if method == "sn" else conv
    h = layers.Flatten()(layers.LeakyReLU(0.2)(conv(image)))
    return keras.Model(image, dense(1, method, clip)(h), name=f"critic_{method}")


def wgan_optimizers(method, lrs, beta_1=0.0):
    """05's ``wgan_optimizer`` for (critic, G): RMSprop with clipping, Adam(beta_1, beta_2=0.9) otherwise."""
    if method == "clip":
        return tuple(keras.optimizers.RMSprop(lr) for lr in lrs)
    return tuple(keras.optimizers.Adam(lr, beta_1=beta_1, beta_2=0.9) for lr in lrs)


def make_wgan(method, seed, G, critic, optimizers, **options):
    """05's ``make_wgan``: the penalty for "gp" (penalty_seed = seed), n_critic critic steps, the method's
    optimizers."""
    d_optimizer, g_optimizer = optimizers
    return WassersteinGAN(G, critic, gradient_penalty=GP_WEIGHT if method == "gp" else None, penalty_seed=seed,
                          d_steps=N_CRITIC, d_optimizer=d_optimizer, g_optimizer=g_optimizer, seed=seed, **options)


def make_reference(method, seed, G, critic, optimizers):
    d_optimizer, g_optimizer = optimizers
    return ReferenceWGAN(G, critic, d_optimizer, g_optimizer, seed=seed,
                         gradient_penalty=GP_WEIGHT if method == "gp" else None, penalty_seed=seed)


def gaussian(n, rng):
    return sample_gaussian(n, rng, 4.0, 1.25)  # 05's 1-D target, N(4, 1.25^2)


def ring(n, rng):
    return sample_ring(n, rng, std=0.15)  # 05's ring of 8


# --------------------------------------------------------------------------------------------- 05: the tests
# name -> (method, data, critic depth, clipping value c, (critic, G) learning rates): the runs of sections 4-6
CONFIGS_05 = {
    "1-D clip": ("clip", "gaussian", 2, 0.01, (1e-3, 5e-4)),  # section 4, LR_1D
    "1-D sn": ("sn", "gaussian", 2, None, (1e-3, 2e-4)),
    "1-D gp": ("gp", "gaussian", 2, None, (1e-3, 2e-4)),
    "deep clip c=0.1": ("clip", "ring", 4, 0.1, (5e-5, 5e-5)),  # section 5: the papers' learning rates
    "deep gp": ("gp", "ring", 4, None, (1e-4, 1e-4)),
    "ring sn": ("sn", "ring", 2, None, (1e-3, 5e-4)),  # section 6: RING_METHOD, LR_RING
}


def steps_by_hand(gan, ref, real_batch, d_steps=N_CRITIC, matching=False):
    """The notebooks' cells that call the steps themselves: ``d_steps`` x ``train_discriminator`` on their own real
    batches (``real_batch(rng)``, a generator seeded 7 on each side, apart from the GAN's), then ``train_generator``
    (``matching``: given the last real batch, for feature matching); each step's losses equal the reference's."""
    ours, theirs = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(d_steps):
        real, expected = real_batch(ours), ref.d_step(real_batch(theirs))
        logs = gan.train_discriminator(real)
        assert {k: float(logs[k]) for k in expected} == expected, "train_discriminator"
    g_loss = gan.train_generator(len(real), real=real if matching else None)["g_loss"]
    assert float(g_loss) == ref.g_step(len(real), real), "train_generator"


@pytest.mark.parametrize("name", list(CONFIGS_05))
def test_05_wgan_on_a_sampler(name):
    """05's sampler runs, after the cells that call the steps by hand (sections 1-2: n_critic ``train_discriminator``
    on the notebook's own batches, one ``train_generator``): n_critic = 5, the notebook's hooks (section 4's probe: G
    and the critic in inference mode and the critic's input gradient; section 5's copy of the first step's weights;
    section 6's early stop, here after 3 of 4 steps) and a monitor's hook that checks every 2 steps (in place of the
    default monitor)."""
    method, kind, depth, clip, lrs = CONFIGS_05[name]
    seed, batch, steps = 0, 16, 4
    dim, sampler = (1, gaussian) if kind == "gaussian" else (2, ring)
    (G1, C1), (G2, C2) = twice(seed, lambda: (mlp_generator(dim), mlp_critic(dim, method, clip or 0.01, depth=depth)))
    with reproducible_traces(method):
        gan = make_wgan(method, seed, G1, C1, wgan_optimizers(method, lrs))
        ref = make_reference(method, seed, G2, C2, wgan_optimizers(method, lrs))
        steps_by_hand(gan, ref, lambda rng: sampler(batch, rng))
        probe_rng, probes, first = np.random.default_rng(100 + seed), [], {}

        def probe(g):  # section 4: the critic's estimate and its slope at the fakes
            real, fake = sampler(batch, probe_rng), g.generate(g.sample_z(batch, probe_rng))
            slope = to_numpy(input_gradient(g.discriminator, fake))
            estimate = float(g.discriminate(real).mean() - g.discriminate(fake).mean())
            probes.append((g.step, estimate, float(np.median(slope))))

        hooks = [Hook(probe, every=2),
                 Hook(lambda g: first or first.update(weights=g.discriminator.get_weights()), every=1),
                 Hook(lambda g: setattr(g, "stop_training", g.step >= 3), every=1),
                 Monitor(every=2, n_diversity=batch).hook()]
        trainer_fit(gan, sampler, steps=steps, batch_size=batch, hooks=hooks)
        updates_per_step = 1 if method == "gp" else 2  # one call on [real, fake], or one on each
        assert gan.step == 3 and len(probes) == 1 and first
        assert int(gan.d_optimizer.iterations.numpy()) == (1 + 3) * N_CRITIC * updates_per_step

        ref.fit(sampler, steps=3, batch_size=batch)
        assert_bit_identical(gan, ref)
    if method == "clip":
        assert all(np.abs(w).max() <= np.float32(clip) for w in C1.get_weights())  # c as a float32


@pytest.mark.parametrize("method", ["clip", "sn", "gp"])
def test_05_wgan_on_an_array(method):
    """05's MNIST run (section 7, the method of each critic as in its step-cost cell): G with BatchNorm and a
    transposed convolution, a convolutional critic, Adam(beta_1=0.5, beta_2=0.9) (RMSprop when clipped), an array
    (2 generator steps of 5 batches per epoch, a batch left over: the order is redrawn at step 3), a probing hook
    (inference-mode G and critic) and the monitor every 2 steps (G's mode gap: a training-mode pass of G)."""
    seed, batch, steps = 0, 8, 3
    x = np.random.default_rng(3).uniform(-1.0, 1.0, (88, 8, 8, 1)).astype(np.float32)  # 11 batches per epoch
    fixed_z, fixed_real = np.random.default_rng(seed + 3).standard_normal((batch, LATENT), dtype=np.float32), x[:batch]
    (G1, C1), (G2, C2) = twice(seed, lambda: (image_generator(), image_critic(method)))
    lrs = (4e-4, 2e-4)
    with reproducible_traces(method):
        gan = make_wgan(method, seed, G1, C1, wgan_optimizers(method, lrs, beta_1=0.5),
                        monitor=Monitor(every=2, n_diversity=batch))
        rows = []

        def probe(g):  # section 7's probe: the critic's estimate on fixed real images and G's fixed z
            rows.append(float(g.discriminate(fixed_real).mean() - g.discriminate(g.generate(fixed_z)).mean()))

        hook = Hook(probe, every=1)
        trainer_fit(gan, x, batch_size=batch, steps=steps, hooks=[hook])
        assert gan.epoch == 1 and len(rows) == steps

        ref = make_reference(method, seed, G2, C2, wgan_optimizers(method, lrs, beta_1=0.5))
        ref.fit(x, steps=steps, batch_size=batch)
        assert_bit_identical(gan, ref)


# --------------------------------------------------------------------------------------------- 07: the reference
class LogSumExp(layers.Layer):
    """log sum_k exp(x_k), (n, K) -> (n, 1): the logit of "real" when "fake" has the fixed logit 0."""

    def call(self, x):
        return ops.logsumexp(x, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1)


def feature_matching(y_true, y_pred):
    """Mean over features of (the fakes' batch mean - the real batch's mean, each row of ``y_true``)^2, per row."""
    gap = ops.mean(y_pred, axis=0) - ops.cast(y_true[0], y_pred.dtype)
    return ops.zeros_like(y_pred[:, 0]) + ops.mean(gap * gap)


class ReferenceSGAN:
    """Salimans et al.'s semi-supervised GAN in plain Keras, on a classifier x -> K logits and its layer
    ``features``."""

    def __init__(self, G, classifier, features, labelled_x, labelled_y, d_optimizer, g_optimizer, *, seed,
                 labelled_batch=None):
        self.G, self.classifier, self.d_optimizer, self.g_optimizer = G, classifier, d_optimizer, g_optimizer
        self.labelled_x, self.labelled_y = labelled_x, labelled_y.astype(np.int32)
        self.labelled_batch = labelled_batch or len(labelled_x)
        self.rng = np.random.default_rng(seed)
        shape = tuple(classifier.inputs[0].shape[1:])
        image = keras.Input(shape)
        self.D = keras.Model(image, layers.Activation("sigmoid")(LogSumExp()(classifier(image))))
        self.initial_G, self.initial_D = initial_weights(G), initial_weights(self.D)
        labelled, unlabelled, fake = keras.Input(shape), keras.Input(shape), keras.Input(shape)
        self.d_model = keras.Model([labelled, unlabelled, fake], {
            "labelled": classifier(labelled), "real": self.D(unlabelled), "fake": self.D(fake)})
        bce = keras.losses.BinaryCrossentropy()
        self.d_model.compile(optimizer=d_optimizer, loss={
            "labelled": keras.losses.SparseCategoricalCrossentropy(from_logits=True), "real": bce, "fake": bce},
            loss_weights={"labelled": 1.0, "real": 0.5, "fake": 0.5}, metrics={"labelled": ["accuracy"]})
        self.features = keras.Model(classifier.inputs[0], classifier.get_layer(features).output)
        z = keras.Input((LATENT,))
        self.feature_matching = keras.Model(z, self.features(G(z)))
        self.feature_matching.compile(optimizer=g_optimizer, loss=feature_matching)
        build_optimizers(self.D, self.d_model, d_optimizer, self.feature_matching, g_optimizer)
        self.history = {key: [] for key in ("d_loss_real", "d_loss_fake", "g_loss", "labelled_loss",
                                            "labelled_accuracy")}

    def z(self, n):
        return self.rng.standard_normal((n, LATENT), dtype=np.float32)

    def d_step(self, real):
        n = len(real)
        pick = self.rng.choice(len(self.labelled_x), self.labelled_batch, replace=False)
        fake = self.G.predict_on_batch(self.z(n))
        self.D.trainable = True
        targets = {"labelled": self.labelled_y[pick], "real": np.ones((n, 1), np.float32),
                   "fake": np.zeros((n, 1), np.float32)}
        logs = train(self.d_model, [self.labelled_x[pick], real, fake], targets)
        return {"d_loss_real": float(logs["real_loss"]), "d_loss_fake": float(logs["fake_loss"]),
                "labelled_loss": float(logs["labelled_loss"]), "labelled_accuracy": float(logs["labelled_accuracy"])}

    def g_step(self, n, real):
        """G matches the mean features of ``real`` as D computes them in training (its noise on), D frozen."""
        real_mean = np.mean(to_numpy(self.features(real, training=True)), axis=0)
        targets = np.tile(real_mean, (n, 1))
        z = self.z(n)
        self.D.trainable = False
        loss = train(self.feature_matching, z, targets)["loss"]
        self.D.trainable = True
        return float(loss)

    def fit(self, data, *, steps, batch_size):
        batches = real_batches(data, None, batch_size, 1, self.rng)
        for _ in range(steps):
            real = next(batches)[0]
            for key, value in self.d_step(real).items():
                self.history[key].append(value)
            self.history["g_loss"].append(self.g_step(batch_size, real))

    def extra(self, gan):
        return []


# --------------------------------------------------------------------------------------------- 07: the models
SHAPE, K = (6, 6, 1), 10


def sgan_classifier():
    """07's classifier shrunk to one hidden ReLU layer: Gaussian noise on the input and after the hidden layer, K
    logits. (On JAX each noise layer's draws add to every step's compile time: 07's five hidden layers would take
    seconds.)"""
    image = keras.Input(SHAPE, name="image")
    h = layers.GaussianNoise(0.6)(layers.Flatten()(image))
    h = layers.GaussianNoise(0.5, name="noise_0")(layers.Dense(16, activation="relu")(h))
    return keras.Model(image, layers.Dense(K, name="logits")(h), name="classifier")


def sgan_generator():
    """07's generator shrunk to one softplus layer with BatchNorm, a tanh image."""
    z = keras.Input((LATENT,), name="z")
    h = layers.BatchNormalization()(layers.Dense(16, activation="softplus")(z))
    h = layers.Dense(int(np.prod(SHAPE)), activation="tanh")(h)
    return keras.Model(z, layers.Reshape(SHAPE)(h), name="generator")


FEATURES = "noise_0"  # the last hidden layer, after its noise, as 07's "noise_4"


def sgan_data(seed=0, n=60):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, *SHAPE)).astype(np.float32)
    return x, rng.integers(0, K, n)


@pytest.mark.parametrize("labelled_batch", [None, 8], ids=["all labels", "8 of 20 labels"])
def test_07_semi_supervised_gan(labelled_batch):
    """07's SGAN: 2 labels per class (``labelled_subset``), all of them per D step as in the notebook (or a drawn
    subset), Adam(1e-3, 0.5) for each; first the cell that calls the steps by hand (one ``train_discriminator`` on an
    unlabelled batch, one ``train_generator(n, real=batch)`` matching that batch's features), then the run: an array
    (3 steps per epoch: the order is redrawn at step 4) and the learning-curve hook (``classify``, at the start and
    every 2 steps)."""
    seed, batch, steps = 0, 20, 4
    x, y = sgan_data()
    idx = labelled_subset(y, 2, seed)
    (G1, C1), (G2, C2) = twice(seed, lambda: (sgan_generator(), sgan_classifier()))
    gan = SemiSupervisedGAN(G1, C1, FEATURES, x[idx], y[idx], labelled_batch=labelled_batch, seed=seed,
                            d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
                            g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    ref = ReferenceSGAN(G2, C2, FEATURES, x[idx], y[idx], keras.optimizers.Adam(1e-3, beta_1=0.5),
                        keras.optimizers.Adam(1e-3, beta_1=0.5), seed=seed, labelled_batch=labelled_batch)
    steps_by_hand(gan, ref, lambda rng: x[rng.choice(len(x), batch, replace=False)], d_steps=1, matching=True)

    curve = []
    record = Hook(lambda g: curve.append((g.step, float(np.mean(g.classify(x[:batch]).argmax(1) == y[:batch])))),
                  every=2, at_start=True)
    trainer_fit(gan, x, batch_size=batch, steps=steps, hooks=[record])
    assert [s for s, _ in curve] == [0, 2, 4] and gan.epoch == 1
    ref.fit(x, steps=steps, batch_size=batch)
    assert_bit_identical(gan, ref)
    assert_same_variables("the classifier", C1.variables, C2.variables)  # its noise layers' seed states included
