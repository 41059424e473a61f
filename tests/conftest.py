import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras import layers  # noqa: E402

LATENT = 4


def tiny_conv_models(conditional=False, num_classes=3, batchnorm=True, dropout=True):
    """A small image GAN (8x8x1) with BatchNorm in both nets and Dropout in D."""
    z = keras.Input((LATENT,), name="z")
    inputs = [z]
    h = z
    if conditional:
        y = keras.Input((), dtype="int32", name="label")
        inputs.append(y)
        h = layers.Concatenate()([z, layers.Flatten()(layers.Embedding(num_classes, 3)(y))])
    h = layers.Dense(4 * 4 * 8)(h)
    if batchnorm:
        h = layers.BatchNormalization()(h)
    h = layers.LeakyReLU(0.2)(h)
    h = layers.Reshape((4, 4, 8))(h)
    out = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")(h)
    G = keras.Model(inputs if conditional else z, out, name="G")

    x = keras.Input((8, 8, 1), name="x")
    d_inputs = [x]
    h = x
    if conditional:
        yd = keras.Input((), dtype="int32", name="label")
        d_inputs.append(yd)
        emb = layers.Reshape((8, 8, 1))(layers.Embedding(num_classes, 64)(yd))
        h = layers.Concatenate()([x, emb])
    h = layers.Conv2D(8, 3, strides=2, padding="same")(h)
    if batchnorm:
        h = layers.BatchNormalization()(h)
    h = layers.LeakyReLU(0.2)(h)
    h = layers.Flatten()(h)
    if dropout:
        h = layers.Dropout(0.3)(h)
    score = layers.Dense(1, activation="sigmoid")(h)
    D = keras.Model(d_inputs if conditional else x, score, name="D")
    return G, D


def tiny_mlp_models(latent=LATENT, dim=1):
    G = keras.Sequential([keras.Input((latent,)), layers.Dense(8, activation="relu"), layers.Dense(dim)], name="G")
    D = keras.Sequential(
        [keras.Input((dim,)), layers.Dense(8, activation="relu"), layers.Dense(1, activation="sigmoid")], name="D"
    )
    return G, D


def snapshot(model):
    """Copies of every variable of a model (trainable weights and BatchNorm statistics)."""
    return {v.path: np.array(v.numpy(), copy=True) for v in model.weights}


def changed(before, model):
    """Paths of the variables that differ from the snapshot."""
    after = snapshot(model)
    return {k for k in before if not np.array_equal(before[k], after[k])}


@pytest.fixture
def seeded():
    keras.utils.set_random_seed(0)
    return np.random.default_rng(0)
