"""charrnn: a character-level LSTM/GRU that learns folk tunes in ABC notation and writes new ones.

    import charrnn
    tunes = charrnn.generate(seed="X:", n=3, random_seed=1)   # the pretrained model in weights/
    print(tunes[0].abc)
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

from .config import ModelConfig  # noqa: E402
from .corpus import build_corpus, load_corpus  # noqa: E402
from .data import read_batches  # noqa: E402
from .errors import CharrnnError, UnknownCharactersError  # noqa: E402
from .tune import Tune  # noqa: E402
from .vocab import Vocabulary  # noqa: E402

__all__ = ["ModelConfig", "build_corpus", "load_corpus", "read_batches", "CharrnnError",
           "UnknownCharactersError", "Tune", "Vocabulary", "build_model", "train", "load", "generate"]


def build_model(*args, **kwargs):
    from .model import build_model as _build  # Keras loads only when a model is needed

    return _build(*args, **kwargs)


def train(*args, **kwargs):
    from .training import train as _train

    return _train(*args, **kwargs)


def load(path=None):
    """A reusable trained model (see charrnn.generator.load)."""
    from .generator import load as _load

    return _load(path)


def generate(seed="X:", n=1, temperature=1.0, top_k=None, top_p=None, max_chars=2000,
             random_seed=None, model=None):
    """Sample n new tunes as Tune objects (see charrnn.generator.generate)."""
    from .generator import generate as _generate

    return _generate(seed=seed, n=n, temperature=temperature, top_k=top_k, top_p=top_p,
                     max_chars=max_chars, random_seed=random_seed, model=model)
