"""Scoring the form mixture (charrnn.form.config) on held-out tunes, and fitting it.

    rows, network_bits, bits, chars = tune_rows(net, vocab, tunes)   # one row per bar start
    w = fit_weights(rows)                                            # EM: the copy weights
    gain_nats(w, rows)                                               # what the copies save

The network reads the tunes in stateful lanes as evaluate_bpc reads held-out text; each bar start
becomes a row of log probabilities (the network's own bar, and each copy on offer), from which
the mixture's bits per character are exact. `fit_cache` chooses the character cache's settings
(charrnn.form.cache) on the same reading.
"""
import numpy as np
from scipy.special import log_softmax

from ..abc.bars import NOTE_START, core_end
from ..abc.header import body_start
from ..errors import CharrnnError
from .cache import cache_log_probs
from .bars import OFFER_COLUMNS, POSITIONS, bar_starts
from .config import CAP, offer_weights

CACHE_THETAS = (0.5, 1.0, 2.0)  # the character cache's sharpness, tried by fit_cache
CACHE_LAMBDAS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)  # and its weight


def read_text(net, vocab, text, lanes, with_keys=True):
    """The network over `text` in `lanes` stateful lanes as read_batches cuts it (each lane from a
    zero state): (ids (T,), log p (T, V) of each character given those before it, keys (T, U): the
    top layer's h that predicted it (None unless `with_keys`: only the character cache reads them),
    covered (T,): the characters predicted (each lane's first character and the tail beyond the
    lanes are not))."""
    ids = vocab.encode(text, where="scored text")
    lane_len = (len(ids) - 1) // lanes
    if lane_len < 1:
        raise CharrnnError(f"text of {len(ids)} characters is too short for {lanes} lanes")
    starts = np.arange(lanes) * lane_len  # (lanes,)
    state = net.initial_state(lanes)
    log_p = np.zeros((len(ids), len(vocab)), np.float32)
    keys = np.zeros((len(ids), state[-1][0].shape[1]), np.float32) if with_keys else None
    covered = np.zeros(len(ids), dtype=bool)
    for t in range(lane_len):
        nxt = starts + t + 1
        log_p[nxt] = log_softmax(net.step(ids[starts + t], state).astype(np.float64), axis=1)  # (lanes, V)
        if with_keys:
            keys[nxt] = state[-1][0]
        covered[nxt] = True
    return ids, log_p, keys, covered


def char_log_probs(net, vocab, text, lanes, spans=(), cache=None):
    """(lp, lp_note_start, covered, lp_network): log p of each character of `text` given those
    before it and log p that a note starts there, read by read_text, with the character cache
    `cache` (theta, lam) over the body `spans` (charrnn.form.cache) when given; lp_network is the
    network's alone (lp itself without a cache)."""
    ids, log_p, keys, covered = read_text(net, vocab, text, lanes, with_keys=cache is not None)
    at = np.arange(len(ids))
    lp_network = log_p[at, ids].astype(np.float64)
    if cache is not None:
        log_p = cache_log_probs(log_p, keys, ids, covered, spans, *cache)
    note_ids = np.array([vocab.char_to_idx[c] for c in NOTE_START if c in vocab.char_to_idx])
    lp_start = np.logaddexp.reduce(log_p[:, note_ids].astype(np.float64), axis=1)
    return log_p[at, ids].astype(np.float64), lp_start, covered, lp_network


def bar_rows(tunes, offsets, lp, lp_start, covered):
    """One row per scored bar start: (pos, log p_model(bar), [(column, log p of copying it)], offered).

    tunes[k] starts at offsets[k] of the text that lp covers; bars not wholly covered are skipped.
    """
    rows = []
    for abc, off in zip(tunes, offsets):
        for i, pos, offers in bar_starts(abc):
            end = core_end(abc, i)
            if not covered[off + i: off + end].all():
                continue
            model = lp[off + i: off + end].sum()
            copies = [(c, lp_start[off + i] + lp[off + i + len(core): off + end].sum())
                      for c, core in offers if abc.startswith(core, i)]
            rows.append((pos, model, copies, [c for c, _ in offers]))
    return rows


def _joined(tunes):
    """Tunes as valid.abc holds them (a blank line after each), their offsets and body spans there."""
    offsets, spans, pos = [], [], 0
    for tune in tunes:
        body = body_start(tune)
        offsets.append(pos)
        if body is not None:
            spans.append((pos + body, pos + len(tune)))
        pos += len(tune) + 2
    return "".join(tune + "\n\n" for tune in tunes), offsets, spans


def _lanes(text, lanes):
    return max(1, min(lanes, len(text) // 64))


def tune_rows(net, vocab, tunes, lanes=16, cache=None):
    """(bar rows, bits of the network alone, bits with the character cache, characters scored) of
    tunes read in `lanes` stateful lanes as evaluate_bpc reads held-out text; the two bits are
    equal without a cache ((theta, lam) or None)."""
    text, offsets, spans = _joined(tunes)
    lp, lp_start, covered, lp_network = char_log_probs(net, vocab, text, _lanes(text, lanes), spans, cache)
    return (bar_rows(tunes, offsets, lp, lp_start, covered), -lp_network[covered].sum() / np.log(2),
            -lp[covered].sum() / np.log(2), int(covered.sum()))


def fit_cache(net, vocab, tunes, lanes=16, thetas=CACHE_THETAS, lams=CACHE_LAMBDAS):
    """(theta, lam) of the grid whose character cache gives `tunes` the fewest bits."""
    text, _, spans = _joined(tunes)
    ids, log_p, keys, covered = read_text(net, vocab, text, _lanes(text, lanes))

    def nats(theta, lam):
        return -cache_log_probs(log_p, keys, ids, covered, spans, theta, lam)[np.arange(len(ids)), ids][covered].sum()

    return min(((theta, lam) for theta in thetas for lam in lams), key=lambda c: nats(*c))


def _log_branches(w, row):
    pos, model, copies, offered = row
    weights = dict(zip(offered, offer_weights(w, pos, offered)))
    return np.array([np.log1p(-sum(weights.values())) + model] + [np.log(weights[c]) + v for c, v in copies])


def gain_nats(w, rows):
    """Log-likelihood (nats) the mixture gains over the model alone on these bars."""
    return float(sum(np.logaddexp.reduce(_log_branches(w, r)) - r[1] for r in rows))


def fit_weights(rows, iters=40, prior=20.0, cap=CAP):
    """EM for w[pos, column], each place shrunk towards the column's pooled rate (`prior`
    pseudo-counts), each weight at most `cap`; the copies one bar is offered are capped together
    where they are used (offer_weights), so the model always keeps a share."""
    w = np.full((POSITIONS, OFFER_COLUMNS), 0.01)
    for _ in range(iters):
        resp, seen = np.zeros_like(w), np.zeros_like(w)
        for row in rows:
            branches = _log_branches(w, row)
            post = np.exp(branches - np.logaddexp.reduce(branches))
            for (c, _), p in zip(row[2], post[1:]):
                resp[row[0], c] += p
            seen[row[0], row[3]] += 1
        pooled = resp.sum(0) / np.maximum(seen.sum(0), 1)
        w = np.clip((resp + prior * pooled) / np.maximum(seen + prior, 1e-9), 1e-5, cap)
    return w
