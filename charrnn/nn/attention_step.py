"""The trained Transformer as a NumPy step function with a key/value cache: StepNet's interface.

    net = AttentionStep(config, read_weights("run/best.weights.h5", config))
    state = net.initial_state(lanes)
    logits = net.step(ids, state)  # ids (lanes,) -> logits (lanes, V); state moves on one character

charrnn.nn.transformer's Keras model is the reference (tests/test_attention_step.py: the same
next-character probabilities to 1e-5). Each step runs one new character per lane through the
blocks; its keys and values are kept, so attention reads the cached ones instead of running the
whole text again (`forward`, the uncached pass, is what bench/generate_speed.py compares with).

A state is [[keys, values] per block, [positions]]: keys and values (lanes, heads, capacity, D)
with D = units / heads, positions (lanes,) the number of characters each lane has read. Lanes are
on axis 0 of every array, so charrnn.nn.sampling can drop finished lanes with `s[keep]`. The cache
grows in chunks of CHUNK columns as the text does (a copy of the live columns only, not of
`context`); a lane only attends to columns below its position, so lanes may stand at different
positions (a rewound lane), and what lies beyond a lane's position is never read.

A lane that has read `context` characters cannot read another (positions are learned only up to
context): `step` raises CharrnnError. Sampling caps a tune at `context` characters (`max_chars`),
so a tune is cut there, as at max_chars. Unlike the RNN, the model needs no warm-up tune: every
training window starts at a tune's first character at position 0, as a sampled tune does
(`warm_up = False`; charrnn.nn.sampling and charrnn.steering read it).
"""
import numpy as np

from ..errors import CharrnnError
from .config import LAYER_NORM_EPSILON

CHUNK = 128  # cache columns added at a time


def _layer_norm(x, gamma, beta):
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.square(centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + LAYER_NORM_EPSILON) * gamma + beta


def _gelu(x):
    """GELU, tanh form (keras.activations.gelu(x, approximate=True))."""
    return 0.5 * x * (1.0 + np.tanh(np.float32(np.sqrt(2 / np.pi)) * (x + np.float32(0.044715) * x ** 3)))


def _softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)
    return z


class AttentionStep:
    """Token + position embeddings -> pre-norm blocks -> Dense, one character per lane per step."""

    warm_up = False  # see the module's docstring

    def __init__(self, config, weights):
        self.config = config
        self.heads, self.context = config.heads, config.context  # context: most characters a lane reads
        self.key_dim = config.units // config.heads
        f32 = lambda ws: [np.asarray(w, np.float32) for w in ws]  # noqa: E731
        self.embedding = f32(weights["embedding"])[0]  # (V, U)
        self.positions = f32(weights["positions"])[0]  # (context, U)
        self.blocks = []
        for i in range(config.layers):
            wq, bq, wk, bk, wv, bv, wo, bo = f32(weights[f"block_{i}_attention"])
            units = wq.shape[0]
            # Keras scales the queries by 1/sqrt(D) after the bias: folded into their columns.
            scale = np.float32(1.0 / np.sqrt(self.key_dim))
            qkv = np.concatenate([wq.reshape(units, -1) * scale, wk.reshape(units, -1), wv.reshape(units, -1)], 1)
            qkv_bias = np.concatenate([bq.reshape(-1) * scale, bk.reshape(-1), bv.reshape(-1)])
            self.blocks.append(dict(
                norm_1=f32(weights[f"block_{i}_norm_1"]), qkv=(qkv, qkv_bias),  # (U, 3U), (3U,)
                out=(wo.reshape(-1, units), bo), norm_2=f32(weights[f"block_{i}_norm_2"]),  # (U, U), (U,)
                ffn_1=f32(weights[f"block_{i}_ffn_1"]), ffn_2=f32(weights[f"block_{i}_ffn_2"])))
        self.final_norm = f32(weights["final_norm"])
        self.dense_kernel, self.dense_bias = f32(weights["logits"])

    def full(self, state):
        """Whether a lane has read `context` characters, all this transformer can read."""
        return bool(state[-1][0].max() >= self.context)

    def initial_state(self, lanes):
        """An empty cache: per block keys and values (lanes, heads, 0, D); positions (lanes,) zero."""
        empty = (lanes, self.heads, 0, self.key_dim)
        return [[np.zeros(empty, np.float32), np.zeros(empty, np.float32)] for _ in self.blocks] + [
            [np.zeros(lanes, np.int64)]]

    def _grow(self, state, needed):
        """Widen every block's cache to hold `needed` columns (a chunk more, at most context)."""
        capacity = min(self.context, needed + CHUNK - 1 - (needed - 1) % CHUNK)
        for layer in state[:-1]:
            for k, cache in enumerate(layer):
                wider = np.zeros(cache.shape[:2] + (capacity,) + cache.shape[3:], np.float32)
                wider[:, :, :cache.shape[2]] = cache
                layer[k] = wider

    def step(self, ids, state):
        """ids (lanes,) int -> logits (lanes, V), a new array. `state` is updated in place: the
        caches get this character's keys and values at each lane's position (written into the
        arrays, or into wider new ones), the positions a new array one higher."""
        ids = np.asarray(ids)
        pos = state[-1][0]  # (lanes,)
        lanes = len(ids)
        if lanes == 0:
            return np.zeros((0, len(self.dense_bias)), np.float32)
        if self.full(state):
            raise CharrnnError(f"a tune of more than {self.context} characters does not fit this "
                               f"transformer's context ({self.context} characters)")
        span = int(pos.max()) + 1  # cache columns any lane attends to
        if state[0][0].shape[2] < span:
            self._grow(state, span)
        rows = np.arange(lanes)
        # Columns at or beyond a lane's own position + 1 hold nothing of its text: masked out.
        mask = None if (pos == pos[0]).all() else (np.arange(span) > pos[:, None])[:, None, :]  # (lanes, 1, T)
        x = self.embedding[ids] + self.positions[pos]  # (lanes, U)
        for block, (keys, values) in zip(self.blocks, state):
            h = _layer_norm(x, *block["norm_1"])
            qkv = h @ block["qkv"][0] + block["qkv"][1]  # (lanes, 3U)
            q, k, v = (part.reshape(lanes, self.heads, self.key_dim) for part in np.split(qkv, 3, axis=1))
            keys[rows, :, pos] = k  # (lanes, H, D) into column pos of each lane
            values[rows, :, pos] = v
            scores = np.matmul(keys[:, :, :span], q[..., None])[..., 0]  # (lanes, H, T)
            if mask is not None:
                scores[np.broadcast_to(mask, scores.shape)] = -np.inf
            probs = _softmax(scores)
            attended = np.matmul(probs[:, :, None, :], values[:, :, :span])[:, :, 0]  # (lanes, H, D)
            x = x + attended.reshape(lanes, -1) @ block["out"][0] + block["out"][1]
            x = x + self._ffn(x, block)
        state[-1][0] = pos + 1
        return _layer_norm(x, *self.final_norm) @ self.dense_kernel + self.dense_bias

    @staticmethod
    def _ffn(x, block):
        h = _layer_norm(x, *block["norm_2"])
        return _gelu(h @ block["ffn_1"][0] + block["ffn_1"][1]) @ block["ffn_2"][0] + block["ffn_2"][1]

    def forward(self, ids):
        """The uncached pass: ids (lanes, T <= context) -> logits (lanes, T, V), every position
        attending to those before it, as the Keras model computes it."""
        ids = np.asarray(ids)
        lanes, length = ids.shape
        x = self.embedding[ids] + self.positions[:length]  # (lanes, T, U)
        future = np.triu(np.ones((length, length), bool), 1)  # (T, T): column after row
        for block in self.blocks:
            h = _layer_norm(x, *block["norm_1"])
            qkv = h @ block["qkv"][0] + block["qkv"][1]  # (lanes, T, 3U)
            q, k, v = (part.reshape(lanes, length, self.heads, self.key_dim).transpose(0, 2, 1, 3)
                       for part in np.split(qkv, 3, axis=2))  # (lanes, H, T, D)
            scores = q @ k.transpose(0, 1, 3, 2)  # (lanes, H, T, T)
            scores[..., future] = -np.inf
            attended = (_softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(lanes, length, -1)
            x = x + attended @ block["out"][0] + block["out"][1]
            x = x + self._ffn(x, block)
        return _layer_norm(x, *self.final_norm) @ self.dense_kernel + self.dense_bias
