"""gan_utils.batches: one batched-prediction loop, bit-identical to predict_on_batch slice by slice."""

import keras
import numpy as np
from keras import layers

from gan_utils.batches import batched_predictions, predict_in_batches


def three_input_model():
    """[x (3,), an integer code, y (2,)] -> (n, 4), with BatchNorm (inference mode: its moving statistics)."""
    x, code, y = keras.Input((3,)), keras.Input((), dtype="int32"), keras.Input((2,))
    h = layers.Concatenate()([x, layers.CategoryEncoding(5, output_mode="one_hot")(code), y])
    return keras.Model([x, code, y], layers.BatchNormalization()(layers.Dense(4)(h)))


def test_slices_match_predict_on_batch_and_keep_every_input_aligned():
    keras.utils.set_random_seed(0)
    model = three_input_model()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((25, 3), dtype=np.float32), rng.standard_normal((25, 2), dtype=np.float32)
    code = rng.integers(0, 5, 25).astype(np.int32)
    expected = np.concatenate([np.asarray(model.predict_on_batch([x[i:i + 10], code[i:i + 10], y[i:i + 10]]))
                               for i in range(0, 25, 10)])
    np.testing.assert_array_equal(predict_in_batches(model, [x, code, y], batch_size=10), expected)
    rows = [r for r, _ in batched_predictions(model, (x, code, y), batch_size=10)]
    assert rows == [slice(0, 10), slice(10, 20), slice(20, 30)]


def test_conditional_inputs_and_several_outputs():
    keras.utils.set_random_seed(1)
    z, label = keras.Input((3,)), keras.Input((), dtype="int32")
    h = layers.Concatenate()([z, layers.Flatten()(layers.Embedding(4, 2)(label))])
    model = keras.Model([z, label], [layers.Dense(2)(h), layers.Dense(1)(h)])
    rng = np.random.default_rng(1)
    z_in, labels = rng.standard_normal((7, 3), dtype=np.float32), rng.integers(0, 4, 7).astype(np.int32)
    first, second = predict_in_batches(model, z_in, labels, batch_size=3)
    want = [model.predict_on_batch([z_in[i:i + 3], labels[i:i + 3]]) for i in range(0, 7, 3)]
    np.testing.assert_array_equal(first, np.concatenate([np.asarray(w[0]) for w in want]))
    np.testing.assert_array_equal(second, np.concatenate([np.asarray(w[1]) for w in want]))
    assert first.shape == (7, 2) and second.shape == (7, 1)
