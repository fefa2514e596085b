"""The Transformer option: windows of whole tunes, the cached NumPy sampler against Keras, the
h5py reader, training with resume, and sampling from a trained run."""
import csv
import sys

import numpy as np
import pytest

import charrnn
from charrnn.cli import main
from charrnn.errors import CharrnnError
from charrnn.nn.attention_step import AttentionStep
from charrnn.nn.checkpoint import read_weights
from charrnn.nn.config import ModelConfig
from charrnn.nn.sampling import softmax
from charrnn.nn.vocab import Vocabulary
from charrnn.nn.windows import tune_starts, tune_windows

TINY = ["--arch", "transformer", "--batch-size", "8", "--layers", "2", "--units", "16", "--heads", "2",
        "--context", "512", "--dropout", "0", "--random-seed", "3"]


def read_log(run):
    with open(run / "log.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_config_validates_and_old_configs_load_unchanged(tmp_path):
    old = tmp_path / "config.json"
    old.write_text('{"vocab_size": 94, "cell": "lstm", "layers": 3, "units": 256, "embedding": 512, "dropout": 0.3}')
    assert ModelConfig.load(old) == ModelConfig(vocab_size=94, dropout=0.3)
    assert ModelConfig.load(old).arch == "rnn"
    for bad, message in (({"arch": "cnn"}, "arch must be"), ({"heads": 3}, "multiple of heads"),
                         ({"context": 0}, "context must be at least 1"), ({"heads": 2.0}, "heads must be a whole")):
        with pytest.raises(CharrnnError, match=message):
            ModelConfig(vocab_size=10, **{"arch": "transformer", **bad})


def test_windows_start_at_tunes_and_weigh_nothing_but_text():
    tunes = ["X:1\nT:a\nK:D\n" + "abc|" * n for n in (3, 40, 10, 300, 5)]  # the fourth passes the window
    text = "\n\n".join(tunes) + "\n"
    vocab = Vocabulary.from_text(text)
    ids = np.array(vocab.encode(text))
    starts = tune_starts(ids, vocab)
    assert [text[s:s + 4] for s in starts] == ["X:1\n"] * 5
    x, y, weights = tune_windows(ids, starts, context=200)
    assert x.shape == y.shape == weights.shape == (4, 200)
    for w in range(len(x)):
        window = vocab.decode(x[w])
        assert window.startswith("X:1\n")
        n = int(weights[w].sum())  # targets that are text: a prefix of the window
        assert weights[w, :n].all() and not weights[w, n:].any()
        assert (np.r_[x[w, 1:], y[w, -1]][:n] == y[w, :n]).all()  # targets are the next characters
        assert (y[w, n:] == 0).all()  # padding only where the weight is 0
    # Whole tunes packed with the blank line after each: the first window holds tunes 1-2 (200 characters).
    assert vocab.decode(x[0, :int(weights[0].sum()) + 1]) == "\n\n".join(tunes[:2]) + "\n\n"
    assert weights[2].all()  # the long tune fills its window alone, cut at 201 characters


@pytest.fixture(scope="module")
def random_transformer(tmp_path_factory, tiny_corpus):
    """A small random-weight transformer saved as Keras saves it, with nonzero biases and norms."""
    import keras

    from charrnn.nn.model import build_model

    vocab = Vocabulary.load(tiny_corpus / "char_to_idx.json")
    config = ModelConfig(vocab_size=len(vocab), arch="transformer", layers=2, units=32, heads=4, context=1024)
    keras.utils.set_random_seed(0)
    model = build_model(config)
    rng = np.random.default_rng(0)
    for w in model.weights:
        w.assign(rng.normal(0, 0.2, w.shape).astype("float32") + (1.0 if "gamma" in w.path else 0.0))
    path = tmp_path_factory.mktemp("transformer") / "w.weights.h5"
    model.save_weights(path)
    return config, vocab, model, path


def test_h5py_reader_gives_what_keras_loads(random_transformer):
    config, _, model, path = random_transformer
    weights = read_weights(path, config)
    keras_weights = {layer.name: layer.get_weights() for layer in model.layers if layer.weights}
    assert weights.keys() == keras_weights.keys()
    for name, arrays in keras_weights.items():
        assert len(weights[name]) == len(arrays)
        for ours, theirs in zip(weights[name], arrays):
            np.testing.assert_array_equal(ours, theirs, err_msg=name)


def test_cached_step_gives_keras_probabilities_on_a_real_tune(random_transformer, tiny_corpus):
    config, vocab, model, path = random_transformer
    tune = (tiny_corpus / "valid.abc").read_text(encoding="utf-8").split("\n\n")[0] + "\n\n"
    ids = np.array(vocab.encode(tune))[None, :]  # (1, T)
    expected = softmax(np.asarray(model(ids), np.float64)[0])  # (T, V), the full Keras pass
    net = AttentionStep(config, read_weights(path, config))
    state = net.initial_state(3)  # three lanes, the same tune: batching changes nothing
    got = np.stack([softmax(net.step(np.repeat(ids[0, t], 3), state).astype(np.float64)) for t in range(ids.shape[1])])
    assert ids.shape[1] > 200
    for lane in range(3):
        np.testing.assert_allclose(got[:, lane], expected, atol=1e-5)
    np.testing.assert_allclose(softmax(net.forward(ids)[0].astype(np.float64)), expected, atol=1e-5)
    # Lanes dropped (s[keep]) and at other positions (a rewound lane) still read their own text.
    state = [[s[[0, 2]] for s in layer] for layer in state]
    state[-1][0] = np.array([ids.shape[1], 10])
    last = net.step(np.array([ids[0, -1], ids[0, 10]]), state)
    np.testing.assert_allclose(softmax(last[1:].astype(np.float64))[0], expected[10], atol=1e-5)
    with pytest.raises(CharrnnError, match="context"):
        full = net.initial_state(1)
        full[-1][0][:] = config.context
        net.step(np.array([0]), full)


def _train(data, out, epochs):
    charrnn.train(data=data, out=out, epochs=epochs, batch_size=8, arch="transformer", layers=2, units=16,
                  heads=2, context=512, dropout=0.0, random_seed=3, verbose=False)


def test_killed_transformer_run_resumes_as_if_never_stopped(tmp_path, tiny_corpus, kill_after_epochs):
    run, whole = tmp_path / "run", tmp_path / "whole"
    cmd = [sys.executable, "-m", "charrnn", "train", "--data", str(tiny_corpus), "--out", str(run),
           "--epochs", "5", *TINY]
    assert 2 <= kill_after_epochs(cmd, run, epochs=2) < 5, "the run finished before it could be killed; make it longer"
    _train(tiny_corpus, run, 5)
    _train(tiny_corpus, whole, 5)
    resumed, uninterrupted = read_log(run), read_log(whole)
    assert [int(r["epoch"]) for r in resumed] == list(range(5))
    for a, b in zip(resumed, uninterrupted):  # the same windows, weights and Adam state: the same run
        assert float(a["loss"]) == pytest.approx(float(b["loss"]), rel=1e-4)
        assert float(a["val_loss"]) == pytest.approx(float(b["val_loss"]), rel=1e-4)
    assert float(resumed[-1]["loss"]) < float(resumed[0]["loss"])  # it learns
    config = ModelConfig.load(run / "config.json")
    assert (config.arch, config.layers, config.units, config.heads, config.context) == ("transformer", 2, 16, 2, 512)
    for name in ("best.weights.h5", "last.weights.h5", "history.png", "train_args.json", "run_state.json"):
        assert (run / name).stat().st_size > 0, name

    # Sampling from the run: the API, the CLI, and the measures that read a model.
    model = charrnn.load(run)
    assert isinstance(model.net, AttentionStep)
    tunes = model.generate(n=3, max_chars=600, random_seed=0)
    assert len(tunes) == 3 and all(t.abc.startswith("X:") and len(t.abc) <= 601 for t in tunes)
    assert [t.abc for t in charrnn.generate(n=3, max_chars=600, random_seed=0, model=run)] == [t.abc for t in tunes]
    assert max(len(t.abc) for t in model.generate(n=2, max_chars=5000, random_seed=1)) <= 513  # context caps
    out = tmp_path / "samples"
    assert main(["generate", "--model", str(run), "-n", "2", "--max-chars", "300", "--random-seed", "0",
                 "--out", str(out)]) == 0
    assert len(list(out.glob("tune_*.abc"))) == 2
    bpc = model.evaluate_bpc((tiny_corpus / "valid.abc").read_text(encoding="utf-8"))
    assert bpc["bits_per_char"] == pytest.approx(float(resumed[-1]["val_bits_per_char"]), rel=1e-3)
