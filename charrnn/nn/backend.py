"""TensorFlow and Keras, imported once and quietly.

    keras = load_keras()   # the first call imports TensorFlow (seconds); later calls are free

TensorFlow's C++ runtime writes its start-up lines (absl's and oneDNN's) straight to file
descriptor 2, whatever TF_CPP_MIN_LOG_LEVEL says, so they are kept off the terminal while it
loads; set CHARRNN_VERBOSE=1 (or `charrnn train --verbose`) to see them.
"""
import contextlib
import os
import sys

VERBOSE_ENV = "CHARRNN_VERBOSE"


@contextlib.contextmanager
def _stderr_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def load_keras():
    """The keras module, TensorFlow imported with it (quietly unless CHARRNN_VERBOSE is set)."""
    if "keras" in sys.modules or os.environ.get(VERBOSE_ENV):
        import keras
        return keras
    with _stderr_silenced():
        import keras
        import tensorflow  # noqa: F401 (its runtime starts here, and prints here)
    return keras
