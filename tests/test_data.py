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


def test_batches_are_read_from_a_memmap_without_copying_it(tmp_path):
    ids = np.random.default_rng(1).integers(0, 90, size=5000).astype(np.uint8)
    np.save(tmp_path / "train.ids.npy", ids)
    mapped = np.load(tmp_path / "train.ids.npy", mmap_mode="r")  # read-only, on disk
    x, y = read_batches(ids, 8, 16)
    batches = list(make_dataset(mapped, 8, 16).as_numpy_iterator())
    assert len(batches) == len(x) and batches[0][0].dtype == np.int32
    assert all(np.array_equal(bx, x[k]) and np.array_equal(by, y[k]) for k, (bx, by) in enumerate(batches))


def test_blocks_give_each_replica_its_rows_of_every_batch_in_turn():
    ids = np.arange(3000)
    x, y = read_batches(ids, 8, 10)
    blocks = [(4, 6), (6, 8)]  # replicas 2 and 3 of 4: one worker's two replicas
    got = list(make_dataset(ids, 8, 10, blocks=blocks).as_numpy_iterator())
    assert len(got) == 2 * len(x)
    for e, (bx, by) in enumerate(got):
        k, (a, b) = e // 2, blocks[e % 2]
        assert np.array_equal(bx, x[k, a:b]) and np.array_equal(by, y[k, a:b])
    # Overlapping lanes (a short valid.abc) cut the same way.
    vx, _ = read_batches(ids[:100], 8, 10, overlap=True)
    assert np.array_equal(next(make_dataset(ids[:100], 8, 10, overlap=True, blocks=[(0, 4)]).as_numpy_iterator())[0],
                          vx[0, :4])
