"""The models the trainer's steps train, built around G and D: the combined model D(G(z)) of G's step."""

from __future__ import annotations

import keras

from .batches import model_inputs


def build_compiled_state(model, targets):
    """Create a compiled model's metric and loss-tracker variables now, as Keras does on JAX and torch.

    On TensorFlow Keras creates them inside the first traced train step (of a model with several outputs),
    and a step that creates variables is traced twice. ``_symbolic_build`` is Keras' own build on symbolic
    tensors; where a Keras version lacks it, the first step builds them as before (only slower).
    """
    build = getattr(model, "_symbolic_build", None)
    if build is not None:
        build(data_batch=(model.inputs, targets, None))


def real_fake_logs(logs):
    """The trainer's D logs from a one-call D step whose outputs are named ``real`` and ``fake`` (each with
    ``BatchMeanOutput``): ``d_loss_real``, ``d_loss_fake``, ``d_real``, ``d_fake``."""
    return {"d_loss_real": logs["real_loss"], "d_loss_fake": logs["fake_loss"], "d_real": logs["real_mean_output"],
            "d_fake": logs["fake_mean_output"]}


def combined_model(generator, discriminator, latent_dim, conditional, noise_layer=None):
    """The model D(G(z)) (conditional: D(G(z, y), y)) through which G is trained; ``noise_layer`` before D."""
    z_in = keras.Input((latent_dim,), name="z")
    y_in = keras.Input((), dtype="int32", name="label") if conditional else None
    fake = generator(model_inputs(z_in, y_in))
    d_in = noise_layer(fake) if noise_layer is not None else fake  # instance noise on D's fake input, as in D's step
    return keras.Model(model_inputs(z_in, y_in), discriminator(model_inputs(d_in, y_in)), name="combined")
