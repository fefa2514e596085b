"""The one sampling loop: a net's step function (charrnn.nn.stepnet) run over many lanes at once.

    texts = sample_tunes(net, vocab, "X:", n=200, rng=np.random.default_rng(0))

Every caller samples through here: `sample_tunes` writes whole tunes (with a `LaneHook` such as
charrnn.form's sampler when one is given), `sample_until` samples until a caller's stop rule says
so (steering's bars), and `next_char_probs` + `draw` are the one temperature/top-k/top-p draw.
"""
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..abc.text import read_abc_text, split_tunes
from ..errors import CharrnnError, Stopped


@dataclass(frozen=True)
class SamplingDefaults:
    """The sampling defaults, stated once: charrnn.generate, CharModel.generate, the CLI and
    `charrnn evaluate` read them from SAMPLING."""

    seed: str = "X:"  # the text every tune starts with: the corpus's first header line
    temperature: float = 1.0
    top_k: int = None
    top_p: float = None
    max_chars: int = 2000
    drafts: int = None  # drafts per tune, the critic keeping the most human; None: the model's (critic.json)


SAMPLING = SamplingDefaults()
WARM_SEED = 20261130  # the random seed of the warm-up tunes behind StartStates
START_FILE = "start.abc"  # a run folder's start tunes (StartTunes), written by `charrnn train`


def softmax(logits, out=None):
    """exp(logits) / sum, per row, stably; `out` (may be `logits`) receives it."""
    z = np.subtract(logits, logits.max(axis=-1, keepdims=True), out=out)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


class LaneHook(Protocol):
    """What `sample_lanes` asks of a hook (charrnn.form.sampler.FormSampler is one): it may change
    the probabilities, write other ids than the drawn ones, and send lanes back to an earlier
    point with the state they had there."""

    def max_steps(self, cap): ...

    def mix(self, active, probs, state): ...

    def choose(self, active, ids, out, length, logits, state, prev1, prev2): ...

    def rewinds(self, active, ids, out, length, done): ...

    def restore(self, active, back, logits, state, length, prev1, prev2): ...


def next_char_probs(logits, temperature=SAMPLING.temperature, top_k=SAMPLING.top_k, top_p=SAMPLING.top_p):
    """Sampling distribution per lane: temperature, then top-k, then nucleus (top-p) filtering."""
    z = logits.astype(np.float64)  # a new array: everything below works in it
    if temperature != 1:
        z /= temperature
    probs = softmax(z, out=z)  # (lanes, V)
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
    if top_k is not None or top_p is not None:  # filtered: renormalise (softmax's rows already sum to 1)
        probs /= probs.sum(axis=1, keepdims=True)
    return probs


def draw(probs, u):
    """Inverse-CDF sampling: per lane, the first id whose cumulative probability reaches its
    uniform draw u (lanes, 1); the last id when rounding leaves the total short of u."""
    cum = np.cumsum(probs, axis=1)  # (lanes, V), never decreasing
    ids = np.count_nonzero(cum < u, axis=1)  # the first id whose cum reaches u; V if none does
    return np.minimum(ids, probs.shape[1] - 1, out=ids)


def tune_limit(net, max_chars):
    """The most characters a tune may take: max_chars, or less where the net's `context` (a
    transformer's) is shorter. A net without a context reads text of any length."""
    return min(max_chars, getattr(net, "context", None) or max_chars)


def warm_up(net, vocab, n, rng, max_chars=SAMPLING.max_chars):
    """The state of n lanes that each read a blank line, wrote one tune of their own and read its
    closing blank line: where every tune of the corpus starts from in training.

    The model learned on lanes of text in which every tune follows another, never from a zero
    state, and from a zero state it garbles the first header lines (`X:1` then `8:The ...`: 2%
    of tunes, none after a warm-up). The warm-up tune is thrown away.

    A net with `warm_up = False` (the transformer, charrnn.nn.attention_step) skips it: it learned
    every tune from an empty context, at position 0, and starts each lane there.
    """
    sample = dict(rng=rng, temperature=SAMPLING.temperature, top_k=None, top_p=None, vocab=vocab)
    newline = vocab.char_to_idx.get("\n", -1)
    max_chars = tune_limit(net, max_chars)
    state = net.initial_state(n)
    if newline >= 0 and getattr(net, "warm_up", True):
        feed(net, state, "\n\n", vocab, n)  # the blank line before each tune in the corpus
        if "X" in vocab.char_to_idx and ":" in vocab.char_to_idx:
            _, _, state = sample_lanes(net, state, feed(net, state, "X:", vocab, n), "X:", max_chars,
                                        **sample)
            feed(net, state, "\n", vocab, n)  # the lanes stopped after the first of two newlines
    return state


class StartStates:
    """Warm start states for sampling lanes, written once per model and kept.

    A warm-up tune per lane would double the work of sampling n tunes (it is as long as a real
    one). Instead the model writes warm-up tunes in blocks of 1, 1, 2, 4, 8 and 16 lanes (32 in
    all), each block from its own fixed random seed, when a call first needs it; lane i of a call
    of n lanes starts from warm state i mod min(n, 32). So a call's tunes depend only on the model,
    its arguments and its random seed, never on the calls before it. Thread-safe: the composer
    samples from several threads.
    """

    BLOCKS = (1, 1, 2, 4, 8, 16)

    def __init__(self, net, vocab, max_chars=SAMPLING.max_chars):
        self.net, self.vocab, self.max_chars = net, vocab, max_chars
        self._blocks = []  # states of the blocks written so far, in order
        self._lock = threading.Lock()

    def take(self, n, rng=None):
        """A state of n lanes (fresh arrays: sampling writes into it); `rng` is not used."""
        if not getattr(self.net, "warm_up", True):  # the transformer starts from its empty context
            return self.net.initial_state(n)
        count = min(n, sum(self.BLOCKS))
        with self._lock:
            while sum(self.BLOCKS[:len(self._blocks)]) < count:
                b = len(self._blocks)
                rng = np.random.default_rng([WARM_SEED, b])
                self._blocks.append(warm_up(self.net, self.vocab, self.BLOCKS[b], rng, self.max_chars))
            blocks = list(self._blocks)
        bank = [[np.concatenate([block[i][j] for block in blocks])[:count] for j in range(len(layer))]
                for i, layer in enumerate(blocks[0])]  # per layer, per array: (count, units)
        rows = np.arange(n) % count
        return [[s[rows] for s in layer] for layer in bank]


class StartTunes:
    """Start states after real tunes: each lane first reads one tune of the training text.

    In training every tune follows another in its lane, and the collections keep tunes of a kind
    together (a book's jigs, then its reels), so the network learned to take the kind of a tune
    from the one before it. Lanes started after the network's own warm-up tunes (StartStates)
    took those few tunes' kinds (the model card has the figures). After tunes spread evenly over
    the training text (`charrnn train` writes them to the run's start.abc) the lanes write the
    corpus's mix of kinds.

    Each tune is read alone from a zero state, left-padded with newlines to the longest one, so
    its state never depends on the tunes read beside it; states are kept once read. A call's
    random generator picks the tunes: n lanes take n different ones while there are enough, then
    they go round again. Thread-safe: the composer samples from several threads.
    """

    def __init__(self, net, vocab, tunes, where=START_FILE):
        if not tunes:
            raise CharrnnError(f"{where}: no tunes (a tune starts with an 'X:' line)")
        # As in the corpus: a blank line, the tune, and the blank line that ends it.
        texts = ["\n\n" + t.strip("\n") + "\n\n" for t in tunes]
        width = max(map(len, texts))
        self.ids = np.stack([vocab.encode(t.rjust(width, "\n"), where=where) for t in texts])  # (tunes, width)
        self.net = net
        self._states = {}  # tune -> per layer, per array: (units,)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, net, vocab, path):
        return cls(net, vocab, split_tunes(read_abc_text(path)), where=str(path))

    def take(self, n, rng=None):
        """A state of n lanes (fresh arrays: sampling writes into it); without `rng`, lane i
        starts after tune i (round robin)."""
        if not getattr(self.net, "warm_up", True):  # the transformer starts from its empty context
            return self.net.initial_state(n)
        count = len(self.ids)
        order = np.arange(count) if rng is None else rng.permutation(count)
        picks = order[np.arange(n) % count]  # (n,)
        with self._lock:
            self._read(sorted(set(picks.tolist()) - set(self._states)))
            states = [self._states[p] for p in picks]
        return [[np.stack([s[i][j] for s in states]) for j in range(len(layer))]
                for i, layer in enumerate(states[0])]

    def _read(self, tunes):
        if not tunes:
            return
        state = self.net.initial_state(len(tunes))
        for column in self.ids[tunes].T:  # (tunes,) a step
            self.net.step(column, state)
        for k, t in enumerate(tunes):
            self._states[t] = [[s[k].copy() for s in layer] for layer in state]


def sample_tunes(net, vocab, seed, n, rng, temperature=SAMPLING.temperature, top_k=SAMPLING.top_k,
                 top_p=SAMPLING.top_p, max_chars=SAMPLING.max_chars, hook=None, start=None):
    """Sample n tunes in parallel lanes; each lane stops at its own end-of-tune boundary.

    A tune ends where the corpus ends one: a blank line, or a new 'X:' line. Returns n strings,
    each the seed plus what was sampled up to (not including) the boundary, at most max_chars.

    `start` (StartTunes or StartStates) gives the lanes start states; without it each lane first writes
    a warm-up tune of its own (`warm_up`). `hook(prime, n, rng)` makes the LaneHook the lanes are
    written with (charrnn.form's sampler: copied bars, cadences; warm-up tunes are written
    without). A net with a `context` (the transformer) writes at most that many characters a tune.
    """
    sample = dict(rng=rng, temperature=temperature, top_k=top_k, top_p=top_p, vocab=vocab)
    max_chars = tune_limit(net, max_chars)
    state = start.take(n, rng) if start is not None else warm_up(net, vocab, n, rng, max_chars)
    logits = feed(net, state, seed, vocab, n, where="seed")
    lane_hook = None if hook is None else hook(seed, n, rng)
    out, length, _ = sample_lanes(net, state, logits, seed, max_chars, hook=lane_hook, **sample)
    return [seed + vocab.decode(out[i, :length[i]]) for i in range(n)]


def feed(net, state, text, vocab, n, where="text"):
    """Step every lane through `text`; the logits after its last character."""
    logits = None
    for ch_id in vocab.encode(text, where=where):
        logits = net.step(np.full(n, ch_id), state)
    return logits


def sample_lanes(net, state, logits, prime, max_chars, rng, vocab, temperature, top_k, top_p, hook=None,
                 cancelled=None):
    """Sample on from `logits` until each lane ends its tune, at most max_chars - len(prime) characters.

    Returns (ids (n, steps), lengths (n,), end states): each lane's state when it stopped, after
    the character before the boundary's last one (the first newline of a blank line, the 'X' of 'X:').
    `hook` (a LaneHook, such as charrnn.form's sampler) may write a copied bar instead of the
    sampled characters, and send a lane back to the start of a bar to write it again; so each lane
    keeps its own column.

    A finished lane's row stays in `state` (stepped on, its output unread) until half the rows are
    finished: dropping rows copies every state array, and a transformer's key/value cache is large
    (200 lanes x 384 characters x 192 x 6 arrays: 350 MB a copy). With a `hook`, which reads the
    state by lane, or a net whose rows are cheap to copy (`drop_rows_at_once`: StepNet's), rows are
    dropped at once. Either way each lane draws the same random numbers.

    `cancelled` (None, or a function of no arguments) is asked between steps; when it says True
    (the composer's request was cancelled or ran out of time) sampling ends with `Stopped`.
    """
    newline, x_id, colon = (vocab.char_to_idx.get(c, -1) for c in "\nX:")
    n = len(logits)
    cap = max(max_chars - len(prime), 0)
    ends = [[s.copy() for s in layer] for layer in state]
    out = np.zeros((n, cap), dtype=np.int32)  # sampled ids per lane
    length = np.zeros(n, dtype=np.int64)  # each lane's next column
    active = np.arange(n if cap else 0)  # lanes still writing
    rows = np.arange(n)  # each active lane's row of `state`
    prime_ids = vocab.encode(prime) if prime else []
    prev1 = np.full(n, prime_ids[-1] if len(prime_ids) else newline)
    prev2 = np.full(n, prime_ids[-2] if len(prime_ids) > 1 else newline)
    at_once = hook is not None or getattr(net, "drop_rows_at_once", False)
    for _ in range(cap if hook is None else hook.max_steps(cap)):
        if len(active) == 0:
            break
        check_cancelled(cancelled)
        probs = next_char_probs(logits, temperature, top_k, top_p)  # (active, V)
        if hook is not None:
            hook.mix(active, probs, state)  # e.g. the character cache
        # Inverse-CDF sampling, one uniform draw per active lane.
        u = rng.random((len(active), 1))
        ids = draw(probs, u)
        if hook is not None:
            ids = hook.choose(active, ids, out, length, logits, state, prev1, prev2)
        out[active, length[active]] = ids
        length[active] += 1
        blank_line = (ids == newline) & (prev1[active] == newline)
        new_tune = (ids == colon) & (prev1[active] == x_id) & (prev2[active] == newline)
        done = blank_line | new_tune
        prev2[active], prev1[active] = prev1[active], ids
        back = None if hook is None else hook.rewinds(active, ids, out, length, done)
        if back is not None:
            done &= ~back
        if done.any():  # (most steps: none)
            length[active[done]] -= np.where(new_tune[done], 2, 1)  # drop 'X:' of the next tune, or the second newline
            put_states(ends, active[done], state, rows[done])
            keep = ~done
            active, ids, rows = active[keep], ids[keep], rows[keep]
            back = None if back is None else back[keep]
            state, rows = _drop_finished(state, rows, at_once=at_once)
        if len(active):
            logits = _step_rows(net, ids, state, rows, newline)
            if back is not None and back.any():
                hook.restore(active, back, logits, state, length, prev1, prev2)
        full = length[active] >= cap  # cut off at max_chars: the state after the last character
        if full.any():
            put_states(ends, active[full], state, rows[full])
            active, logits, rows = active[~full], logits[~full], rows[~full]
            state, rows = _drop_finished(state, rows, at_once=at_once)
    put_states(ends, active, state, rows)  # lanes still writing when the steps ran out
    return out, length, ends


def check_cancelled(cancelled):
    """Stopped when `cancelled` (None or a function of no arguments) says the caller is gone."""
    if cancelled is not None and cancelled():
        raise Stopped("sampling stopped: the request was cancelled or ran out of time")


def _drop_finished(state, rows, at_once):
    """(state, rows) with only the active lanes' rows, once at most half the rows are active (or
    `at_once`); else as they are."""
    total = len(state[0][0])
    if len(rows) == total or not (at_once or 2 * len(rows) <= total):
        return state, rows
    return [[s[rows] for s in layer] for layer in state], np.arange(len(rows))


def _step_rows(net, ids, state, rows, filler):
    """net.step on every row of `state`, the active lanes' `ids` at their `rows` (`filler` for
    finished lanes); the logits of the active lanes (lanes, V)."""
    total = len(state[0][0])
    if len(rows) == total:  # no finished rows: rows is 0..total-1
        return net.step(ids, state)
    every = np.full(total, max(filler, 0))
    every[rows] = ids
    return net.step(every, state)[rows]


def put_states(ends, rows, state, lanes=slice(None)):
    """ends' arrays at `rows` (lane axis 0) = state's at `lanes`. An end array narrower than the
    state's (a transformer's cache grows with the text) is first widened with zeros: columns past
    a lane's position are never read."""
    for layer_end, layer in zip(ends, state):
        for k, (end, s) in enumerate(zip(layer_end, layer)):
            if end.shape[1:] != s.shape[1:]:
                wider = np.zeros((len(end),) + s.shape[1:], end.dtype)
                wider[tuple(slice(0, n) for n in end.shape)] = end
                end = layer_end[k] = wider
            end[rows] = s[lanes]


def sample_until(net, vocab, state, logits, stop, rng, temperature, top_k, top_p, limit, cancelled=None):
    """Sample each lane until stop(lane, ch, text so far) says 1 (done) or -1 (failed); the char
    it stops at is not kept. Lanes still going after `limit` chars fail. `cancelled`: as in
    sample_lanes.

    Returns (texts, done flags, end states, logits at the stop) per lane."""
    lanes = len(logits)
    texts, finished = [""] * lanes, np.zeros(lanes, bool)
    ends = [[s.copy() for s in layer] for layer in state]
    end_logits = logits.copy()
    active = np.ones(lanes, bool)
    for _ in range(limit):
        check_cancelled(cancelled)
        ids = draw(next_char_probs(logits, temperature, top_k, top_p), rng.random((lanes, 1)))
        for lane in np.flatnonzero(active):
            ch = vocab.chars[ids[lane]]
            verdict = stop(lane, ch, texts[lane])
            if verdict:
                finished[lane], active[lane] = verdict > 0, False
                put_states(ends, [lane], state, [lane])
                end_logits[lane] = logits[lane]
            else:
                texts[lane] += ch
        if not active.any() or net.full(state):
            break
        logits = net.step(ids, state)
    return texts, finished, ends, end_logits


def log_likelihood(net, state, logits, ids):
    """Per lane: log p(ids | state), the first id read from `logits`."""
    total = np.zeros(len(logits))
    for t, i in enumerate(ids):
        z = logits.astype(np.float64)
        z = z - z.max(axis=1, keepdims=True)
        total += z[:, i] - np.log(np.exp(z).sum(axis=1))
        if t + 1 < len(ids):
            if net.full(state):  # what follows lies past a transformer's context: not scored
                break
            logits = net.step(np.full(len(logits), i), state)
    return total
