"""Fast sampling: the trained network as a NumPy step function, run over many lanes at once.

The Keras batch-1 stateful generator (`build_model(config, 1, 1, stateful=True)`) is the
reference; `StepNet` computes the same next-character probabilities (to ~1e-6, see
tests/test_sampling.py) without Keras' per-call overhead, so one character costs a few
small matrix products instead of a ~40 ms `model.predict`.
"""
from dataclasses import dataclass

import numpy as np

from ..errors import CharrnnError


@dataclass(frozen=True)
class SamplingDefaults:
    """The sampling defaults, stated once: charrnn.generate, CharModel.generate, the CLI and
    `charrnn evaluate` read them from SAMPLING."""

    seed: str = "X:"  # the text every tune starts with: the corpus's first header line
    temperature: float = 1.0
    top_k: int = None
    top_p: float = None
    max_chars: int = 2000


SAMPLING = SamplingDefaults()


def _sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # = 1 / (1 + e^-x), without overflow warnings


class StepNet:
    """Embedding -> L recurrent layers -> Dense, one character per lane per step, in NumPy.

    `weights` maps Keras layer names to their weight arrays (Keras 3 layouts: LSTM gates
    i, f, c, o; GRU gates z, r, h with reset_after=True and a (2, 3U) bias).
    """

    def __init__(self, config, weights):
        self.config = config
        embedding = weights["embedding"][0]  # (V, E)
        self.layers = []
        for i in range(config.layers):
            kernel, recurrent, bias = weights[f"{config.cell}_{i}"]
            if i == 0:
                # The first layer only ever sees embedding rows, so fold Embedding @ kernel
                # into one (V, gates) table: a row lookup replaces the largest matrix product.
                kernel = embedding @ kernel
            self.layers.append((kernel.astype(np.float32), recurrent.astype(np.float32),
                                bias.astype(np.float32)))
        self.dense_kernel, self.dense_bias = (w.astype(np.float32) for w in weights["logits"])

    def initial_state(self, lanes):
        """Zero state: per layer h (and c for LSTM), each (lanes, units)."""
        n = 2 if self.config.cell == "lstm" else 1
        return [[np.zeros((lanes, self.config.units), np.float32) for _ in range(n)]
                for _ in self.layers]

    def step(self, ids, state):
        """ids (lanes,) int -> logits (lanes, V); `state` is updated in place."""
        x = None
        for i, ((kernel, recurrent, bias), layer_state) in enumerate(zip(self.layers, state)):
            projected = kernel[ids] if i == 0 else x @ kernel  # (lanes, gates)
            if self.config.cell == "lstm":
                h, c = layer_state
                z = projected + h @ recurrent + bias  # (lanes, 4U): i, f, c, o
                gi, gf, gc, go = np.split(z, 4, axis=1)
                c = _sigmoid(gf) * c + _sigmoid(gi) * np.tanh(gc)
                h = _sigmoid(go) * np.tanh(c)
                layer_state[:] = [h, c]
            else:
                (h,) = layer_state
                xz, xr, xh = np.split(projected + bias[0], 3, axis=1)
                rz, rr, rh = np.split(h @ recurrent + bias[1], 3, axis=1)
                z, r = _sigmoid(xz + rz), _sigmoid(xr + rr)
                h = z * h + (1.0 - z) * np.tanh(xh + r * rh)
                layer_state[:] = [h]
            x = h
        return x @ self.dense_kernel + self.dense_bias  # (lanes, V)


def softmax(logits):
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def check_sampling_args(temperature, top_k, top_p):
    if not temperature > 0:
        raise CharrnnError(f"temperature must be > 0, not {temperature}")
    if top_k is not None and int(top_k) < 1:
        raise CharrnnError(f"top_k must be at least 1, not {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise CharrnnError(f"top_p must be in (0, 1], not {top_p}")


def next_char_probs(logits, temperature=SAMPLING.temperature, top_k=SAMPLING.top_k, top_p=SAMPLING.top_p):
    """Sampling distribution per lane: temperature, then top-k, then nucleus (top-p) filtering."""
    probs = softmax(logits.astype(np.float64) / temperature)  # (lanes, V)
    if top_k is not None and top_k < probs.shape[1]:
        kth = -np.sort(-probs, axis=1)[:, top_k - 1: top_k]  # (lanes, 1): k-th largest
        probs = np.where(probs >= kth, probs, 0.0)
    if top_p is not None and top_p < 1:
        order = np.argsort(-probs, axis=1)
        sorted_p = np.take_along_axis(probs, order, axis=1)
        cum = np.cumsum(sorted_p, axis=1) / sorted_p.sum(axis=1, keepdims=True)
        # Keep the smallest prefix whose mass reaches top_p (the first token always stays).
        keep_sorted = (cum - sorted_p / sorted_p.sum(axis=1, keepdims=True)) < top_p
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=1)
        probs = np.where(keep, probs, 0.0)
    return probs / probs.sum(axis=1, keepdims=True)


def sample_tunes(net, vocab, seed, n, rng, temperature=SAMPLING.temperature, top_k=SAMPLING.top_k,
                 top_p=SAMPLING.top_p, max_chars=SAMPLING.max_chars):
    """Sample n tunes in parallel lanes; each lane stops at its own end-of-tune boundary.

    A tune ends where the corpus ends one: a blank line, or a new 'X:' line. Returns n strings,
    each the seed plus what was sampled up to (not including) the boundary, at most max_chars.

    Each lane first writes one tune of its own that is thrown away. The model learned on lanes of
    text in which every tune follows another, never from a zero state, and from a zero state it
    garbles the first header lines (`X:1` then `8:The ...`: 2% of tunes, none after a warm-up).
    """
    sample = dict(rng=rng, temperature=temperature, top_k=top_k, top_p=top_p, vocab=vocab)
    newline = vocab.char_to_idx.get("\n", -1)
    state = net.initial_state(n)
    if newline >= 0:
        _feed(net, state, "\n\n", vocab, n)  # the blank line before each tune in the corpus
        if "X" in vocab.char_to_idx and ":" in vocab.char_to_idx:
            _, _, state = _sample_lanes(net, state, _feed(net, state, "X:", vocab, n), "X:", max_chars,
                                        **sample)
            _feed(net, state, "\n", vocab, n)  # the lanes stopped after the first of two newlines
    logits = _feed(net, state, seed, vocab, n, where="seed")
    out, length, _ = _sample_lanes(net, state, logits, seed, max_chars, **sample)
    return [seed + vocab.decode(out[i, :length[i]]) for i in range(n)]


def _feed(net, state, text, vocab, n, where="text"):
    """Step every lane through `text`; the logits after its last character."""
    logits = None
    for ch_id in vocab.encode(text, where=where):
        logits = net.step(np.full(n, ch_id), state)
    return logits


def _sample_lanes(net, state, logits, prime, max_chars, rng, vocab, temperature, top_k, top_p):
    """Sample on from `logits` until each lane ends its tune, at most max_chars - len(prime) characters.

    Returns (ids (n, steps), lengths (n,), end states): each lane's state when it stopped, after
    the character before the boundary's last one (the first newline of a blank line, the 'X' of 'X:').
    """
    newline, x_id, colon = (vocab.char_to_idx.get(c, -1) for c in "\nX:")
    n = len(logits)
    ends = [[s.copy() for s in layer] for layer in state]
    out = np.zeros((n, max(max_chars - len(prime), 0)), dtype=np.int32)  # sampled ids per lane
    length = np.zeros(n, dtype=np.int64)
    active = np.arange(n)  # lanes still writing
    prime_ids = vocab.encode(prime) if prime else []
    prev1 = np.full(n, prime_ids[-1] if len(prime_ids) else newline)
    prev2 = np.full(n, prime_ids[-2] if len(prime_ids) > 1 else newline)
    for t in range(out.shape[1]):
        if len(active) == 0:
            break
        probs = next_char_probs(logits, temperature, top_k, top_p)  # (active, V)
        # Inverse-CDF sampling, one uniform draw per active lane.
        u = rng.random((len(active), 1))
        ids = np.minimum((np.cumsum(probs, axis=1) < u).sum(axis=1), probs.shape[1] - 1)
        out[active, t] = ids
        length[active] = t + 1
        blank_line = (ids == newline) & (prev1[active] == newline)
        new_tune = (ids == colon) & (prev1[active] == x_id) & (prev2[active] == newline)
        done = blank_line | new_tune
        length[active[new_tune]] -= 2  # drop the 'X' and ':' of the next tune
        length[active[blank_line]] -= 1  # drop the second newline
        prev2[active], prev1[active] = prev1[active], ids
        for layer_end, layer in zip(ends, state):
            for end, s in zip(layer_end, layer):
                end[active[done]] = s[done]
        keep = ~done
        active, ids = active[keep], ids[keep]
        state = [[s[keep] for s in layer] for layer in state]
        if len(active):
            logits = net.step(ids, state)
    for layer_end, layer in zip(ends, state):  # lanes cut off at max_chars
        for end, s in zip(layer_end, layer):
            end[active] = s
    return out, length, ends
