"""Cut encoded text into parallel lanes for a stateful model, and feed them through tf.data.

    x, y = read_batches(ids, batch_size=64, seq_len=64)     # NumPy arrays (n_batches, 64, 64)
    dataset = make_dataset(ids, 64, 64)                     # the same batches, built one at a time

The corpus (N ids) is cut into `batch_size` contiguous lanes of N // batch_size ids. Batch k
holds characters [k*seq_len, (k+1)*seq_len) of every lane, so row i of batch k+1 continues
row i of batch k and the stateful model's state carries the context across batches.

make_dataset reads each batch from `ids` when tf.data asks for it, so training holds one copy of
the corpus (or none: `ids` may be a read-only np.memmap, `np.load(path, mmap_mode="r")`).
`blocks` gives a dataset only some rows of each batch, in turn: a replica's lanes
(charrnn.nn.distribute).
"""
import numpy as np


def lane_starts(n_ids, batch_size, seq_len, overlap=False):
    """(starts, n_batches): where each lane starts in a text of n_ids ids (B,), and how many
    batches of seq_len it gives. See read_batches for `overlap`."""
    lane_len = (n_ids - 1) // batch_size  # -1: the last target needs one id beyond
    n_batches = lane_len // seq_len
    if n_batches < 1 and overlap and n_ids >= seq_len + 1:
        return np.linspace(0, n_ids - 1 - seq_len, batch_size).round().astype(np.int64), 1
    if n_batches < 1:
        raise ValueError(f"text of {n_ids} characters is too short for "
                         f"{batch_size} lanes of {seq_len} characters")
    return np.arange(batch_size, dtype=np.int64) * lane_len, n_batches


def as_ids(ids):
    """A 1-D integer array over `ids`, not a copy of it when it is one already (a memmap stays one)."""
    array = np.asarray(ids)
    if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise ValueError(f"ids must be a 1-D array of integers, not shape {array.shape} of {array.dtype}")
    return array


def read_batches(ids, batch_size: int, seq_len: int, overlap: bool = False):
    """Inputs and next-character targets, each of shape (n_batches, batch_size, seq_len).

    x[k, i] = lane i, characters k*seq_len ... (k+1)*seq_len - 1; y is x shifted by one.
    `overlap=True` lets a text shorter than one batch (but at least seq_len + 1 long) give one
    batch of lanes spread evenly over it, overlapping (small validation sets).
    """
    ids = as_ids(ids)
    starts, n_batches = lane_starts(len(ids), batch_size, seq_len, overlap)
    lanes = np.asarray(ids[starts[:, None] + np.arange(n_batches * seq_len + 1)], dtype=np.int32)  # (B, used + 1)
    # (B, used) -> (B, n_batches, seq_len) -> (n_batches, B, seq_len)
    x = lanes[:, :-1].reshape(batch_size, n_batches, seq_len).transpose(1, 0, 2)
    y = lanes[:, 1:].reshape(batch_size, n_batches, seq_len).transpose(1, 0, 2)
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


def make_dataset(ids, batch_size, seq_len, overlap=False, blocks=None):
    """A tf.data.Dataset of (x, y) int32 batches in lane order (never shuffled: order is the state).

    Without `blocks`, element k is read_batches' batch k, (batch_size, seq_len) each. `blocks` is a
    list of row ranges (start, stop) of equal length b: then the dataset yields, for every batch k,
    rows [start, stop) of it for each block in turn, (b, seq_len) each.
    """
    import tensorflow as tf

    ids = as_ids(ids)
    starts, n_batches = lane_starts(len(ids), batch_size, seq_len, overlap)
    blocks = blocks or [(0, batch_size)]
    # windows[j, r] = the ids block j's row r reads for batch 0: (n_blocks, b, seq_len + 1).
    windows = np.stack([starts[a:b] for a, b in blocks])[:, :, None] + np.arange(seq_len + 1)
    rows = windows.shape[1]

    def batch(element):
        k, j = divmod(int(element), len(windows))
        lanes = np.asarray(ids[windows[j] + k * seq_len], dtype=np.int32)  # (b, seq_len + 1): one batch read
        return lanes[:, :-1], lanes[:, 1:]

    def read(element):
        x, y = tf.numpy_function(batch, [element], (tf.int32, tf.int32), stateful=False)
        return tf.ensure_shape(x, (rows, seq_len)), tf.ensure_shape(y, (rows, seq_len))

    return tf.data.Dataset.range(n_batches * len(windows)).map(read).prefetch(tf.data.AUTOTUNE)
