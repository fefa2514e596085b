"""The NumPy step generator matches the Keras batch-1 stateful generator; sampling behaves."""
import numpy as np
import pytest

import charrnn
from charrnn.errors import CharrnnError
from charrnn.generator import CharModel
from charrnn.nn.model import build_model
from charrnn.abc.text import split_tunes
from charrnn.corpus import START_TUNE_CHARS, START_TUNES
from charrnn.nn.sampling import (START_FILE, WARM_SEED, StartStates, StartTunes, next_char_probs, sample_tunes,
                                 softmax, warm_up)


@pytest.fixture(scope="module")
def gru_run(tmp_path_factory, tiny_corpus):
    """A GRU run folder with freshly initialised (untrained, random) weights."""
    run = tmp_path_factory.mktemp("gru")
    vocab = charrnn.load_corpus(tiny_corpus).vocab
    config = charrnn.ModelConfig(vocab_size=len(vocab), cell="gru", layers=3, units=24, embedding=12)
    config.save(run / "config.json")
    vocab.save(run / "char_to_idx.json")
    build_model(config).save_weights(run / "best.weights.h5")
    return run


@pytest.mark.parametrize("which", ["lstm", "gru"])
def test_numpy_step_matches_keras_batch1_stateful_generator(which, tiny_run, gru_run, tiny_corpus):
    model = CharModel(tiny_run if which == "lstm" else gru_run)
    assert model.config.cell == which
    text = charrnn.load_corpus(tiny_corpus).valid_tunes[0][:150]  # a real tune
    ids = model.vocab.encode(text)
    keras_gen = model.keras_generator()
    state = model.net.initial_state(1)
    worst = 0.0
    for i in ids:
        keras_probs = softmax(np.asarray(keras_gen(np.array([[i]], dtype="int32"), training=False))[0, 0])
        numpy_probs = softmax(model.net.step(np.array([i]), state)[0])
        worst = max(worst, np.abs(keras_probs - numpy_probs).max())
    assert worst < 1e-5


@pytest.mark.parametrize("which", ["lstm", "gru"])
def test_numpy_lanes_match_keras_after_other_lanes_drop(which, tiny_run, gru_run, tiny_corpus):
    """Three lanes read three tunes; after 40 steps the first and last finish and their rows are
    dropped, as the sampler drops them (`_drop_finished`). The middle lane's probabilities stay
    those of the Keras batch-1 generator reading its tune alone, to 1e-5."""
    model = CharModel(tiny_run if which == "lstm" else gru_run)
    tunes = charrnn.load_corpus(tiny_corpus).valid_tunes[:3]
    ids = np.stack([model.vocab.encode(t[:120]) for t in tunes])  # (3, 120)
    keras_gen = model.keras_generator()
    state = model.net.initial_state(3)
    worst = 0.0
    for t in range(ids.shape[1]):
        if t == 40:
            state = [[s[[1]] for s in layer] for layer in state]  # lanes 0 and 2 finished
        lane_ids = ids[:, t] if t < 40 else ids[1:2, t]
        numpy_probs = softmax(model.net.step(lane_ids, state)[0 if t >= 40 else 1])
        keras_probs = softmax(np.asarray(keras_gen(np.array([[ids[1, t]]], dtype="int32"), training=False))[0, 0])
        worst = max(worst, np.abs(keras_probs - numpy_probs).max())
    assert worst < 1e-5


def test_same_random_seed_same_tunes_and_batched_lanes_stop_on_their_own(tiny_run):
    model = charrnn.load(tiny_run)
    a = model.generate(n=4, random_seed=3, max_chars=300)
    b = charrnn.generate(n=4, random_seed=3, max_chars=300, model=tiny_run)
    assert [t.abc for t in a] == [t.abc for t in b]
    assert [t.abc for t in model.generate(n=4, random_seed=4, max_chars=300)] != [t.abc for t in a]
    for tune in a:
        assert tune.abc.startswith("X:") and len(tune.abc) <= 300
        assert "\n\n" not in tune.abc and "\nX:" not in tune.abc


def test_start_states_are_warm_up_tunes_written_once_and_shared_round_robin(tiny_run):
    model = CharModel(tiny_run)
    start = StartStates(model.net, model.vocab, max_chars=300)
    one = start.take(1)
    assert len(start._blocks) == 1  # one lane needs one warm-up tune, as before
    # The first block is warm_up's state for its own seed: one lane's blank line, tune, blank line.
    expected = warm_up(model.net, model.vocab, 1, np.random.default_rng([WARM_SEED, 0]), 300)
    assert all(np.array_equal(a, b) for la, lb in zip(one, expected) for a, b in zip(la, lb))
    assert np.abs(one[0][0]).max() > 0  # warm, not the zero state
    forty = start.take(40)  # 32 warm states; lanes 32-39 reuse states 0-7
    assert len(start._blocks) == len(StartStates.BLOCKS)
    h = forty[0][0]
    assert h.shape[0] == 40 and np.array_equal(h[32:], h[:8]) and np.array_equal(h[:1], one[0][0])
    assert len({row.tobytes() for row in h[:32]}) == 32  # 32 different tunes
    h[:] = 0  # sampling writes into what take returns: the kept states must not change
    assert np.abs(start.take(3)[0][0]).max() > 0


def test_a_run_starts_its_lanes_after_training_tunes_from_its_start_file(tiny_run, tiny_corpus):
    written = split_tunes((tiny_run / START_FILE).read_text())
    train = charrnn.load_corpus(tiny_corpus).train_tunes
    assert 1 <= len(written) <= START_TUNES and all(len(t) <= START_TUNE_CHARS for t in written)
    assert all(t in train for t in written)
    assert isinstance(charrnn.load(tiny_run).start, StartTunes)


def test_start_tunes_read_each_tune_alone_and_a_calls_rng_picks_them(tiny_run, tiny_corpus):
    model = CharModel(tiny_run)
    tunes = charrnn.load_corpus(tiny_corpus).train_tunes[:8]
    start = StartTunes(model.net, model.vocab, tunes)
    lanes = start.take(10)  # no rng: lane i after tune i, round robin
    h = lanes[-1][0]  # top layer's h, (10, units)
    assert h.shape[0] == 10 and np.array_equal(h[8:], h[:2]) and len({r.tobytes() for r in h[:8]}) == 8
    # Lane 5's state is tune 5 read alone from a zero state (padded on the left with newlines).
    alone = model.net.initial_state(1)
    for i in start.ids[5]:
        model.net.step(np.array([i]), alone)
    assert np.allclose(alone[-1][0][0], h[5], atol=1e-6)
    assert not np.allclose(alone[-1][0][0], StartStates(model.net, model.vocab).take(1)[-1][0][0])
    # A random generator picks different tunes for each lane while there are enough of them.
    picked = start.take(8, np.random.default_rng(1))[-1][0]
    assert len({r.tobytes() for r in picked}) == 8
    assert not np.array_equal(picked, h[:8])
    kept = h.copy()
    h[:] = 0  # sampling writes into what take returns: the kept states must not change
    assert np.array_equal(start.take(10)[-1][0], kept)


def test_a_bad_start_file_is_one_error_naming_it(tmp_path, tiny_run):
    model = CharModel(tiny_run)
    empty = tmp_path / START_FILE
    empty.write_text("no tunes here\n")
    with pytest.raises(CharrnnError, match=f"{empty}: no tunes"):
        StartTunes.load(model.net, model.vocab, empty)
    odd = tmp_path / "odd.abc"
    odd.write_text("X:1\nK:D\n\u2603abc|\n")
    with pytest.raises(CharrnnError, match="odd.abc"):
        StartTunes.load(model.net, model.vocab, odd)


def test_tunes_do_not_depend_on_the_calls_before(tiny_run):
    used = charrnn.load(tiny_run)
    used.generate(n=1, random_seed=5, max_chars=200)
    used.generate(n=9, random_seed=6, max_chars=200)
    fresh = charrnn.load(tiny_run)
    assert ([t.abc for t in used.generate(n=4, random_seed=3, max_chars=300)]
            == [t.abc for t in fresh.generate(n=4, random_seed=3, max_chars=300)])


class ScriptedNet:
    """A stand-in network that always predicts the next character of a fixed script."""

    def __init__(self, vocab, script):
        self.vocab, self.script = vocab, script

    def initial_state(self, lanes):
        return [[np.zeros((lanes, 1))]]

    def step(self, ids, state):
        pos = state[0][0][:, 0].astype(int)
        state[0][0] = state[0][0] + 1
        logits = np.full((len(ids), len(self.vocab)), -50.0)
        nxt = [self.vocab.char_to_idx[self.script[p % len(self.script)]] for p in pos]
        logits[np.arange(len(ids)), nxt] = 50.0
        return logits


@pytest.mark.parametrize("after, expected", [
    ("K:D\nabc|\n\nX:2\n", "X:1\nK:D\nabc|\n"),  # a blank line ends the tune
    ("K:D\nabc|\nX:2\nK:G\n", "X:1\nK:D\nabc|\n"),  # so does the next X: line
    ("K:D\nabcabcabcabcabc", "X:1\nK:D\nabcab"),  # max_chars stops a tune that never ends
])
def test_tune_ends_at_corpus_boundary_or_max_chars(after, expected):
    vocab = charrnn.Vocabulary.from_text("X:12K\nDGabc|")
    seed = "X:1\n"
    # Every lane reads a blank line, writes a warm-up tune that is thrown away and its blank line,
    # then reads the seed and writes `after`; the scripted net predicts each next character of that.
    stream = "\n\n" + "X:1\nK:G\nab|\n\n" + seed + after
    net = ScriptedNet(vocab, stream[1:])
    tunes = sample_tunes(net, vocab, seed, 2, np.random.default_rng(0), max_chars=len(expected))
    assert tunes == [expected, expected]


def test_top_k_and_top_p_filter_the_distribution():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    assert np.allclose(next_char_probs(logits, top_k=1), [[1, 0, 0, 0]])
    assert np.allclose(next_char_probs(logits, top_k=2), [[0.625, 0.375, 0, 0]])
    assert np.allclose(next_char_probs(logits, top_p=0.5), [[1, 0, 0, 0]])
    assert np.allclose(next_char_probs(logits, top_p=0.79), [[0.625, 0.375, 0, 0]])
    assert np.allclose(next_char_probs(logits, top_p=1.0), [[0.5, 0.3, 0.15, 0.05]])
    sharp = next_char_probs(logits, temperature=0.5)
    assert np.allclose(sharp, np.array([[0.25, 0.09, 0.0225, 0.0025]]) / 0.365)


@pytest.mark.parametrize("bad, match", [
    (dict(temperature=0), "temperature"), (dict(temperature=-1), "temperature"),
    (dict(top_p=0), "top_p"), (dict(top_p=1.5), "top_p"), (dict(top_k=0), "top_k"),
])
def test_sampling_arguments_are_validated(tiny_run, bad, match):
    with pytest.raises(CharrnnError, match=match):
        charrnn.generate(model=tiny_run, **bad)


def test_seed_with_unknown_characters_names_them(tiny_run):
    with pytest.raises(ValueError, match="seed.*'\\u2603'"):
        charrnn.generate(seed="X:1\nT:Snow\nK:D\n\u2603", model=tiny_run)
    # A title may hold any character: the tune keeps it as written.
    [tune] = charrnn.generate(seed="X:1\nT:\u2603\n", model=tiny_run, random_seed=0, max_chars=200)
    assert tune.abc.startswith("X:1\nT:\u2603\n")


def test_header_seed_is_kept_at_the_start(tiny_run):
    seed = "X:1\nT:\nM:6/8\nL:1/8\nK:D\n"
    tunes = charrnn.generate(seed=seed, n=3, random_seed=0, model=tiny_run)
    assert all(t.abc.startswith(seed) and t.meter == "6/8" and t.key == "D" for t in tunes)


def test_missing_and_corrupt_weights_are_clear_errors(tmp_path, tiny_run):
    with pytest.raises(CharrnnError, match="model folder not found"):
        charrnn.load(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "char_to_idx.json"):
        (broken / name).write_bytes((tiny_run / name).read_bytes())
    with pytest.raises(CharrnnError, match="no model weights"):
        charrnn.load(broken)
    (broken / "best.weights.h5").write_bytes(b"not an hdf5 file")
    with pytest.raises(CharrnnError, match="cannot load"):
        charrnn.load(broken)
    # Weights of another shape than config.json says.
    (broken / "best.weights.h5").write_bytes((tiny_run / "best.weights.h5").read_bytes())
    config = charrnn.ModelConfig.load(tiny_run / "config.json")
    charrnn.ModelConfig(**{**config.__dict__, "units": 48}).save(broken / "config.json")
    with pytest.raises(CharrnnError, match="cannot load"):
        charrnn.load(broken)


def test_evaluate_bpc_on_short_and_long_texts(tiny_run, tiny_corpus):
    model = charrnn.load(tiny_run)
    text = charrnn.load_corpus(tiny_corpus).valid_text
    full = model.evaluate_bpc(text)
    assert full["bits_per_char"] == pytest.approx(full["loss"] / np.log(2), rel=1e-4)
    short = model.evaluate_bpc(text[:300])  # fewer than 16 lanes x 128 characters
    assert 0 < short["bits_per_char"] < 10 and 0 <= short["accuracy"] <= 1
    with pytest.raises(CharrnnError, match="at least 2"):
        model.evaluate_bpc("X")
