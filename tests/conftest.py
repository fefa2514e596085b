"""Shared fixtures: a tiny real corpus (one O'Neill's file from music21) and a tiny trained run."""
import pytest

import charrnn
from charrnn.corpus import music21_collection_dir


@pytest.fixture(scope="session")
def oneills_file():
    """A real 50-tune ABC file that music21 ships (O'Neill's 1850, tunes 1-50)."""
    return music21_collection_dir("oneills1850") / "0001-0050.abc"


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory, oneills_file):
    out = tmp_path_factory.mktemp("corpus")
    charrnn.build_corpus([str(oneills_file)], out=out)
    return out


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, tiny_corpus):
    """A run folder of a small 2-layer LSTM trained for 2 epochs (a few seconds)."""
    out = tmp_path_factory.mktemp("run")
    charrnn.train(data=tiny_corpus, out=out, epochs=2, batch_size=8, seq_len=32,
                  layers=2, units=32, embedding=16, verbose=False)
    return out
