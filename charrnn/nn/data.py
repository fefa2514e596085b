"""Cut encoded text into parallel lanes for a stateful model, and feed them through tf.data.

The corpus (N ids) is cut into `batch_size` contiguous lanes of N // batch_size ids. Batch k
holds characters [k*seq_len, (k+1)*seq_len) of every lane, so row i of batch k+1 continues
row i of batch k and the stateful model's state carries the context across batches.
"""
import numpy as np


def read_batches(ids, batch_size, seq_len, overlap=False):
    """Inputs and next-character targets, each of shape (n_batches, batch_size, seq_len).

    x[k, i] = lane i, characters k*seq_len ... (k+1)*seq_len - 1; y is x shifted by one.
    `overlap=True` lets a text shorter than one batch (but at least seq_len + 1 long) give one
    batch of lanes spread evenly over it, overlapping (small validation sets).
    """
    ids = np.asarray(ids, dtype=np.int32)
    lane_len = (len(ids) - 1) // batch_size  # -1: the last target needs one id beyond
    n_batches = lane_len // seq_len
    if n_batches < 1 and overlap and len(ids) >= seq_len + 1:
        starts = np.linspace(0, len(ids) - 1 - seq_len, batch_size).round().astype(np.int64)
        lanes = ids[starts[:, None] + np.arange(seq_len + 1)]
        return np.ascontiguousarray(lanes[None, :, :-1]), np.ascontiguousarray(lanes[None, :, 1:])
    if n_batches < 1:
        raise ValueError(f"text of {len(ids)} characters is too short for "
                         f"{batch_size} lanes of {seq_len} characters")
    used = n_batches * seq_len
    starts = np.arange(batch_size) * lane_len  # (B,)
    lanes = ids[starts[:, None] + np.arange(used + 1)]  # (B, used + 1)
    # (B, used) -> (B, n_batches, seq_len) -> (n_batches, B, seq_len)
    x = lanes[:, :-1].reshape(batch_size, n_batches, seq_len).transpose(1, 0, 2)
    y = lanes[:, 1:].reshape(batch_size, n_batches, seq_len).transpose(1, 0, 2)
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


def make_dataset(ids, batch_size, seq_len, overlap=False):
    """A tf.data.Dataset of (x, y) batches in lane order (never shuffled: order is the state)."""
    import tensorflow as tf

    x, y = read_batches(ids, batch_size, seq_len, overlap)
    return tf.data.Dataset.from_tensor_slices((x, y)).prefetch(tf.data.AUTOTUNE)
