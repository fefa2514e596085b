"""charrnn: a character-level LSTM/GRU that learns folk tunes in ABC notation and writes new ones.

    import charrnn
    tunes = charrnn.generate(seed="X:", n=3, random_seed=1)   # the pretrained model in weights/
    print(tunes[0].abc)
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

from .corpus import build_corpus, load_corpus  # noqa: E402
from .errors import CharrnnError, UnknownCharactersError  # noqa: E402
from .nn.config import ModelConfig  # noqa: E402
from .nn.data import read_batches  # noqa: E402
from .nn.sampling import SAMPLING  # noqa: E402
from .nn.vocab import Vocabulary  # noqa: E402
from .tune import Tune  # noqa: E402

__all__ = ["ModelConfig", "build_corpus", "load_corpus", "read_batches", "CharrnnError",
           "UnknownCharactersError", "Tune", "Vocabulary", "build_model", "train", "load", "generate"]


def build_model(*args, **kwargs):
    from .nn.model import build_model as _build  # Keras loads only when a model is needed

    return _build(*args, **kwargs)


def train(*args, **kwargs):
    from .training import train as _train

    return _train(*args, **kwargs)


def load(path=None):
    """A reusable trained model (see charrnn.generator.load)."""
    from .generator import load as _load

    return _load(path)


def generate(seed=SAMPLING.seed, n=1, temperature=SAMPLING.temperature, top_k=SAMPLING.top_k,
             top_p=SAMPLING.top_p, max_chars=SAMPLING.max_chars, random_seed=None, model=None):
    """Sample n new tunes as Tune objects (see charrnn.generator.generate)."""
    from .generator import generate as _generate

    return _generate(seed=seed, n=n, temperature=temperature, top_k=top_k, top_p=top_p,
                     max_chars=max_chars, random_seed=random_seed, model=model)
