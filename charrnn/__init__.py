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
from .vocab import Vocabulary  # noqa: E402


def build_model(*args, **kwargs):
    from .model import build_model as _build  # Keras loads only when a model is needed

    return _build(*args, **kwargs)


def train(*args, **kwargs):
    from .train import train as _train

    return _train(*args, **kwargs)
