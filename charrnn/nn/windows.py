"""Cut encoded text into windows of whole tunes for the Transformer, and feed them through tf.data.

    x, y, weights = tune_windows(ids, starts=tune_starts(ids, vocab), context=1024)

Each window starts at a tune's first character ("X:") and holds as many whole tunes as fit in
context + 1 characters (inputs and next-character targets), each with the blank line after it;
the rest is padding, with target weight 0. A tune longer than the window fills it alone and its
tail is left out (0.2% of the corpus' tunes pass 1,024 characters). Windows are independent (the
model is not stateful), so they may be shuffled.
"""
import numpy as np

from ..errors import CharrnnError

PAD = 0  # the id padding holds (any id: its targets weigh 0, and causal attention never looks ahead)


def tune_starts(ids, vocab):
    """Offsets of the tunes' first characters: "X:" at the text's start or after a blank line."""
    ids = np.asarray(ids)
    newline, x_id, colon = (vocab.char_to_idx.get(c, -1) for c in "\nX:")
    at = np.arange(len(ids) - 1)
    head = (ids[:-1] == x_id) & (ids[1:] == colon)
    after_blank = (at >= 2) & (np.roll(ids, 1)[:-1] == newline) & (np.roll(ids, 2)[:-1] == newline)
    return at[head & ((at == 0) | after_blank)]


def tune_windows(ids, starts, context):
    """Inputs, targets and target weights, each (n_windows, context).

    x[w, t] = the window's character t, y[w, t] = character t + 1, weights[w, t] = 1 where y[w, t]
    is text and 0 on padding. The text before the first start is not used.
    """
    ids = np.asarray(ids, dtype=np.int32)
    bounds = np.append(np.asarray(starts, dtype=np.int64), len(ids))  # tune k is bounds[k]:bounds[k + 1]
    windows, lengths = [], []
    k = 0
    while k < len(bounds) - 1:
        begin = bounds[k]
        # The last tune start (or the text's end) within context + 1 characters: whole tunes up to it.
        last = np.searchsorted(bounds, begin + context + 1, side="right") - 1
        if last > k:
            end, k = bounds[last], last
        else:  # one tune longer than the window: its first context + 1 characters
            end, k = begin + context + 1, k + 1
        windows.append(ids[begin:end])
        lengths.append(end - begin)
    x = np.full((len(windows), context + 1), PAD, dtype=np.int32)
    for w, text in enumerate(windows):
        x[w, :len(text)] = text
    weights = (np.arange(context)[None, :] < np.asarray(lengths)[:, None] - 1).astype(np.float32)
    return np.ascontiguousarray(x[:, :-1]), np.ascontiguousarray(x[:, 1:]), weights


def batches_per_epoch(n_windows, batch_size):
    return -(-n_windows // batch_size)


def make_window_dataset(x, y, weights, batch_size, shuffle_seed=None, epochs=(0, 1)):
    """A tf.data.Dataset of (x, y, weights) batches for the epochs in range(*epochs), one after
    the other (fit it with steps_per_epoch=batches_per_epoch(len(x), batch_size)).

    With a shuffle_seed, epoch e reads the windows in an order fixed by (shuffle_seed, e), so a
    resumed run (epochs=(done, total)) reads what the uninterrupted run would have; without one,
    in order.
    """
    import tensorflow as tf

    n = len(x)
    data = tuple(tf.constant(a) for a in (x, y, weights))

    def epoch(e):
        order = tf.range(n, dtype=tf.int64)
        if shuffle_seed is not None:
            seed = tf.stack([tf.constant(shuffle_seed, tf.int64), e])
            order = tf.random.experimental.stateless_shuffle(order, seed=seed)
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    ds = tf.data.Dataset.range(*epochs).flat_map(epoch)
    # flat_map hides the length; Keras stops quietly at the end of a dataset that states it.
    ds = ds.apply(tf.data.experimental.assert_cardinality(batches_per_epoch(n, batch_size) * len(range(*epochs))))
    return ds.map(lambda rows: tuple(tf.gather(a, rows) for a in data)).prefetch(tf.data.AUTOTUNE)


def window_datasets(train_ids, valid_ids, vocab, context, batch_size, shuffle_seed, epochs):
    """(training batches, validation batches or None, steps per epoch) for charrnn.training:
    training windows shuffled per epoch (see make_window_dataset), validation ones in order."""
    starts = tune_starts(train_ids, vocab)
    if not len(starts):
        raise CharrnnError("train.abc has no tune that starts with 'X:' (the transformer's windows start at tunes)")
    x, y, weights = tune_windows(train_ids, starts, context)
    steps = batches_per_epoch(len(x), batch_size)
    train = make_window_dataset(x, y, weights, batch_size, shuffle_seed, epochs)
    valid_starts = tune_starts(valid_ids, vocab) if len(valid_ids) > 1 else []
    if not len(valid_starts):
        return train, None, steps
    return train, make_window_dataset(*tune_windows(valid_ids, valid_starts, context), batch_size), steps
