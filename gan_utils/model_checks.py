"""Checks of the models, optimizers and data a ``GAN`` is given, run before anything is compiled or trained.

Each catches a mistake that Keras accepts and trains on without a word (G and D swapped, a
discriminator that outputs logits, a layer shared by G and D, a negative learning rate, images in
[0, 255] for a tanh generator...) and raises, or warns, with a message that says what to fix.
"""

from __future__ import annotations

import math
import warnings

import keras
import numpy as np


class ModelWarning(UserWarning):
    """A model or an option that trains, but not as the user probably expects."""


def model_io(model, name):
    """(inputs, outputs) of a functional or Sequential model; a clear error for a model without them."""
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise ValueError(
            f"the {name} ({type(model).__name__}) has no defined inputs and outputs: the trainer needs their "
            "shapes before training. Build it with the functional API or as keras.Sequential starting with "
            "keras.Input(shape=...); a subclassed keras.Model can be wrapped: "
            "x = keras.Input(shape); keras.Model(x, model(x))")
    return inputs, outputs


def sublayers(model):
    """Every layer inside ``model`` (nested models included, each once), parents before children."""
    return list(model._flatten_layers(include_self=False, recursive=True))


def check_distinct(generator, discriminator, other="the discriminator"):
    """G and D (or ``other``, e.g. InfoGAN's Q) must have no layer or weight in common: each is trained in its own step."""
    if generator is discriminator:
        raise ValueError(f"the generator and {other} are the same model; pass two different models")
    g_layers = {id(layer): layer for layer in sublayers(generator)}
    shared = [layer.name for layer in sublayers(discriminator) if id(layer) in g_layers]
    if shared:
        raise ValueError(
            f"the generator and {other} share the layer(s) {shared}: D's step would also change G "
            "and G's step would freeze them. Give each model its own layers")
    g_vars = {id(v) for v in generator.weights}
    tied = [v.path for v in discriminator.weights if id(v) in g_vars]
    if tied:
        raise ValueError(f"the generator and {other} share the weight(s) {tied}; give each its own")


def output_activation(model):
    """The name of the activation that produces the model's first output, or None if it cannot be told.

    Looks at the layer that makes the output: an ``Activation`` layer, or a layer with an
    ``activation`` argument (Dense, Conv2D...); ``"linear"`` when that layer has none.
    """
    try:
        layer = model.outputs[0]._keras_history.operation
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    name = getattr(activation, "__name__", None) or str(activation)
    return {"linear": "linear", "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax"}.get(name, name)


_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


def output_range(model):
    """(low, high) of the model's output if its last activation bounds it (tanh, sigmoid), else None."""
    return _RANGES.get(output_activation(model))


def check_optimizer(optimizer, name):
    """A ``keras.optimizers.Optimizer`` instance with a finite learning rate >= 0."""
    if isinstance(optimizer, str):
        raise TypeError(
            f"{name} must be an optimizer instance, got the string {optimizer!r}: pass e.g. "
            f"{name}=keras.optimizers.Adam(2e-4, beta_1=0.5) (each model needs its own instance)")
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(f"{name} must be a keras.optimizers.Optimizer, got {type(optimizer).__name__}")
    if isinstance(optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return optimizer  # a schedule: its values are the schedule's business
    rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    if not (math.isfinite(rate) and rate >= 0):  # 0 is allowed: a model held fixed on purpose
        raise ValueError(f"{name} has learning rate {rate:.3g}; it must be a finite number >= 0 (e.g. 2e-4)")
    return optimizer


def check_embeddings(model, name, num_classes):
    """Every Embedding of a conditional model must have a row for each of the ``num_classes`` labels."""
    for layer in sublayers(model):
        if isinstance(layer, keras.layers.Embedding) and layer.input_dim < num_classes:
            raise ValueError(
                f"the {name}'s Embedding {layer.name!r} has input_dim={layer.input_dim} but num_classes="
                f"{num_classes}: labels up to {num_classes - 1} would index past its table. Use "
                f"Embedding({num_classes}, ...) or pass num_classes={layer.input_dim}")


def warn_batchnorm(discriminator):
    """Warn about BatchNormalization in D: frozen in G's step, it scores fakes with other statistics."""
    found = [layer.name for layer in sublayers(discriminator) if isinstance(layer, keras.layers.BatchNormalization)]
    if found:
        warnings.warn(
            f"the discriminator contains BatchNormalization ({', '.join(found)}). In G's step D is frozen, and a "
            "frozen Keras 3 BatchNormalization normalises with its moving statistics, while in D's own step it "
            "uses the batch's: D scores the same fakes differently in the two steps, so G is trained against a "
            "D that D's step never produced. Prefer no normalisation in D (Dropout, as in the DCGAN notebooks), "
            "LayerNormalization, or spectral normalisation", ModelWarning, stacklevel=3)


def check_discriminator_output(game, generator, discriminator):
    """D's last activation against the game (e.g. a sigmoid for binary cross-entropy), and G/D swapped."""
    d_act, g_act = output_activation(discriminator), output_activation(generator)
    problem = game.output_activation_problem(d_act)
    if problem is None:
        return
    swapped = ""
    if game.output_activation_problem(g_act) is None and generator.outputs[0].shape[1:] == (1,):
        swapped = (" The generator's output looks like a discriminator's: are G and D swapped? "
                   "GAN(generator, discriminator) takes G first.")
    raise ValueError(f"the discriminator's output {problem}.{swapped}")


def check_data_range(data, generator, name="data"):
    """Real samples must lie in the range of G's bounded output (tanh: [-1, 1]); a clear error if not."""
    bounds = output_range(generator)
    if bounds is None or not len(data):
        return
    view = data[:: max(1, len(data) // 2048)]  # a strided subset: cheap for 60,000 images
    low, high = float(np.min(view)), float(np.max(view))
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{name} contains NaN or infinite values")
    slack = 1e-3 * (bounds[1] - bounds[0])
    act = output_activation(generator)
    if low < bounds[0] - slack or high > bounds[1] + slack:
        fix = "x / 127.5 - 1 for 8-bit images" if act == "tanh" else "x / 255 for 8-bit images"
        raise ValueError(
            f"{name} range from {low:g} to {high:g}, but the generator ends with {act} and outputs values in "
            f"[{bounds[0]:g}, {bounds[1]:g}]: D would tell real from fake by the range alone. Scale the data to "
            f"the generator's range ({fix})")
    if act == "tanh" and low >= 0.0 and high > 0.5:
        warnings.warn(
            f"{name} lie in [{low:g}, {high:g}] but the generator's tanh outputs [-1, 1]: if these are images in "
            "[0, 1], scale them with 2 * x - 1 (gan_utils.data.load_mnist() returns [-1, 1])",
            ModelWarning, stacklevel=3)


def check_models(generator, discriminator, d_optimizer, g_optimizer, num_classes):
    """Everything about the models and optimizers that Keras would accept and train on silently."""
    check_distinct(generator, discriminator)
    if d_optimizer is not None and d_optimizer is g_optimizer:
        raise ValueError("d_optimizer and g_optimizer are the same object; Keras 3 cannot share one optimizer "
                         "between two models: pass two instances")
    for optimizer, name in ((d_optimizer, "d_optimizer"), (g_optimizer, "g_optimizer")):
        if optimizer is not None:
            check_optimizer(optimizer, name)
    if num_classes is not None:
        for model, name in ((generator, "generator"), (discriminator, "discriminator")):
            check_embeddings(model, name, num_classes)
    warn_batchnorm(discriminator)


def model_shapes(generator, discriminator, conditional, game):
    """(latent_dim, sample_shape) of G and D after checking that they fit each other and the game."""
    n_in = 2 if conditional else 1
    kind = "conditional (num_classes is set)" if conditional else "unconditional"
    for model, name, what in ((generator, "generator", "[z, label]"), (discriminator, "discriminator", "[sample, label]")):
        model_io(model, name)
        if len(model.inputs) != n_in:
            raise ValueError(
                f"the {name} has {len(model.inputs)} input(s) but a {kind} GAN needs {what if conditional else 'one'}; "
                + ("pass num_classes=None" if conditional else "pass num_classes=K for a conditional GAN"))
    z_shape = tuple(generator.inputs[0].shape[1:])
    if len(z_shape) != 1 or z_shape[0] is None:
        raise ValueError(f"the generator's z input must have shape (latent_dim,), got {z_shape}")
    sample_shape = tuple(generator.outputs[0].shape[1:])
    d_shape = tuple(discriminator.inputs[0].shape[1:])
    if sample_shape != d_shape:
        raise ValueError(f"the generator's output shape {sample_shape} does not match the discriminator's "
                         f"input shape {d_shape}")
    game.check_output(discriminator.outputs[0].shape[1:])
    check_discriminator_output(game, generator, discriminator)
    game.check_latent_dim(int(z_shape[0]))
    return int(z_shape[0]), sample_shape


def check_trainable(generator, discriminator):
    """Both models must have trainable weights, or one of them could not learn."""
    for model, name in ((discriminator, "discriminator"), (generator, "generator")):
        if not model.trainable_weights:
            raise ValueError(f"the {name} has no trainable weights; it could not learn")
