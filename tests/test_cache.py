"""The character cache (charrnn.form.cache): its distribution worked by hand, and the sampler's
mixture equal to the scorer's."""
import math

import numpy as np
import pytest

from charrnn.generator import CharModel
from charrnn.form.cache import WINDOW, LaneCache, cache_distribution, cache_log_probs
from charrnn.form.config import FormConfig
from charrnn.form.fit import read_text, tune_rows
from charrnn.nn.sampling import softmax
from charrnn.nn.vocab import Vocabulary


def test_cache_distribution_points_to_what_followed_similar_states():
    keys = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    nexts = np.array([2, 0, 1])
    query = np.array([[1.0, 0.0]])
    p = cache_distribution(keys, nexts, query, theta=math.log(3), size=4)[0]
    # scores theta * (1, 0, 1): weights 3, 1, 3 of 7 on next ids 2, 0, 1
    assert np.allclose(p, [1 / 7, 3 / 7, 3 / 7, 0])
    visible = np.array([[True, True, False]])
    assert np.allclose(cache_distribution(keys, nexts, query, math.log(3), 4, visible)[0], [1 / 4, 0, 3 / 4, 0])
    assert not cache_distribution(keys, nexts, query, 1.0, 4, np.zeros((1, 3), bool)).any()


def test_cache_log_probs_by_hand_on_a_body_that_repeats():
    # All keys equal: the cache is the share of each character among the body's earlier ones.
    ids = np.array([0, 1, 2, 1, 2, 1])
    log_p = np.full((6, 3), math.log(1 / 3), np.float32)
    keys = np.ones((6, 2), np.float32)
    covered = np.ones(6, bool)
    lp = cache_log_probs(log_p, keys, ids, covered, [(2, 6)], theta=1.0, lam=0.5)
    assert np.array_equal(lp[:3], log_p[:3])  # outside the body, and its first character, as they were
    # position 4 has seen 2, 1 in the body: p(2) = 0.5 / 3 + 0.5 * 1/2
    assert math.exp(lp[4, 2]) == pytest.approx(0.5 / 3 + 0.25)
    assert math.exp(lp[5, 1]) == pytest.approx(0.5 / 3 + 0.5 * 1 / 3)  # seen 2, 1, 2: one 1 in 3
    assert np.allclose(np.exp(lp).sum(1), 1, atol=1e-6)
    assert np.allclose(cache_log_probs(log_p, keys, ids, covered, [(2, 6)], 1.0, 0.0), log_p)


def test_lane_cache_keeps_a_body_s_first_window_characters():
    cache = LaneCache(2, 3, theta=1.0, lam=0.1)
    for t in range(WINDOW + 5):
        cache.add(np.array([0]), np.ones((1, 3), np.float32), np.array([t % 4]))
    assert list(cache.count) == [WINDOW, 0] and cache.keys.shape == (2, WINDOW, 3)
    probs = np.full((2, 4), 0.25)
    cache.mix(np.array([0, 1]), probs, np.ones((2, 3), np.float32))
    assert np.allclose(probs[0], 0.25) and np.allclose(probs[1], 0.25)  # a uniform past; lane 1: none


def test_sampler_mixes_as_the_scorer_scores(tiny_run, tiny_corpus):
    import charrnn

    model = CharModel(tiny_run)
    net, vocab = model.net, model.vocab
    tune = charrnn.load_corpus(tiny_corpus).valid_tunes[0]
    text = tune + "\n\n"
    body = tune.index("\nK:") + 1
    body = tune.index("\n", body) + 1
    ids, log_p, keys, covered = read_text(net, vocab, text, lanes=1)
    scored = cache_log_probs(log_p, keys, ids, covered, [(body, len(tune))], theta=1.5, lam=0.3)
    # The sampler's way: one lane steps through the text; at each body character it mixes the
    # network's probabilities with the lane's cache, then adds the character it wrote.
    cache, state = LaneCache(1, net.config.units, 1.5, 0.3), net.initial_state(1)
    lane = np.array([0])
    for j in range(1, len(tune)):
        probs = softmax(net.step(ids[j - 1:j], state).astype(np.float64))
        h = state[-1][0]
        if j >= body:
            cache.mix(lane, probs, h)
            cache.add(lane, h, ids[j:j + 1])
        assert np.allclose(np.log(probs[0]), scored[j], atol=1e-5), j


def test_form_with_a_cache_scores_fewer_bits_on_a_tune_that_repeats(tiny_run):
    model = CharModel(tiny_run)
    tune = "X:1\nT:t\nM:4/4\nL:1/8\nK:G\n" + "GABc dBAG|GABc d2B2|" * 6 + "\n"
    rows, network, cached, chars = tune_rows(model.net, model.vocab, [tune], cache=(1.0, 0.3))
    assert cached < network
    form = FormConfig(weights=((0.0,) * 17,) * 12, cache_theta=1.0, cache_lambda=0.3)
    figures = model.form_bpc([tune], form)
    assert figures["with_form"] == pytest.approx(cached / chars) and figures["network"] == pytest.approx(network / chars)
