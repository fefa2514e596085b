"""The Keras side of a trained model: built with its weights, and reading held-out text.

    model = load_keras_model(config, "weights/best.weights.h5", "weights/config.json", None, None, False)
    evaluate_lanes(lambda b, s, stateful: load_keras_model(...), ids, batch_size=16, seq_len=128)

Sampling never needs it (charrnn.nn.stepnet runs the weights in NumPy); TensorFlow loads here,
quietly (charrnn.nn.backend), when a Keras model is first asked for.
"""
import warnings

import numpy as np

from ..errors import CharrnnError
from .backend import load_keras


def load_keras_model(config, weights_file, config_file, batch_size, seq_len, stateful):
    """The Keras model of `config` with the weights of `weights_file`; a CharrnnError naming the
    file when they do not fit."""
    load_keras()
    from .model import build_model

    model = build_model(config, batch_size=batch_size, seq_len=seq_len, stateful=stateful)
    try:
        with warnings.catch_warnings():  # Keras warns about what does not fit, then fails: one line
            warnings.simplefilter("ignore")
            model.load_weights(weights_file)
    except FileNotFoundError:
        raise CharrnnError(f"{weights_file}: weights file not found") from None
    except Exception as e:  # h5py/Keras raise OSError, ValueError, KeyError... on bad files
        raise CharrnnError(f"{weights_file}: cannot load these weights into the model of {config_file} "
                           f"(corrupt file or other config): {str(e).splitlines()[0][:200]}") from None
    return model


def evaluate_lanes(build, ids, batch_size, seq_len):
    """Loss, accuracy and bits per character of ids (n,) read in stateful lanes as training
    validates; build(batch_size, seq_len, stateful) gives the Keras model."""
    from .data import make_dataset
    from .model import compile_model, reset_states

    # Short texts get fewer (and shorter) lanes, so every text fills at least one batch.
    seq_len = min(seq_len, len(ids) - 1)
    batch_size = max(1, min(batch_size, (len(ids) - 1) // seq_len))
    model = build(batch_size, seq_len, True)
    compile_model(model)
    reset_states(model)
    result = model.evaluate(make_dataset(ids, batch_size, seq_len), verbose=0, return_dict=True)
    return {"loss": result["loss"], "accuracy": result["accuracy"], "bits_per_char": result["bits_per_char"]}


def evaluate_windows(model, ids, vocab, context, batch_size):
    """The same for a transformer, read in windows of whole tunes as its training validates."""
    from .model import compile_model
    from .windows import make_window_dataset, tune_starts, tune_windows

    starts = tune_starts(ids, vocab)
    if not len(starts) or starts[0] != 0:  # text that does not start at a tune: one window from its start
        starts = np.r_[0, starts]
    x, y, weights = tune_windows(ids, starts, context)
    model = compile_model(model)
    result = model.evaluate(make_window_dataset(x, y, weights, batch_size), verbose=0, return_dict=True)
    # Keras averages the loss per batch; the characters' mean is the weighted metric's.
    bits = result["bits_per_char"]
    return {"loss": bits * np.log(2), "accuracy": result["accuracy"], "bits_per_char": bits}
