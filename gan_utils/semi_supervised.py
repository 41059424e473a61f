"""Semi-supervised GAN (Salimans et al. 2016): D is a K-class classifier, and "real" is the sum of its classes.

D's body ends in K logits l(x), one per class (the classifier). With Salimans et al.'s parametrisation the
"fake" class has the fixed logit 0, so the probability that x is real is

    D(x) = Z(x) / (Z(x) + 1),  Z(x) = sum_k exp(l_k(x)),  i.e. D(x) = sigmoid(logsumexp(l(x))),

and the class probabilities given "real" are softmax(l(x)): the classifier needs no output of its own for
"fake". D's step is one ``train_on_batch`` on ``[labelled, unlabelled, fake]`` with three losses:
cross-entropy of the K logits on the labelled batch (weight 1), binary cross-entropy of D(x) on the
unlabelled batch (target 1) and on G's fakes (target 0), each weighted 1/2 as in the authors' code.
G's step is *feature matching*: G minimises the squared distance between the batch means of an
intermediate layer of D on real and on fake images, through a combined model ``z -> features(G(z))``
whose D layers are frozen (``D.trainable = False`` is recursive: the classifier and the feature model are
D's layers, so they freeze with it).

``SemiSupervisedGAN`` is ``gan_utils.training.GAN`` with these two steps (it overrides ``build_models``,
``d_step`` and ``g_step``); ``fit``, the history, hooks and checkpoints are the trainer's own. Also here: the pieces a semi-supervised lab measures with —
``labelled_subset`` (k labelled examples per class, drawn from a seed), ``shift_images`` (the baseline's
augmentation), ``LinearProbe`` (multinomial logistic regression on frozen features, its L2 weight chosen by
cross-validation on the labelled examples only) and ``export_classifier`` (the class probabilities as a
model built from Keras layers only, loadable with ``safe_mode=True``).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops
from scipy.optimize import minimize

from . import model_checks
from .batches import predict_in_batches
from .checks import as_number, keras_model, positive_int
from .games import BinaryCrossEntropyGame
from .losses import BatchMeanOutput
from .step_models import real_fake_logs
from .training import GAN

NUM_CLASSES = 10


@keras.saving.register_keras_serializable(package="gan_utils")
class LogSumExp(layers.Layer):
    """log(sum_k exp(x_k)) over the last axis, keeping it: (n, K) -> (n, 1). The logit of "real" in an SGAN."""

    def call(self, x):
        return ops.logsumexp(x, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1)


def discriminator_from_classifier(classifier, name="discriminator"):
    """D(x) = sigmoid(logsumexp(l(x))) = Z / (Z + 1) on a classifier ``x -> K logits`` (the classifier's layers, shared)."""
    classifier = keras_model(classifier, "classifier")
    inputs, outputs = model_checks.model_io(classifier, "classifier")
    if len(inputs) != 1 or len(outputs) != 1 or len(outputs[0].shape) != 2 or (outputs[0].shape[-1] or 0) < 2:
        raise ValueError("the classifier must map one image input to K >= 2 logits, shape (n, K); got inputs "
                         f"{[tuple(i.shape) for i in inputs]} and outputs {[tuple(o.shape) for o in outputs]}")
    if model_checks.output_activation(classifier) not in (None, "linear"):
        raise ValueError(f"the classifier must end in logits (no activation), but its last activation is "
                         f"{model_checks.output_activation(classifier)!r}: remove it (Dense(K) without activation)")
    image = keras.Input(inputs[0].shape[1:], name="image")
    real_logit = LogSumExp(name="real_logit")(classifier(image))  # fake class: fixed logit 0
    return keras.Model(image, layers.Activation("sigmoid", name="p_real")(real_logit), name=name)


@keras.saving.register_keras_serializable(package="gan_utils")
class FeatureMatching(keras.losses.Loss):
    """G's feature-matching loss: mean over features of (mean over the fake batch of f(G(z)) - m_real)^2.

    ``y_true``: every row is m_real, the real batch's mean features; ``y_pred``: the fakes' features (n, F).
    The loss is one number for the whole batch, returned once per row so Keras' mean over rows keeps it."""

    def __init__(self, name="feature_matching", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        gap = ops.mean(y_pred, axis=0) - ops.cast(y_true[0], y_pred.dtype)
        return ops.zeros_like(y_pred[:, 0]) + ops.mean(gap * gap)


class SemiSupervisedGame(BinaryCrossEntropyGame):
    """The binary cross-entropy game with feature matching as G's loss (the trainer's checkpoints record it)."""

    def __init__(self, labelled_weight=1.0, unlabelled_weight=0.5):
        super().__init__()
        self.labelled_weight = _weight(labelled_weight, "labelled_weight")
        self.unlabelled_weight = _weight(unlabelled_weight, "unlabelled_weight")

    def g_loss(self):
        return FeatureMatching()

    def config(self):
        return {**super().config(), "semi_supervised": {
            "labelled_weight": self.labelled_weight, "unlabelled_weight": self.unlabelled_weight}}


def _weight(value, name):
    number = as_number(value)
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return number


def _labelled_arrays(x, y, num_classes, sample_shape):
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    if x.ndim < 2 or x.shape[1:] != tuple(sample_shape):
        raise ValueError(f"labelled_x must have shape (n, {', '.join(map(str, sample_shape))}), got {x.shape}")
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labelled_y must be {len(x)} integers (one class per labelled image), got shape "
                         f"{y.shape} and dtype {y.dtype}")
    if not len(x):
        raise ValueError("labelled_x is empty: a semi-supervised GAN needs labelled examples")
    if y.min() < 0 or y.max() >= num_classes:
        raise ValueError(f"labelled_y must lie in 0..{num_classes - 1} (the classifier's {num_classes} logits), "
                         f"got {y.min()}..{y.max()}")
    if not np.all(np.isfinite(x)):
        raise ValueError("labelled_x holds NaN or infinite values")
    return x, y.astype(np.int32)


class SemiSupervisedGAN(GAN):
    """Salimans et al.'s semi-supervised GAN through ``train_on_batch``, D frozen in G's step.

    Args:
        generator: z -> image.
        classifier: image -> K logits (no activation). D is built on it (``discriminator_from_classifier``).
        features: the name of the classifier's layer whose output G matches (feature matching), or a Keras
            model image -> features built on the classifier's layers.
        labelled_x, labelled_y: the labelled images (n, *shape) and their classes (n,) ints in 0..K-1. ``fit``
            gets the unlabelled images.
        labelled_batch: labelled images per D step, drawn without replacement from the labelled set (default:
            all of them; notebook 07's 100 labels make a batch of 100, the size of its unlabelled batches).
        labelled_weight, unlabelled_weight: the weights of D's supervised loss and of each of its two
            real/fake losses (Salimans et al.'s code: 1 and 1/2).
        d_optimizer, g_optimizer, seed, monitor, z_distribution: as ``GAN``. ``monitor`` is off by default:
            in this game D is meant to win (feature matching does not ask G to fool it).

    ``history`` gets two more lists: ``labelled_loss`` and ``labelled_accuracy`` of D's step (on the labelled
    batch, training mode), one per generator step; checkpoints keep them with the rest of the history.
    """

    def __init__(self, generator, classifier, features, labelled_x, labelled_y, *, labelled_batch=None,
                 labelled_weight=1.0, unlabelled_weight=0.5, d_optimizer=None, g_optimizer=None,
                 z_distribution="normal", seed=0, monitor=False):
        self.classifier = keras_model(classifier, "classifier")
        discriminator = discriminator_from_classifier(classifier)
        self.num_labels = int(self.classifier.outputs[0].shape[-1])
        self.features = self._feature_model(features)
        self.game_weights = SemiSupervisedGame(labelled_weight, unlabelled_weight)
        self.labelled_x, self.labelled_y = _labelled_arrays(labelled_x, labelled_y, self.num_labels,
                                                            discriminator.inputs[0].shape[1:])
        self.labelled_batch = len(self.labelled_x) if labelled_batch is None else positive_int(
            labelled_batch, "labelled_batch")
        if self.labelled_batch > len(self.labelled_x):
            raise ValueError(f"labelled_batch={labelled_batch} is more than the {len(self.labelled_x)} labelled "
                             "images; draw at most as many as there are")
        super().__init__(generator, discriminator, game=self.game_weights, d_optimizer=d_optimizer,
                         g_optimizer=g_optimizer, z_distribution=z_distribution, seed=seed, monitor=monitor)
        self.history.update(labelled_loss=[], labelled_accuracy=[])

    def _feature_model(self, features):
        if isinstance(features, str):
            try:
                layer = self.classifier.get_layer(features)
            except ValueError:
                names = [layer.name for layer in self.classifier.layers]
                raise ValueError(f"the classifier has no layer {features!r}; its layers are {names}") from None
            return keras.Model(self.classifier.inputs[0], layer.output, name="features")
        features = keras_model(features, "features")
        own = {id(v) for v in self.classifier.weights}
        if not features.weights or any(id(v) not in own for v in features.weights):
            raise ValueError("the features model must be built on the classifier's own layers (e.g. "
                             "keras.Model(classifier.inputs, classifier.get_layer(name).output)): G matches what D sees")
        return features

    def build_models(self):
        """D's step model [labelled, unlabelled, fake] -> [logits, D(unlabelled), D(fake)]; G's model z -> f(G(z))."""
        D, game = self.discriminator, self.game_weights
        shape = D.inputs[0].shape[1:]
        labelled, unlabelled, fake = (keras.Input(shape, name=f"{n}_images") for n in ("labelled", "unlabelled", "fake"))
        outputs = {"labelled": layers.Identity(name="labelled")(self.classifier(labelled)),
                   "real": layers.Identity(name="real")(D(unlabelled)),
                   "fake": layers.Identity(name="fake")(D(fake))}
        d_model = keras.Model([labelled, unlabelled, fake], outputs, name="sgan_d_step")
        z = keras.Input((self.latent_dim,), name="z")
        feature_matching = keras.Model(z, self.features(self.generator(z)), name="feature_matching")
        bce = keras.losses.BinaryCrossentropy()
        self.compile_step_models(
            d_model, feature_matching,
            d_loss={"labelled": keras.losses.SparseCategoricalCrossentropy(from_logits=True), "real": bce, "fake": bce},
            d_loss_weights={"labelled": game.labelled_weight, "real": game.unlabelled_weight,
                            "fake": game.unlabelled_weight},
            d_metrics={"labelled": ["accuracy"], "real": [BatchMeanOutput()], "fake": [BatchMeanOutput()]},
            g_loss=game.g_loss())

    def d_step(self, real, labels=None):
        """One D update on a labelled batch, the unlabelled batch ``real`` and as many fresh fakes."""
        n = len(real)
        pick = self.rng.choice(len(self.labelled_x), self.labelled_batch, replace=False)
        real_targets, fake_targets = self.game.d_targets(n, self.rng)
        fake, _, _ = self.fakes(n)  # G in inference mode
        logs = self.update_discriminator(
            [self.labelled_x[pick], real, fake],
            {"labelled": self.labelled_y[pick], "real": real_targets, "fake": fake_targets})
        return {**real_fake_logs(logs), "labelled_loss": logs["labelled_loss"],
                "labelled_accuracy": logs["labelled_accuracy"]}

    def g_step(self, n, real=None):
        """One G update by feature matching against the real batch ``real`` (the one D's step just saw), D frozen."""
        if real is None:
            raise ValueError("G's step matches the features of a real batch: pass the batch D's step saw, "
                             "train_generator(n, real=batch)")
        # the real batch's features as D computes them in training (its noise and Dropout on), like the fakes'
        real_mean = np.mean(ops.convert_to_numpy(self.features(real, training=True)), axis=0)
        feature_targets = np.broadcast_to(real_mean, (n, real_mean.shape[-1]))
        return {"g_loss": self.update_generator(self.sample_z(n, self.rng), feature_targets)}

    def classify(self, x, batch_size=1000):
        """Class probabilities (n, K) of images ``x`` (the fake class removed: softmax of the K logits)."""
        return softmax(predict_in_batches(self.classifier, np.asarray(x, np.float32), batch_size=batch_size))


def softmax(logits):
    logits = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def export_classifier(classifier, name="sgan_classifier"):
    """A model image -> K class probabilities: the classifier's logits through a softmax (with Salimans et
    al.'s parametrisation, exactly the K real classes' probabilities with "fake" removed and the rest
    renormalised). Built from Keras layers only, so it loads with ``safe_mode=True``."""
    classifier = keras_model(classifier, "classifier")
    image = keras.Input(classifier.inputs[0].shape[1:], name="image")
    return keras.Model(image, layers.Softmax(name="probabilities")(classifier(image)), name=name)


def labelled_subset(labels, per_class, rng, num_classes=NUM_CLASSES):
    """Indices of ``per_class`` examples of each class, drawn without replacement from ``rng`` (sorted)."""
    labels = np.asarray(labels)
    per_class = positive_int(per_class, "per_class")
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    chosen = []
    for k in range(num_classes):
        pool = np.flatnonzero(labels == k)
        if len(pool) < per_class:
            raise ValueError(f"class {k} has {len(pool)} examples, fewer than per_class={per_class}")
        chosen.append(rng.choice(pool, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def shift_images(images, rng, max_shift=2, fill=-1.0):
    """Each image moved by a random whole-pixel shift in [-max_shift, max_shift] on each axis (the
    standard MNIST augmentation), the uncovered border filled with ``fill`` (background: -1 in [-1, 1])."""
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape[:3]
    padded = np.full((n, h + 2 * max_shift, w + 2 * max_shift, *images.shape[3:]), fill, np.float32)
    padded[:, max_shift:max_shift + h, max_shift:max_shift + w] = images
    dy, dx = rng.integers(0, 2 * max_shift + 1, (2, n))
    out = np.empty_like(images)
    for i in range(n):
        out[i] = padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
    return out


class LinearProbe:
    """Multinomial logistic regression on frozen features, fitted by L-BFGS (SciPy), features standardised
    with the training set's mean and std. ``l2`` None: chosen from ``l2_grid`` by ``folds``-fold
    cross-validation on the training examples (the test set is never looked at)."""

    def __init__(self, l2=None, l2_grid=(1e-4, 1e-2, 1.0), folds=3, max_iter=200, num_classes=NUM_CLASSES):
        self.l2, self.l2_grid, self.folds = l2, tuple(l2_grid), positive_int(folds, "folds")
        self.max_iter, self.num_classes = positive_int(max_iter, "max_iter"), positive_int(num_classes, "num_classes")

    def _check(self, features, labels=None):
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or not np.all(np.isfinite(features)):
            raise ValueError(f"features must be a finite 2-D array (n, F), got shape {features.shape}")
        if labels is None:
            return features
        labels = np.asarray(labels)
        if labels.shape != (len(features),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be {len(features)} integers, got shape {labels.shape} {labels.dtype}")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(f"labels must lie in 0..{self.num_classes - 1}")
        return features, labels

    def _solve(self, x, y, l2):
        n, f = x.shape
        k = self.num_classes
        onehot = np.eye(k)[y]

        def loss_and_grad(theta):
            w, b = theta[: f * k].reshape(f, k), theta[f * k:]
            logits = x @ w + b
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            loss = -np.sum(onehot * np.log(p + 1e-12)) / n + 0.5 * l2 * np.sum(w * w)
            g = (p - onehot) / n
            return loss, np.concatenate([(x.T @ g + l2 * w).ravel(), g.sum(axis=0)])

        result = minimize(loss_and_grad, np.zeros(f * k + k), jac=True, method="L-BFGS-B",
                          options={"maxiter": self.max_iter})
        return result.x[: f * k].reshape(f, k), result.x[f * k:]

    def fit(self, features, labels):
        features, labels = self._check(features, labels)
        self.mean = features.mean(axis=0)
        self.std = features.std(axis=0) + 1e-6
        x = (features - self.mean) / self.std
        if self.l2 is None:
            folds = np.arange(len(x)) % self.folds
            np.random.default_rng(0).shuffle(folds)
            scores = []
            for l2 in self.l2_grid:
                correct = 0
                for fold in range(self.folds):
                    w, b = self._solve(x[folds != fold], labels[folds != fold], l2)
                    correct += np.sum(np.argmax(x[folds == fold] @ w + b, axis=1) == labels[folds == fold])
                scores.append(correct / len(x))
            self.cv_accuracy = dict(zip(self.l2_grid, scores))
            self.chosen_l2 = self.l2_grid[int(np.argmax(scores))]
        else:
            self.chosen_l2 = float(self.l2)
        self.w, self.b = self._solve(x, labels, self.chosen_l2)
        return self

    def predict(self, features):
        x = (self._check(features) - self.mean) / self.std
        return np.argmax(x @ self.w + self.b, axis=1)

    def accuracy(self, features, labels):
        return float(np.mean(self.predict(features) == np.asarray(labels)))
