"""A continuous cache over the tune's own past, per character (Grave et al., ICLR 2017).

    p(x_t+1) = (1 - lam) p_model(x_t+1) + lam p_cache(x_t+1)
    p_cache(w) = sum_i a_i [x_i+1 = w],   a = softmax_i(theta h_t . h_i)

h_t is the top recurrent layer's output that predicts x_t+1; the keys are the pairs (h_i, x_i+1)
of the characters written so far in the tune's body (after its K: line), its first WINDOW ones.
Where the network is in a state like one it was in before in this tune, the cache points to what
came next then: a tune's own motifs become likelier. Scoring (`cache_log_probs`) and sampling
(`LaneCache`) use the same mixture, so its bits per character are those of what is sampled.
No weight of the network changes; `charrnn form fit` chooses theta and lam on held-out tunes.
"""
import numpy as np

WINDOW = 512  # keys per tune: a body's first WINDOW characters (most bodies are shorter)


def cache_distribution(keys, nexts, queries, theta, size, visible=None):
    """p_cache (queries, size): for each query (Q, U), softmax over keys (L, U) of theta * key . query,
    summed by each key's next id (L,). visible (Q, L) masks keys a query may not see; a query that
    sees none gets zeros."""
    scores = theta * (queries @ keys.T)  # (Q, L)
    if visible is not None:
        scores = np.where(visible, scores, -np.inf)
    top = scores.max(axis=1, keepdims=True)  # (Q, 1)
    top[~np.isfinite(top)] = 0.0
    a = np.exp(scores - top)  # masked keys: exp(-inf) = 0
    a /= np.maximum(a.sum(axis=1, keepdims=True), 1e-30)
    onehot = np.zeros((len(nexts), size), a.dtype)
    onehot[np.arange(len(nexts)), nexts] = 1.0
    return a @ onehot


def cache_log_probs(log_p, keys, ids, covered, spans, theta, lam):
    """log p of the mixture over a text (T, V), from the network's log p (T, V), keys (T, U) (the h
    that predicted each position), the text's ids (T,), `covered` (T,) (positions the network
    predicted) and each tune's body span (lo, hi): position j in a body, predicted from keys[j],
    sees the pairs (keys[i], ids[i]) of earlier positions i of its body, the first WINDOW of them."""
    out = log_p.copy()
    for lo, hi in spans:
        pos = np.arange(lo, hi)
        usable = covered[pos]  # a key whose h was never computed is not a key
        visible = (pos[None, :] < pos[:, None]) & usable[None, :] & (pos[None, :] < lo + WINDOW)  # (L, L)
        seen = visible.any(axis=1)
        if not seen.any():
            continue
        p_cache = cache_distribution(keys[lo:hi], ids[lo:hi], keys[lo:hi], theta, log_p.shape[1], visible)
        mixed = (1 - lam) * np.exp(log_p[lo:hi]) + lam * p_cache
        out[lo:hi][seen] = np.log(np.maximum(mixed[seen], 1e-30))
    return out


class LaneCache:
    """Each sampling lane's keys, (lanes, WINDOW, U) at most, filled as its body is written."""

    def __init__(self, lanes, units, theta, lam):
        self.theta, self.lam = theta, lam
        self.keys = np.zeros((lanes, 64, units), np.float32)  # grown as lanes write (up to WINDOW)
        self.nexts = np.zeros((lanes, WINDOW), np.int64)
        self.count = np.zeros(lanes, np.int64)

    def mix(self, lanes, probs, h):
        """probs (a, V) of `lanes` (a,) mixed in place with their caches; h (a, U) their queries.
        cache_distribution for one query, without its mask and one-hot matrix: a lane at a time,
        a dozen small calls, since lanes hold different numbers of keys."""
        for j in np.flatnonzero(self.count[lanes] > 0):
            lane = lanes[j]
            n = self.count[lane]
            scores = self.keys[lane, :n] @ h[j]  # (n,)
            scores *= self.theta
            scores -= scores.max()
            a = np.exp(scores, out=scores)
            a *= self.lam / a.sum()
            probs[j] *= 1 - self.lam
            probs[j] += np.bincount(self.nexts[lane, :n], weights=a, minlength=probs.shape[1])

    def add(self, lanes, h, ids):
        """Keys (h (a, U), next ids (a,)) for `lanes` (a,) of body text, until each holds WINDOW."""
        room = self.count[lanes] < WINDOW
        lanes, h, ids = lanes[room], h[room], ids[room]
        if not len(lanes):
            return
        if self.count[lanes].max() >= self.keys.shape[1]:  # double the buffer (a few times a call)
            wider = np.zeros((len(self.keys), min(2 * self.keys.shape[1], WINDOW), self.keys.shape[2]), np.float32)
            wider[:, :self.keys.shape[1]] = self.keys
            self.keys = wider
        self.keys[lanes, self.count[lanes]] = h
        self.nexts[lanes, self.count[lanes]] = ids
        self.count[lanes] += 1
