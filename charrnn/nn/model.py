"""The char-level recurrent network: Embedding -> L x (LSTM|GRU + Dropout) -> Dense logits
(or, with arch="transformer", charrnn.nn.transformer's model); the loss and metrics of both."""
import math

import keras
from keras import layers

from .config import ModelConfig, resolve_precision
from .lstm import LSTM
from .transformer import build_transformer


def build_model(config: ModelConfig, batch_size=None, seq_len=None, stateful=False, precision="float32"):
    """A Keras model mapping ids (batch, seq_len) to logits (batch, seq_len, vocab_size).

    `stateful=True` needs a fixed batch_size: each of its rows is one lane of text whose
    recurrent state carries over from one call (batch) to the next. `precision="mixed_bfloat16"`
    computes in bfloat16 (fast on CPUs with AMX or AVX512-BF16) and keeps float32 weights, so
    the saved weights are the same either way; the logits are always float32. "auto" picks one
    of the two for this machine (`resolve_precision`).

    The LSTM is charrnn.nn.lstm.LSTM: Keras' layer and weights, with a faster CPU training loop
    when seq_len is fixed.

    A config with arch="transformer" gives charrnn.nn.transformer's model (seq_len and stateful
    do not apply to it: any batch, any length).
    """
    precision = resolve_precision(precision)
    if config.arch == "transformer":  # never stateful; any length up to config.context
        return build_transformer(config, precision=precision)
    ids = keras.Input(batch_shape=(batch_size, seq_len), dtype="int32", name="ids")
    x = layers.Embedding(config.vocab_size, config.embedding, name="embedding", dtype=precision)(ids)  # (B, T, E)
    rnn = LSTM if config.cell == "lstm" else layers.GRU
    for i in range(config.layers):
        x = rnn(config.units, return_sequences=True, stateful=stateful, name=f"{config.cell}_{i}",
                dtype=precision)(x)
        x = layers.Dropout(config.dropout, name=f"dropout_{i}", dtype=precision)(x)  # (B, T, U)
    # Dense on a 3-D tensor acts per time step (what TimeDistributed(Dense) did in Keras 2).
    logits = layers.Dense(config.vocab_size, name="logits", dtype="float32")(x)  # (B, T, V)
    return keras.Model(ids, logits, name=f"charrnn_{config.cell}")


def reset_states(model):
    """Zero the recurrent state of every stateful layer (start of an epoch, a new tune)."""
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_states()


def bits_per_char(y_true, y_pred):
    """Cross-entropy in bits: the loss divided by ln 2 (a metric, logged per epoch)."""
    return keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True) / math.log(2)


def compile_model(model, **options):
    """Compile with the loss and metrics that training logs and evaluation reports (options: optimizer)."""
    # The mean over weighted characters: a transformer's padding (weight 0) does not dilute it.
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight")
    # weighted_metrics, not metrics: Keras applies the sample weights only to those, and the
    # transformer's accuracy and bits per character must leave its padding out as its loss does
    # (with no weights, the RNN's, they are the plain means).
    model.compile(loss=loss, weighted_metrics=["accuracy", bits_per_char], **options)
    build_training_state(model)
    return model


def build_training_state(model):
    """Create the optimizer's slots and the loss's and metrics' totals now, from the model's input
    shape, rather than inside the first trace of fit's or evaluate's step function.

    Keras 3 on TensorFlow without a distribution strategy leaves them to that trace, and a
    tf.function that creates variables is traced twice: about 4 s of every fit and evaluate on a
    2-core CPU, most of a small run's start-up. Trainer._symbolic_build is private (Keras pinned
    in setup.cfg); tests/test_train.py::test_fit_traces_its_step_once notices if it stops building.
    Call it inside the strategy's scope, as compile (the slots go on every replica)."""
    ids = keras.KerasTensor(model.inputs[0].shape, "int32")  # (batch, seq_len); None where any
    model._symbolic_build(data_batch=(ids, ids))
