"""keras.layers.LSTM with the same weights, trained faster on a CPU.

    from charrnn.nn.lstm import LSTM   # a drop-in for keras.layers.LSTM; build_model uses it

Why: on a CPU, Keras runs its LSTM as a graph loop with one `x_t @ kernel` and one
`h @ recurrent_kernel` product per step, and autodiff adds two more products per step going back.
With 64 lanes those are small products, and they are most of a training step. Here, as cuDNN does
on a GPU:

- the input projection of all steps is one (T*B, in) @ (in, 4U) product before the loop;
- the backward pass is written out, so each step going back keeps one `dz @ recurrent_kernel^T`,
  and the gradients of both kernels are one large product each after the loop;
- the loop is unrolled (the sequence length is fixed in training), which saves the graph loop's
  own bookkeeping at every step;
- the gates and the cell state stay float32 when the products run in bfloat16
  (`mixed_bfloat16`), so the memory of the cell does not round away within a batch.

The class keeps Keras' name, weights, gate order (i, f, c, o) and config, so `.weights.h5` files
load either way. What this path does not cover (a GPU, where Keras runs cuDNN; no fixed length or
one over MAX_UNROLL; masks, `go_backwards`, dropout inside the cell, other activations, another
backend) runs Keras' own loop.
`python bench/train_speed.py` measures the gain.
"""
import keras
import tensorflow as tf
from keras import activations

MAX_UNROLL = 512  # longer fixed sequences run Keras' loop: an unrolled graph grows with the length


class LSTM(keras.layers.LSTM):
    def _fusable(self, sequences, mask):
        cell = self.cell
        steps = sequences.shape[1]
        return (keras.backend.backend() == "tensorflow" and not tf.config.list_logical_devices("GPU")
                and steps is not None and steps <= MAX_UNROLL
                and mask is None and not self.go_backwards and not cell.dropout and not cell.recurrent_dropout
                and cell.use_bias and cell.activation is activations.tanh
                and cell.recurrent_activation is activations.sigmoid)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self._fusable(sequences, mask):
            return super().inner_loop(sequences, initial_state, mask=mask, training=training)
        cell = self.cell
        compute = sequences.dtype  # bfloat16 under mixed_bfloat16: the products run in it
        outputs, h, c = _lstm(sequences, tf.cast(initial_state[0], tf.float32), tf.cast(initial_state[1], tf.float32),
                              tf.cast(cell.kernel, compute), tf.cast(cell.recurrent_kernel, compute),
                              tf.cast(cell.bias, tf.float32))
        return h, outputs if self.return_sequences else h, [h, c]


@tf.custom_gradient
def _lstm(x, h0, c0, kernel, recurrent_kernel, bias):
    """x (B, T, in), state h0, c0 (B, U) -> outputs (B, T, U) in x's dtype, h_T and c_T (B, U) float32."""
    compute, steps = x.dtype, x.shape[1]
    batch, width, units = tf.shape(x)[0], tf.shape(x)[2], tf.shape(h0)[1]
    x_tm = tf.reshape(tf.transpose(x, [1, 0, 2]), [-1, width])             # (T*B, in), time-major rows
    zx = tf.cast(tf.matmul(x_tm, kernel), tf.float32) + bias                 # (T*B, 4U): every step at once
    zx = tf.unstack(tf.reshape(zx, [steps, batch, 4 * units]))              # T x (B, 4U)

    h, c = h0, c0
    hs, cs, acts = [], [], []
    for t in range(steps):
        z = zx[t] + tf.cast(tf.matmul(tf.cast(h, compute), recurrent_kernel), tf.float32)  # (B, 4U)
        i, f, g, o = tf.split(z, 4, axis=-1)
        i, f, g, o = tf.sigmoid(i), tf.sigmoid(f), tf.tanh(g), tf.sigmoid(o)
        c = f * c + i * g
        tanh_c = tf.tanh(c)
        h = o * tanh_c
        hs.append(h)
        cs.append(c)
        acts.append((i, f, g, o, tanh_c))  # what the backward pass needs, kept instead of recomputed
    outputs = tf.cast(tf.stack(hs, axis=1), compute)                         # (B, T, U)

    def grad(d_outputs, d_h, d_c):
        d_hs = tf.unstack(tf.cast(d_outputs, tf.float32), axis=1)           # T x (B, U)
        recurrent_t = tf.transpose(recurrent_kernel)                         # (4U, U)
        dh_next, dc = tf.cast(d_h, tf.float32), tf.cast(d_c, tf.float32)
        dzs = [None] * steps
        for t in reversed(range(steps)):
            i, f, g, o, tanh_c = acts[t]
            dh = d_hs[t] + dh_next
            dc = dc + dh * o * (1 - tanh_c * tanh_c)
            c_prev = cs[t - 1] if t else c0
            dzs[t] = tf.concat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                                dc * i * (1 - g * g), dh * tanh_c * o * (1 - o)], axis=-1)  # (B, 4U)
            dh_next = tf.cast(tf.matmul(tf.cast(dzs[t], compute), recurrent_t), tf.float32)
            dc = dc * f
        dz = tf.concat(dzs, axis=0)                                          # (T*B, 4U), time-major rows
        dz_c = tf.cast(dz, compute)
        h_prev = tf.cast(tf.concat([h0] + hs[:-1], axis=0), compute)         # (T*B, U)
        d_kernel = tf.matmul(x_tm, dz_c, transpose_a=True)                   # (in, 4U)
        d_recurrent = tf.matmul(h_prev, dz_c, transpose_a=True)              # (U, 4U)
        d_x = tf.matmul(dz_c, kernel, transpose_b=True)                      # (T*B, in)
        d_x = tf.transpose(tf.reshape(d_x, [steps, batch, width]), [1, 0, 2])
        return d_x, dh_next, dc, d_kernel, d_recurrent, tf.reduce_sum(dz, axis=0)

    return (outputs, h, c), grad
