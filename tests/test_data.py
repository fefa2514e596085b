"""read_batches: parallel lanes whose rows continue from one batch to the next."""
import numpy as np
import pytest

from charrnn.nn.data import make_dataset, read_batches


def test_lanes_continue_across_batches():
    ids = np.arange(1000)
    x, y = read_batches(ids, batch_size=4, seq_len=10)
    lane_len = 999 // 4
    assert x.shape == y.shape == (lane_len // 10, 4, 10)
    # Row i of batch k+1 starts where row i of batch k ended.
    for k in range(x.shape[0] - 1):
        assert np.array_equal(x[k + 1, :, 0], x[k, :, -1] + 1)
    # Lane i starts at i * lane_len; the targets are the inputs shifted by one character.
    assert np.array_equal(x[0, :, 0], np.arange(4) * lane_len)
    assert np.array_equal(y, x + 1)


def test_same_semantics_as_the_seed_loop():
    """The vectorised version gives exactly what the seed's per-character loops gave."""
    rng = np.random.default_rng(0)
    T = rng.integers(0, 50, size=2345)
    B, S = 16, 64
    batch_chars = len(T) // B
    x, y = read_batches(T, B, S)
    for k, start in enumerate(range(0, batch_chars - S, S)):
        seed_x = np.array([[T[batch_chars * b + start + i] for i in range(S)] for b in range(B)])
        seed_y = np.array([[T[batch_chars * b + start + i + 1] for i in range(S)] for b in range(B)])
        assert np.array_equal(x[k], seed_x) and np.array_equal(y[k], seed_y)


def test_too_short_text_is_a_clear_error():
    with pytest.raises(ValueError, match="too short"):
        read_batches(np.arange(10), batch_size=4, seq_len=8)


def test_tf_data_pipeline_yields_the_same_batches_in_order():
    ids = np.arange(500)
    x, y = read_batches(ids, 3, 7)
    batches = list(make_dataset(ids, 3, 7).as_numpy_iterator())
    assert len(batches) == len(x)
    assert all(np.array_equal(bx, x[k]) and np.array_equal(by, y[k]) for k, (bx, by) in enumerate(batches))
