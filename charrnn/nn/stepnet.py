"""The trained network as a NumPy step function: one character per lane per step, many lanes at once.

The Keras batch-1 stateful generator (`build_model(config, 1, 1, stateful=True)`) is the
reference; `StepNet` computes the same next-character probabilities (to ~1e-6, see
tests/test_sampling.py) without Keras' per-call overhead, so one character costs a few
small matrix products instead of a ~40 ms `model.predict`.

What a step costs besides its matrix products is kept small (bench/generate_speed.py):
- gates are computed in preallocated scratch buffers (`out=`), not in fresh temporaries;
- the sigmoid gates' weight columns are stored halved, so one in-place `tanh` over a layer's
  whole gate block gives every gate: sigmoid(x) = 0.5 * tanh(x / 2) + 0.5, and halving is exact
  in floating point, so the values are bit for bit those of the straightforward formula; the
  0.5 t + 0.5 is applied to whole rows (the tanh gate's columns times 1 plus 0, unchanged), as
  contiguous passes are 2-4x faster than passes over the strided i, f, o block;
- the LSTM's gate columns are reordered i, f, o, c so the three sigmoid gates are one block;
- an LSTM layer after the first is one product [x, h, 1] @ [W; U; b] ((lanes, 2U + 1) @
  (2U + 1, 4U)), its input written into a preallocated buffer whose last column stays 1; the first
  layer's bias is folded into its embedding table. That is 3 products a step instead of 5, and no
  separate bias or h @ U additions. Keras sums x @ W + h @ U + b in another order, so a gate may
  differ in its last bit (tests/test_sampling.py holds the probabilities to Keras' within 1e-5).
At many lanes the products take most of a step; at a few lanes a step costs about the same
whatever the lanes, as every product streams all the weights: the long tail of steps in which
few lanes still write.
"""
import os
import threading
from contextlib import contextmanager

import numpy as np


class StepNet:
    """Embedding -> L recurrent layers -> Dense, one character per lane per step, in NumPy.

    `weights` maps Keras layer names to their weight arrays (Keras 3 layouts: LSTM gates
    i, f, c, o; GRU gates z, r, h with reset_after=True and a (2, 3U) bias). A state is a list
    with one list per layer of arrays (lanes, units): [h, c] for an LSTM, [h] for a GRU.
    """

    warm_up = True  # sampling primes its lanes with a throw-away tune (charrnn.nn.sampling.sample_tunes)
    context = None  # no limit on a tune's length (a transformer's is its context)
    # A lane's state is 2 x layers x units floats (6 KB): copying the active rows each time a lane
    # finishes costs far less than stepping the finished rows on (~40 us a row at 200 lanes), so
    # the sampler drops them at once (charrnn.nn.sampling.sample_lanes).
    drop_rows_at_once = True

    def __init__(self, config, weights):
        self.config = config
        self.lstm = config.cell == "lstm"
        units = config.units
        embedding = np.asarray(weights["embedding"][0], np.float32)  # (V, E)
        if self.lstm:  # Keras' i, f, c, o -> i, f, o, c, with the sigmoid gates i, f, o halved
            order = np.r_[0:2 * units, 3 * units:4 * units, 2 * units:3 * units]
            scale = np.r_[np.full(3 * units, 0.5), np.ones(units)].astype(np.float32)
        else:  # z, r (sigmoid, halved), h (tanh, and the recurrent half is multiplied by r: as is)
            order = np.arange(3 * units)
            scale = np.r_[np.full(2 * units, 0.5), np.ones(units)].astype(np.float32)
        self.layers = []
        for i in range(config.layers):
            kernel, recurrent, bias = (np.asarray(w, np.float32) for w in weights[f"{config.cell}_{i}"])
            if i == 0:
                # The first layer only ever sees embedding rows, so fold Embedding @ kernel
                # into one (V, gates) table: a row lookup replaces the largest matrix product.
                kernel = embedding @ kernel
            kernel, recurrent, bias = (w[..., order] * scale for w in (kernel, recurrent, bias))
            if not self.lstm:  # GRU: h @ U is needed apart from x @ W (the reset gate scales part of it)
                self.layers.append(tuple(np.ascontiguousarray(w) for w in (kernel, recurrent, bias)))
            elif i == 0:  # (V, G) table of x @ W + b, and U (units, G)
                self.layers.append((np.ascontiguousarray(kernel + bias), np.ascontiguousarray(recurrent)))
            else:  # one product [x, h, 1] @ [W; U; b]: (2 units + 1, G)
                self.layers.append((np.ascontiguousarray(np.vstack([kernel, recurrent, bias[None]])),))
        self.dense_kernel, self.dense_bias = (np.asarray(w, np.float32) for w in weights["logits"])
        # tanh -> gates over a whole row, by the columns' halving: i, f, o: 0.5 t + 0.5 (sigmoid); c: 1 t + 0 (t)
        self.gate_scale, self.gate_shift = scale, np.where(scale < 1, scale, 0).astype(np.float32)  # (G,) each
        self._local = threading.local()  # scratch buffers, one set per thread

    @staticmethod
    def full(state):
        """Whether a lane has read as much text as the net can: never, for a recurrent net."""
        return False

    def initial_state(self, lanes):
        """Zero state: per layer h (and c for LSTM), each (lanes, units)."""
        n = 2 if self.lstm else 1
        return [[np.zeros((lanes, self.config.units), np.float32) for _ in range(n)]
                for _ in self.layers]

    def _scratch(self, lanes):
        """Views of `lanes` rows of this thread's buffers: gates z (lanes, G), rz (lanes, G),
        tmp (lanes, U), and per layer after the first its input [x, h, 1] (lanes, 2U + 1)."""
        buffers = getattr(self._local, "buffers", None)
        if buffers is None or len(buffers[0]) < lanes:
            units, gates = self.config.units, self.layers[0][1].shape[1]
            xh = [np.ones((lanes, 2 * units + 1), np.float32) for _ in self.layers[1:]]  # the 1s stay
            buffers = (np.empty((lanes, gates), np.float32), np.empty((lanes, gates), np.float32),
                       np.empty((lanes, units), np.float32), xh)
            self._local.buffers = buffers
        z, rz, tmp, xh = buffers
        return z[:lanes], rz[:lanes], tmp[:lanes], [b[:lanes] for b in xh]

    def step(self, ids, state):
        """ids (lanes,) int -> logits (lanes, V), a new array; `state` is updated in place (its
        lists get new arrays; the arrays passed in are not written to)."""
        ids = np.asarray(ids)
        z, rz, tmp, xh = self._scratch(len(ids))
        x = self._lstm_layers(ids, state, z, rz, tmp, xh) if self.lstm else self._gru_layers(ids, state, z, rz, tmp)
        logits = x @ self.dense_kernel
        logits += self.dense_bias
        return logits

    def _lstm_layers(self, ids, state, z, rz, tmp, xh):
        """The LSTM layers: per layer one product into z (lanes, G), then the cell; the last h."""
        table, recurrent = self.layers[0]
        # x @ W + b of the first layer: a row lookup. mode="clip" writes straight into z (the
        # default, "raise", goes through a temporary copy: 4x slower at 200 lanes); ids come from
        # the vocabulary and draw(), so none is out of range.
        np.take(table, ids, axis=0, out=z, mode="clip")
        z += np.matmul(state[0][0], recurrent, out=rz)
        state[0][:] = x = self._lstm_cell(z, tmp, state[0][1])
        u = self.config.units
        for (stacked,), layer_state, inputs in zip(self.layers[1:], state[1:], xh):
            inputs[:, :u] = x[0]  # [x, h, 1] @ [W; U; b]: one product instead of two and a sum
            inputs[:, u:2 * u] = layer_state[0]
            np.matmul(inputs, stacked, out=z)
            layer_state[:] = x = self._lstm_cell(z, tmp, layer_state[1])
        return x[0]

    def _gru_layers(self, ids, state, z, rz, tmp):
        x = None
        for i, ((kernel, recurrent, bias), layer_state) in enumerate(zip(self.layers, state)):
            if i == 0:
                np.take(kernel, ids, axis=0, out=z, mode="clip")  # (lanes, G), as in _lstm_layers
            else:
                np.matmul(x, kernel, out=z)
            layer_state[:] = [x] = [self._gru(z, rz, tmp, recurrent, bias, *layer_state)]
        return x

    def _lstm_cell(self, z, tmp, c):
        """Gate pre-activations z (lanes, 4U: i, f, o halved, then c), c (lanes, U) -> [h, c], new arrays."""
        u = c.shape[1]
        np.tanh(z, out=z)  # i, f, o: tanh(x / 2); c: tanh(x)
        # i, f, o: sigmoid(x) = 0.5 tanh(x / 2) + 0.5; c stays tanh(x) (x 1, + 0). Over whole rows,
        # with a row of factors, rather than on the strided i, f, o block: 3x faster at 200 lanes.
        z *= self.gate_scale
        z += self.gate_shift
        c_new = np.multiply(z[:, u:2 * u], c)  # f * c
        c_new += np.multiply(z[:, :u], z[:, 3 * u:], out=tmp)  # + i * g
        h_new = np.tanh(c_new)
        h_new *= z[:, 2 * u:3 * u]  # o * tanh(c)
        return [h_new, c_new]

    @staticmethod
    def _gru(z, rz, tmp, recurrent, bias, h):
        u = h.shape[1]
        z += bias[0]  # x parts: z, r, h
        np.matmul(h, recurrent, out=rz)
        rz += bias[1]  # h parts: z, r, h
        zr = z[:, :2 * u]
        zr += rz[:, :2 * u]
        np.tanh(zr, out=zr)
        zr *= 0.5
        zr += 0.5  # update and reset gates: sigmoid
        gate, reset = z[:, :u], z[:, u:2 * u]
        cand = z[:, 2 * u:]
        cand += np.multiply(reset, rz[:, 2 * u:], out=tmp)
        np.tanh(cand, out=cand)
        h_new = gate * h
        np.subtract(1.0, gate, out=tmp)
        h_new += np.multiply(tmp, cand, out=tmp)  # z * h + (1 - z) * candidate
        return h_new


@contextmanager
def blas_threads():
    """Run the products on one BLAS thread when the CPUs are busy, on all of them otherwise.

    A step's products are small (at most 200 x 512 x 1024), and OpenBLAS' threads wait for each
    other at every product: when other processes hold the cores (a training run, `charrnn
    evaluate`'s workers, other users), two threads made 200-lane sampling 5-7x slower than one
    on our 2-core Xeon. $CHARRNN_SAMPLING_THREADS sets the number; "auto" (the default) uses one
    thread when the load average is at least the number of CPUs (other work holds them). The
    tunes do not depend on it (OpenBLAS splits a product's rows and columns over threads, never
    its sums).
    """
    setting = os.environ.get("CHARRNN_SAMPLING_THREADS", "auto")
    if setting == "auto":
        cpus = os.cpu_count() or 1
        busy = hasattr(os, "getloadavg") and os.getloadavg()[0] >= cpus
        threads = 1 if busy or cpus == 1 else None
    else:
        threads = int(setting) if setting.isdigit() and int(setting) > 0 else None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # no control over the BLAS threads: leave them as they are
        threads = None
    if threads is None:
        yield
    else:
        with threadpool_limits(threads, user_api="blas"):
            yield
