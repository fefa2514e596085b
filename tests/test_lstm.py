"""charrnn.nn.lstm.LSTM: the same function, gradients and weights as keras.layers.LSTM; `auto` precision."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from charrnn.nn.config import resolve_precision
from charrnn.nn.lstm import LSTM


def outputs_and_gradients(layer, x, weights):
    """Sequence outputs and d(loss)/d(x, kernel, recurrent_kernel, bias) for a fixed projection loss."""
    layer.build(x.shape)
    layer.set_weights(weights)
    x = tf.constant(x)
    projection = tf.constant(np.linspace(-1, 1, layer.units, dtype="float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.cast(layer(x), tf.float32)  # (B, T, U)
        loss = tf.reduce_sum(y * projection)
    grads = tape.gradient(loss, [x, *layer.trainable_variables])
    return [y.numpy()] + [np.asarray(g, dtype="float32") for g in grads]


@pytest.fixture
def case():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 17, 5)).astype("float32")  # (B, T, in)
    weights = [0.4 * rng.standard_normal(shape).astype("float32") for shape in ((5, 32), (8, 32), (32,))]
    return x, weights


def test_same_outputs_and_gradients_as_keras_lstm(case):
    x, weights = case
    ours = outputs_and_gradients(LSTM(8, return_sequences=True), x, weights)
    theirs = outputs_and_gradients(keras.layers.LSTM(8, return_sequences=True), x, weights)
    for name, a, b in zip(("outputs", "d_x", "d_kernel", "d_recurrent_kernel", "d_bias"), ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)


def test_bfloat16_products_stay_close_to_float32(case):
    x, weights = case
    ours = outputs_and_gradients(LSTM(8, return_sequences=True, dtype="mixed_bfloat16"), x, weights)
    exact = outputs_and_gradients(keras.layers.LSTM(8, return_sequences=True), x, weights)
    for name, a, b in zip(("outputs", "d_x", "d_kernel", "d_recurrent_kernel", "d_bias"), ours, exact):
        assert np.abs(a - b).max() <= 0.03 * np.abs(b).max(), name  # bfloat16 keeps 8 bits of mantissa


def test_stateful_layer_carries_state_like_one_long_sequence(case):
    x, weights = case
    whole = LSTM(8, return_sequences=True)
    whole.build(x.shape)
    whole.set_weights(weights)
    halves = LSTM(8, return_sequences=True, stateful=True)
    halves.build((3, 8, 5))
    halves.set_weights(weights)
    first, second = halves(x[:, :8]), halves(x[:, 8:16])  # the second call starts where the first ended
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole(x[:, :16]), rtol=1e-5, atol=1e-6)


def test_unfixed_length_runs_keras_loop_with_same_result(case):
    x, weights = case
    inputs = keras.Input((None, 5))
    model = keras.Model(inputs, LSTM(8, return_sequences=True)(inputs))
    model.layers[-1].set_weights(weights)
    reference = keras.layers.LSTM(8, return_sequences=True)
    reference.build(x.shape)
    reference.set_weights(weights)
    np.testing.assert_allclose(model(x), reference(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("flags, expected", [("fpu sse avx512f amx_bf16 amx_tile", "mixed_bfloat16"),
                                             ("fpu sse avx512f avx512_bf16", "mixed_bfloat16"),
                                             ("fpu sse avx2 fma", "float32")])
def test_auto_precision_follows_the_cpus_bfloat16_units(tmp_path, flags, expected):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    assert resolve_precision("auto", cpuinfo=cpuinfo, has_gpu=False) == expected
    assert resolve_precision("auto", cpuinfo=cpuinfo, has_gpu=True) == "float32"  # cuDNN's LSTM
    assert resolve_precision("auto", cpuinfo=tmp_path / "missing", has_gpu=False) == "float32"
    assert resolve_precision("float32", cpuinfo=cpuinfo, has_gpu=False) == "float32"


def test_training_takes_the_fast_path(monkeypatch):
    """Fails when a tiny fit does not run charrnn.nn.lstm's own loop: when Keras stops calling the
    private `inner_loop` hook the layer overrides, or the layer stops choosing the fast path.
    (The tests above would still pass then: Keras' loop computes the same numbers, only slower.)"""
    if tf.config.list_logical_devices("GPU"):
        pytest.skip("on a GPU the layer leaves training to Keras' cuDNN LSTM")
    from charrnn.nn import lstm as lstm_module
    from charrnn.nn.config import ModelConfig
    from charrnn.nn.model import build_model, compile_model

    calls = []
    fast = lstm_module._lstm

    def counted(*args):
        calls.append(args[0].shape)
        return fast(*args)

    monkeypatch.setattr(lstm_module, "_lstm", counted)
    model = build_model(ModelConfig(vocab_size=5, layers=2, units=4, embedding=3), batch_size=2, seq_len=6,
                        stateful=True)
    compile_model(model, optimizer="adam")
    calls.clear()  # building the model may trace the layer; what counts is the training step
    ids = np.zeros((4, 6), dtype="int32")
    model.fit(ids, ids, batch_size=2, epochs=1, shuffle=False, verbose=0)
    assert len(calls) >= 2, "training ran Keras' own LSTM loop, not charrnn.nn.lstm's fast path"
    assert all(shape[1] == 6 for shape in calls)  # whole sequences of seq_len steps
