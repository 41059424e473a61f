"""``GAN.fit`` is the hand-written loop, bit for bit, in every plain-GAN configuration of notebooks 01-04 and 08.

Each test builds tiny versions of a notebook's models twice under one ``keras.utils.set_random_seed`` (so both copies
start from the same weights and the same Dropout seed states), trains one copy with ``gan_utils.training.GAN`` as the
notebook does (its ``GAN(...)`` options, its kind of data, its hooks and monitor) and the other with ``reference_fit``
below: plain Keras, the loop notebook 01's exercise has the student write (``D.trainable = True``, D on the real batch,
D on the fake batch, ``D.trainable = False``, the combined model on fresh z with target 1). Then every variable of G
and D (BatchNorm statistics and seed states included), every optimizer variable and the losses of each step must be
equal, ``np.array_equal``, not close. Both runs happen in one process, so this holds on any processor and stack.

How the reference reproduces the trainer's randomness: one ``np.random.default_rng(seed)`` (the GAN's ``seed``) gives,
in this order, per D step: the real batch (a sampler's ``sample(n, rng)``, or from an array the next ``n`` indices of
a permutation drawn when an epoch starts: ``(N // n) // d_steps`` generator steps per epoch, the rest dropped), D's
targets when they are random (soft targets: real then fake ``uniform(low, high, (n, 1))``; noisy labels: real then
fake ``random((n, 1)) < flip_prob``, then swapped), z for the fakes (``standard_normal`` or ``uniform(-1, 1)``), the
fakes' labels (``integers(0, K, n)``), instance noise on the real then the fake batch (``normal(0, sigma)``, sigma
decaying linearly to 0 over the fit); then for G's step z, then its labels. In G's step the instance noise is a layer
before D in the combined model, seeded with the GAN's seed. What the trainer runs besides the loop (hooks that read or
average G, the monitor's checks, learning-rate hooks) must not change the result: the notebooks' hooks are passed to
the trainer, and the reference only repeats what changes training (the learning rate).

Marked ``backend``: ``make unit-jax`` and ``make unit-oldest`` run them too.
"""

import warnings

import keras
import numpy as np
import pytest
from keras import layers, ops

from gan_utils.data import sample_gaussian, sample_mixture, sample_ring
from gan_utils.layers import MinibatchStdDev
from gan_utils.monitor import GANTrainingWarning, Monitor
from gan_utils.training import GAN, Hook, WeightAverage

pytestmark = pytest.mark.backend

LATENT = 8


# --------------------------------------------------------------------------------------------- the reference loop
class Noise(keras.layers.Layer):
    """Instance noise for G's step: x + sigma * N(0, 1) in training, sigma a variable set before each step."""

    def __init__(self, seed, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.sigma = self.add_weight(shape=(), initializer="zeros", trainable=False, name="sigma")

    def call(self, x, training=None):
        return x + self.sigma * keras.random.normal(ops.shape(x), seed=self.seed_generator) if training else x


def minimax_loss(y_true, y_pred):
    """G minimises log(1 - D(G(z))) (Goodfellow et al.'s original objective), D's output clipped away from 0 and 1."""
    return ops.mean(ops.log(1.0 - ops.clip(y_pred, 1e-7, 1.0 - 1e-7)), axis=-1)


def real_batches(data, labels, n, d_steps, rng):
    """Real batches: fresh ones from a sampler, or an array's epochs in a new random order each."""
    if callable(data):
        while True:
            yield data(n, rng), None
    per_epoch = (len(data) // n) // d_steps * d_steps  # whole generator steps; the rest of the epoch is dropped
    while True:
        order = rng.permutation(len(data))  # drawn when the epoch's first batch is asked for
        for i in range(per_epoch):
            idx = order[i * n : (i + 1) * n]
            yield data[idx], (None if labels is None else labels[idx])


def reference_fit(G, D, d_optimizer, g_optimizer, data, labels=None, *, steps, batch_size, seed, num_classes=None,
                  d_steps=1, real_target=1.0, fake_target=0.0, flip_prob=0.0, generator_loss="non_saturating",
                  instance_noise=0.0, z_distribution="normal", after_step=None):
    """Train G and D for ``steps`` generator steps with plain Keras; returns the losses of every step.

    ``after_step(step)`` runs after each generator step (a learning-rate schedule)."""
    rng = np.random.default_rng(seed)
    n, conditional = batch_size, num_classes is not None
    D.compile(optimizer=d_optimizer, loss=keras.losses.BinaryCrossentropy())
    z_in = keras.Input((LATENT,))
    y_in = keras.Input((), dtype="int32") if conditional else None
    fake = G([z_in, y_in] if conditional else z_in)
    noise = Noise(seed) if instance_noise else None
    d_in = noise(fake) if noise is not None else fake
    combined = keras.Model([z_in, y_in] if conditional else z_in, D([d_in, y_in] if conditional else d_in))
    combined.compile(optimizer=g_optimizer,
                     loss=minimax_loss if generator_loss == "minimax" else keras.losses.BinaryCrossentropy())

    def inputs(x, y):
        return [x, y] if conditional else x

    def z_batch():
        if z_distribution == "uniform":
            return rng.uniform(-1.0, 1.0, (n, LATENT)).astype(np.float32)
        return rng.standard_normal((n, LATENT), dtype=np.float32)

    def fake_labels():
        return rng.integers(0, num_classes, n, dtype=np.int32) if conditional else None

    def target(value):
        if isinstance(value, tuple):  # a soft target, drawn per sample
            return rng.uniform(value[0], value[1], (n, 1)).astype(np.float32)
        return np.full((n, 1), value, np.float32)

    def train(model, x, y):
        model.reset_metrics()  # per-batch losses on every Keras version (before 3.15 they were running means)
        return model.train_on_batch(x, y, return_dict=True)["loss"]

    batches = real_batches(data, labels, n, d_steps, rng)
    ones = np.ones((n, 1), np.float32)
    history = {"d_loss_real": [], "d_loss_fake": [], "g_loss": [], "noise_std": []}
    for step in range(steps):
        sigma = instance_noise * max(0.0, 1.0 - step / steps)
        d_losses = []
        for _ in range(d_steps):
            real, y_real = next(batches)
            real_targets, fake_targets = target(real_target), target(fake_target)
            if flip_prob:  # noisy labels: some targets swapped
                flip_real, flip_fake = rng.random((n, 1)) < flip_prob, rng.random((n, 1)) < flip_prob
                real_targets, fake_targets = (np.where(flip_real, fake_targets, real_targets),
                                              np.where(flip_fake, real_targets, fake_targets))
            z, y_fake = z_batch(), fake_labels()
            fake = G.predict_on_batch(inputs(z, y_fake))
            if sigma:
                real = real + rng.normal(0.0, sigma, real.shape).astype(np.float32)
                fake = fake + rng.normal(0.0, sigma, fake.shape).astype(np.float32)
            D.trainable = True
            loss_real = train(D, inputs(real, y_real), real_targets)
            d_losses.append((loss_real, train(D, inputs(fake, y_fake), fake_targets)))
        z = z_batch()
        if noise is not None:
            noise.sigma.assign(sigma)
        D.trainable = False
        g_loss = train(combined, inputs(z, fake_labels()), ones)
        D.trainable = True
        history["d_loss_real"].append(sum(float(r) for r, _ in d_losses) / d_steps)
        history["d_loss_fake"].append(sum(float(f) for _, f in d_losses) / d_steps)
        history["g_loss"].append(float(g_loss))
        history["noise_std"].append(sigma)
        if after_step is not None:
            after_step(step + 1)
    return history


# --------------------------------------------------------------------------------------------- comparing the two runs
def assert_bit_identical(gan, G, D, d_optimizer, g_optimizer, history):
    """Every variable of the trainer's G, D and optimizers equals the reference's, and so does every loss."""
    pairs = (("G", gan.generator.variables, G.variables), ("D", gan.discriminator.variables, D.variables),
             ("D's optimizer", gan.d_optimizer.variables, d_optimizer.variables),
             ("G's optimizer", gan.g_optimizer.variables, g_optimizer.variables))
    for name, ours, theirs in pairs:
        assert len(ours) == len(theirs), f"{name}: {len(ours)} variables, the reference has {len(theirs)}"
        for a, b in zip(ours, theirs):
            a, b = keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
            assert a.shape == b.shape and np.array_equal(a, b), (
                f"{name}: a variable of shape {a.shape} differs from the reference loop's "
                f"(largest difference {np.max(np.abs(a.astype(np.float64) - b)):.3g})")
    for key, values in history.items():
        assert gan.history[key] == values, f"history[{key!r}] differs from the reference loop's"
    assert len(gan.history["step"]) == len(history["g_loss"])


def trainer_fit(gan, *args, **kwargs):
    """``gan.fit`` with the monitor's warnings allowed (as notebook 04 does): these runs are too short to judge."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GANTrainingWarning)
        gan.fit(*args, verbose=0, **kwargs)


def adam(lr, beta_1=0.5):
    return keras.optimizers.Adam(lr, beta_1=beta_1)


def twice(seed, build):
    """Two copies of ``build()``'s models with the same initial weights and seed states."""
    keras.utils.set_random_seed(seed)
    first = build()
    keras.utils.set_random_seed(seed)
    return first, build()


# --------------------------------------------------------------------------------------------- 01: the 1-D GAN
def mlp_generator(dim=1, width=8):
    z = keras.Input((LATENT,), name="z")
    h = layers.Dense(width, activation="leaky_relu")(z)
    h = layers.Dense(width, activation="leaky_relu")(h)
    return keras.Model(z, layers.Dense(dim, name="sample")(h), name="generator")


def mlp_discriminator(dim=1, width=8, minibatch_std=False, separate_sigmoid=False):
    x = keras.Input((dim,), name="x")
    h = layers.Dense(width, activation="leaky_relu")(x)
    if minibatch_std:
        h = MinibatchStdDev()(h)
    h = layers.Dense(width, activation="leaky_relu")(h)
    if separate_sigmoid:  # notebook 04: a logit layer, then the sigmoid
        p = layers.Activation("sigmoid", name="p_real")(layers.Dense(1, name="logit")(h))
    else:
        p = layers.Dense(1, activation="sigmoid", name="p_real")(h)
    return keras.Model(x, p, name="discriminator")


def gaussian(n, rng):
    return sample_gaussian(n, rng, 4.0, 1.25)


def mixture(n, rng):
    return sample_mixture(n, rng, (-3.0, 3.0), (0.5, 0.5))


@pytest.mark.parametrize("sampler", [gaussian, mixture], ids=["gaussian", "mixture"])
def test_01_train_gan(sampler):
    """01's ``train_gan``: two time-scale cosine-decayed Adam, instance noise decaying over the fit, a Polyak
    average of G from the middle and snapshot hooks (G and D read in inference mode) at the start and every 2 steps."""
    steps, batch, seed = 6, 32, 0
    (G1, D1), (G2, D2) = twice(seed, lambda: (mlp_generator(), mlp_discriminator()))

    def optimizers():
        cosine = keras.optimizers.schedules.CosineDecay
        return (keras.optimizers.Adam(cosine(2e-3, 2 * steps, alpha=0.02), beta_1=0.5),
                keras.optimizers.Adam(cosine(5e-4, steps, alpha=0.02), beta_1=0.5))

    d_opt, g_opt = optimizers()
    gan = GAN(G1, D1, seed=seed, generator_loss="non_saturating", d_optimizer=d_opt, g_optimizer=g_opt,
              instance_noise=0.5)
    fixed_z = gan.sample_z(16, np.random.default_rng(1000 + seed))
    xs = np.linspace(-2.0, 10.0, 20, dtype=np.float32)[:, None]
    seen = []
    average = WeightAverage(G1, start_step=steps // 2)
    trainer_fit(gan, sampler, steps=steps, batch_size=batch,
                hooks=[Hook(lambda g: seen.append((g.generate(fixed_z), g.discriminate(xs))), every=2, at_start=True),
                       average.hook()])
    assert len(seen) == 1 + steps // 2 and average.count == steps - steps // 2

    d_ref, g_ref = optimizers()
    history = reference_fit(G2, D2, d_ref, g_ref, sampler, steps=steps, batch_size=batch, seed=seed, instance_noise=0.5)
    assert_bit_identical(gan, G2, D2, d_ref, g_ref, history)


@pytest.mark.parametrize("generator_loss", ["non_saturating", "minimax"])
def test_01_discriminator_only_then_rescue(generator_loss):
    """01's saturation study: D-only steps with ``train_discriminator`` (z from the GAN's generator, real samples from
    the notebook's own), then a GAN whose G learns with SGD from the confident D's weights, with either G loss."""
    batch, seed, d_only, steps = 32, 7, 4, 4
    (G1, D1), (G2, D2) = twice(seed, lambda: (mlp_generator(), mlp_discriminator()))
    early = GAN(G1, D1, seed=seed, d_optimizer=adam(1e-3, 0.9))
    data_rng = np.random.default_rng(seed)
    for _ in range(d_only):
        early.train_discriminator(gaussian(batch, data_rng))

    # the reference's D-only steps: targets 1 and 0, z from a generator seeded like the GAN's
    D2.compile(optimizer=adam(1e-3, 0.9), loss=keras.losses.BinaryCrossentropy())
    early_rng, data_rng = np.random.default_rng(seed), np.random.default_rng(seed)
    ones, zeros = np.ones((batch, 1), np.float32), np.zeros((batch, 1), np.float32)
    for _ in range(d_only):
        real = gaussian(batch, data_rng)
        fake = G2.predict_on_batch(early_rng.standard_normal((batch, LATENT), dtype=np.float32))
        D2.trainable = True
        D2.train_on_batch(real, ones)
        D2.train_on_batch(fake, zeros)
    for a, b in zip(D1.variables + G1.variables, D2.variables + G2.variables):
        assert np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)), "train_discriminator"

    (G3, D3), (G4, D4) = twice(seed, lambda: (mlp_generator(), mlp_discriminator()))
    gan = GAN(G3, D3, seed=seed, generator_loss=generator_loss, d_optimizer=adam(1e-3, 0.9),
              g_optimizer=keras.optimizers.SGD(3e-3))
    gan.generator.set_weights(early.generator.get_weights())
    gan.discriminator.set_weights(early.discriminator.get_weights())
    z_probe = gan.sample_z(64, np.random.default_rng(8))
    means = [float(gan.generate(z_probe).mean())]
    trainer_fit(gan, gaussian, steps=steps, batch_size=batch,
                hooks=[Hook(lambda g: means.append(float(g.generate(z_probe).mean())), every=2)])

    G4.set_weights(G2.get_weights())
    D4.set_weights(D2.get_weights())
    d_ref, g_ref = adam(1e-3, 0.9), keras.optimizers.SGD(3e-3)
    history = reference_fit(G4, D4, d_ref, g_ref, gaussian, steps=steps, batch_size=batch, seed=seed,
                            generator_loss=generator_loss)
    assert_bit_identical(gan, G4, D4, d_ref, g_ref, history)


# --------------------------------------------------------------------------------------------- 02, 03, 08: images
def dcgan_generator(conditional=False, hidden=True, kernel=3):
    """02's G shrunk to 8x8 (a hidden Dense layer, BatchNorm momentum 0.8, ReLU, a strided transposed convolution,
    tanh); ``conditional``: 03's (a label embedding concatenated with z, no hidden layer); ``hidden=False``: 08's.
    One convolution per model: on JAX each train step's XLA compile grows with the convolutions (seconds each)."""
    z = keras.Input((LATENT,), name="z")
    inputs, h = [z], z
    if conditional:
        label = keras.Input((), dtype="int32", name="label")
        inputs.append(label)
        h = layers.Concatenate()([z, layers.Embedding(10, 4, name="g_label_embedding")(label)])
    if hidden:
        h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(layers.Dense(16, use_bias=False)(h)))
    h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(layers.Dense(4 * 4 * 4, use_bias=False)(h)))
    h = layers.Reshape((4, 4, 4))(h)
    image = layers.Conv2DTranspose(1, kernel, strides=2, padding="same", activation="tanh")(h)
    return keras.Model(inputs if conditional else z, image, name="generator")


def dcgan_discriminator(kernel=3, hidden=8):
    """02's and 08's D: a strided convolution with LeakyReLU and Dropout, a hidden Dense layer, a sigmoid."""
    image = keras.Input((8, 8, 1), name="image")
    h = layers.Dropout(0.3)(layers.LeakyReLU(0.2)(layers.Conv2D(4, kernel, strides=2, padding="same")(image)))
    h = layers.LeakyReLU(0.2)(layers.Dense(hidden)(layers.Flatten()(h)))
    return keras.Model(image, layers.Dense(1, activation="sigmoid")(h), name="discriminator")


def projection_discriminator():
    """03's D: the label as an extra image channel, Dropout, and a projection term <embedding(y), features>."""
    image = keras.Input((8, 8, 1), name="image")
    label = keras.Input((), dtype="int32", name="label")
    y_map = layers.Reshape((8, 8, 1))(layers.Dense(64)(layers.Embedding(10, 4, name="d_label_embedding")(label)))
    h = layers.Concatenate()([image, y_map])
    h = layers.Dropout(0.3)(layers.LeakyReLU(0.2)(layers.Conv2D(4, 3, strides=2, padding="same")(h)))
    features = layers.Flatten()(h)
    e_y = layers.Embedding(10, features.shape[-1], name="d_projection")(label)
    logit = layers.Add()([layers.Dense(1)(features), layers.Dot(axes=1)([e_y, features])])
    return keras.Model([image, label], layers.Activation("sigmoid")(logit), name="cond_discriminator")


def images(n, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (n, 8, 8, 1)).astype(np.float32)


def test_02_dcgan():
    """02's DCGAN: one-sided label smoothing 0.9, Adam(5e-4, 0.5) for each, an array for 2 epochs (shuffled each,
    the remainder dropped), an exponential moving average of G every 2 steps, frame hooks and the monitor's
    checks (G sampled in both modes, D's weights digested) every 2 steps."""
    seed, batch, epochs = 0, 16, 2
    x = images(56)  # 3 steps per epoch, 8 images left over
    (G1, D1), (G2, D2) = twice(seed, lambda: (dcgan_generator(), dcgan_discriminator()))
    gan = GAN(G1, D1, d_optimizer=adam(5e-4), g_optimizer=adam(5e-4), generator_loss="non_saturating",
              real_target=0.9, seed=seed, monitor=Monitor(every=2, n_diversity=batch))
    # the hooks' batches have the training batch's size: on JAX another size is another compile
    fixed_z = np.random.default_rng(seed + 1).standard_normal((batch, LATENT), dtype=np.float32)
    frames = []
    average = WeightAverage(G1, decay=0.9)
    trainer_fit(gan, x, batch_size=batch, epochs=epochs,
                hooks=[Hook(lambda g: frames.append(g.generate(fixed_z)), every=3, at_start=True),
                       average.hook(every=2)])
    assert gan.step == 6 and gan.epoch == 2 and len(frames) == 3

    d_ref, g_ref = adam(5e-4), adam(5e-4)
    history = reference_fit(G2, D2, d_ref, g_ref, x, steps=6, batch_size=batch, seed=seed, real_target=0.9)
    assert_bit_identical(gan, G2, D2, d_ref, g_ref, history)


def test_03_conditional_gan():
    """03's conditional GAN: num_classes=10 (an Embedding in G, a label channel and a projection in D), one-sided
    smoothing, labels of real batches from the array and of fakes drawn, a linear learning-rate decay hook."""
    seed, batch, epochs = 0, 16, 2
    x, y = images(48), np.random.default_rng(5).integers(0, 10, 48)
    total, start = 6, 3  # steps (3 per epoch); the decay to 0 starts after the first epoch

    def rate(step):
        return 5e-4 * min(1.0, max(0.0, (total - step) / (total - start)))

    (G1, D1), (G2, D2) = twice(seed, lambda: (dcgan_generator(conditional=True, hidden=False),
                                              projection_discriminator()))
    gan = GAN(G1, D1, num_classes=10, d_optimizer=adam(5e-4), g_optimizer=adam(5e-4), real_target=0.9, seed=seed,
              monitor=Monitor(every=2, n_diversity=batch))

    def decay_learning_rates(g):
        g.d_optimizer.learning_rate.assign(rate(g.step))
        g.g_optimizer.learning_rate.assign(rate(g.step))

    fixed_z = np.random.default_rng(seed + 1).standard_normal((batch, LATENT), dtype=np.float32)
    fixed_labels = np.arange(batch, dtype=np.int32) % 10  # every digit
    frames = []
    trainer_fit(gan, x, y, batch_size=batch, epochs=epochs,
                hooks=[Hook(lambda g: frames.append(g.generate(fixed_z, fixed_labels)), every=3, at_start=True),
                       Hook(decay_learning_rates, every=2)])
    assert gan.step == total and float(keras.ops.convert_to_numpy(gan.g_optimizer.learning_rate)) == 0.0

    d_ref, g_ref = adam(5e-4), adam(5e-4)

    def after_step(step):
        if step % 2 == 0:
            d_ref.learning_rate.assign(rate(step))
            g_ref.learning_rate.assign(rate(step))

    history = reference_fit(G2, D2, d_ref, g_ref, x, y.astype(np.int32), steps=total, batch_size=batch, seed=seed,
                            num_classes=10, real_target=0.9, after_step=after_step)
    assert_bit_identical(gan, G2, D2, d_ref, g_ref, history)


def test_08_anomaly_gan():
    """08's GAN on the normal digits: G without the hidden layer, kernels of 4, D with a wider hidden layer, the
    trainer's defaults (targets 1 and 0, default monitor), ``steps`` on an array that runs over several epochs."""
    seed, batch, steps = 1, 16, 5
    x = images(40, seed=3)  # 2 steps per epoch, 8 images left over: the order is redrawn at steps 3 and 5
    (G1, D1), (G2, D2) = twice(seed, lambda: (dcgan_generator(hidden=False, kernel=4), dcgan_discriminator(4, 16)))
    gan = GAN(G1, D1, seed=seed, d_optimizer=adam(2e-4), g_optimizer=adam(2e-4))
    trainer_fit(gan, x, batch_size=batch, steps=steps)
    d_ref, g_ref = adam(2e-4), adam(2e-4)
    history = reference_fit(G2, D2, d_ref, g_ref, x, steps=steps, batch_size=batch, seed=seed)
    assert_bit_identical(gan, G2, D2, d_ref, g_ref, history)


# --------------------------------------------------------------------------------------------- 04: the tricks
# notebook 04's make_gan: its configurations (name -> tricks) and what each trick sets
TRICK_OPTIONS = {
    "one-sided smoothing": {"real_target": 0.9},
    "two-sided smoothing": {"real_target": 0.9, "fake_target": 0.1},
    "soft + noisy labels": {"real_target": (0.7, 1.0), "fake_target": (0.0, 0.3), "flip_prob": 0.05},
    "instance noise": {},  # set below: the ring's or the mixture's noise std
    "minimax loss": {"generator_loss": "minimax"},
    "k = 2": {"d_steps": 2},
    "DCGAN Adam": {},  # Adam(2e-4, 0.5) instead of Keras' Adam(1e-3, 0.9)
    "uniform z": {"z_distribution": "uniform"},
    "minibatch std": {},  # a MinibatchStdDev layer in D
}
CONFIGS_04 = {  # (tricks, data): the ring (2-D) or the two-mode mixture (1-D), as notebook 04 runs them
    "baseline-ring": ((), "ring"),
    "one-sided smoothing-mixture": (("one-sided smoothing",), "mixture"),
    "two-sided smoothing-mixture": (("two-sided smoothing",), "mixture"),
    "soft + noisy labels-ring": (("soft + noisy labels",), "ring"),
    "instance noise-mixture": (("instance noise",), "mixture"),
    "minimax loss-ring": (("minimax loss",), "ring"),
    "DCGAN Adam + uniform z-ring": (("DCGAN Adam", "uniform z"), "ring"),
    "best: k = 2 + minibatch std-ring": (("k = 2", "minibatch std"), "ring"),
}


@pytest.mark.parametrize("name", list(CONFIGS_04))
def test_04_tricks(name):
    """04's make_gan/train: monitor=False on the GAN and a Monitor's hook in fit, a sampler, matched D updates."""
    tricks, kind = CONFIGS_04[name]
    seed, batch, d_updates = 1, 32, 8
    dim = 2 if kind == "ring" else 1
    sampler = (lambda n, rng: sample_ring(n, rng, std=0.05)) if kind == "ring" else mixture
    options = {}
    for trick in tricks:
        options.update(TRICK_OPTIONS[trick])
    if "instance noise" in tricks:
        options["instance_noise"] = 0.15 if kind == "ring" else 1.0
    lr, beta_1 = (2e-4, 0.5) if "DCGAN Adam" in tricks else (1e-3, 0.9)

    def build():
        return mlp_generator(dim, 16), mlp_discriminator(dim, 16, "minibatch std" in tricks, separate_sigmoid=True)

    (G1, D1), (G2, D2) = twice(seed, build)
    gan = GAN(G1, D1, seed=seed, monitor=False, d_optimizer=adam(lr, beta_1), g_optimizer=adam(lr, beta_1), **options)
    steps = d_updates // gan.d_steps
    trainer_fit(gan, sampler, steps=steps, batch_size=batch, hooks=[Monitor(window=2, every=2).hook()])

    d_ref, g_ref = adam(lr, beta_1), adam(lr, beta_1)
    history = reference_fit(G2, D2, d_ref, g_ref, sampler, steps=steps, batch_size=batch, seed=seed, **options)
    assert_bit_identical(gan, G2, D2, d_ref, g_ref, history)
