"""Weights read with h5py equal what Keras loads; sampling imports neither TensorFlow nor music21."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import charrnn
from charrnn.generator import CharModel, default_weights_dir
from charrnn.nn.checkpoint import read_weights

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained_gru_run(tmp_path_factory, tiny_corpus):
    """A small 2-layer GRU trained for one epoch (its weights are no longer the initial ones)."""
    out = tmp_path_factory.mktemp("gru_run")
    charrnn.train(data=tiny_corpus, out=out, epochs=1, batch_size=8, seq_len=32, cell="gru",
                  layers=2, units=24, embedding=12, verbose=False)
    return out


def keras_weights(model):
    return {layer.name: layer.get_weights() for layer in model.keras_model.layers if layer.weights}


@pytest.mark.parametrize("which", ["shipped", "gru", "lstm"])
def test_h5py_weights_equal_what_keras_loads(which, trained_gru_run, tiny_run):
    folder = {"shipped": default_weights_dir(), "gru": trained_gru_run, "lstm": tiny_run}[which]
    model = CharModel(folder)
    ours = read_weights(model.weights_file, model.config)
    theirs = keras_weights(model)
    assert ours.keys() == theirs.keys()
    for name in theirs:
        assert len(ours[name]) == len(theirs[name])
        for a, b in zip(ours[name], theirs[name]):
            assert a.dtype == b.dtype == np.float32 and a.shape == b.shape
            assert np.array_equal(a, b), name


def test_weights_of_a_deeper_model_are_refused(tmp_path, tiny_run):
    config = charrnn.ModelConfig.load(tiny_run / "config.json")
    fewer = charrnn.ModelConfig(**{**config.__dict__, "layers": config.layers - 1})
    with pytest.raises(ValueError, match="does not have"):
        read_weights(tiny_run / "best.weights.h5", fewer)


def test_sampling_imports_neither_tensorflow_nor_music21(tiny_run):
    code = ("import sys, charrnn; t = charrnn.generate(n=2, max_chars=80, random_seed=0, model=sys.argv[1]); "
            "print(sorted(m for m in ('tensorflow', 'keras', 'music21') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(tiny_run)], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"
