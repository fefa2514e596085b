"""charrnn: a character-level LSTM/GRU that learns folk tunes in ABC notation and writes new ones.

    import charrnn
    tunes = charrnn.generate(n=3, type="jig", key="D", random_seed=1)   # the shipped model
    print(tunes[0].abc)

The names below are the real functions and classes, imported when first used (`import charrnn`
stays quick: TensorFlow loads only for training or a Keras model).
"""
import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ log lines (charrnn.nn.backend hides the rest)

# name -> the module that defines it
_EXPORTS = {
    "generate": "charrnn.generator", "load": "charrnn.generator", "CharModel": "charrnn.generator",
    "train": "charrnn.training", "Tune": "charrnn.tune", "build_corpus": "charrnn.corpus",
    "load_corpus": "charrnn.corpus", "read_batches": "charrnn.nn.data", "build_model": "charrnn.nn.model",
    "ModelConfig": "charrnn.nn.config", "Vocabulary": "charrnn.nn.vocab", "SAMPLING": "charrnn.nn.sampling",
    "CharrnnError": "charrnn.errors", "UnknownCharactersError": "charrnn.errors",
    "similar": "charrnn.similarity",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'charrnn' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # found once; later lookups are plain attribute reads
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
