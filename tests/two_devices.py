"""Checks that need two devices, run by tests/test_distribute.py in a fresh process: the CPU is
split into two logical devices, which TensorFlow allows only before it first uses a device.

    python tests/two_devices.py CORPUS_DIR RUN_DIR     # prints "ok ..." lines, exits 0

1. Lanes: under MirroredStrategy, replica r reads rows [r*B/R, (r+1)*B/R) of every batch, on the
   path one machine trains on (Keras' experimental_distribute_dataset) and on the multi-worker
   path (worker_lanes through distribute_datasets_from_function, two replicas on one worker).
2. Steps: two steps of a stateful model on 2 replicas give the weights one device gives, and each
   replica's recurrent state is the one-device state of its own lanes (clipping active).
3. train(distribute="mirrored"): one epoch, then a resume to two; an odd batch size is refused.
"""
import functools
import json
import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import charrnn  # noqa: E402
from charrnn.errors import CharrnnError  # noqa: E402
from charrnn.nn.config import ModelConfig  # noqa: E402
from charrnn.nn.data import make_dataset, read_batches  # noqa: E402
from charrnn.nn.distribute import adam, distribute_lanes, make_strategy, worker_lanes  # noqa: E402
from charrnn.nn.model import build_model, compile_model  # noqa: E402

B, S, R = 8, 12, 2


def check_lanes(strategy, ids):
    x, y = read_batches(ids, B, S)
    for name, dataset in (("experimental_distribute_dataset", strategy.experimental_distribute_dataset(
            distribute_lanes(strategy, ids, B, S))),
                          ("worker_lanes", strategy.distribute_datasets_from_function(
                              functools.partial(worker_lanes, ids=ids, batch_size=B, seq_len=S)))):
        k = 0
        for bx, by in dataset:
            for r, (rx, ry) in enumerate(zip(strategy.experimental_local_results(bx),
                                             strategy.experimental_local_results(by))):
                rows = slice(r * B // R, (r + 1) * B // R)
                assert np.array_equal(rx.numpy(), x[k, rows]) and np.array_equal(ry.numpy(), y[k, rows]), (name, k, r)
            k += 1
        assert k == len(x), (name, k, len(x))
        print(f"ok lanes {name}: {k} batches, replica r reads rows [r*B/R, (r+1)*B/R)")


def two_steps(strategy, ids, vocab_size, weights):
    """Weights after two fit steps, and the recurrent state of every lane (B, units) per layer."""
    config = ModelConfig(vocab_size, layers=2, units=16, embedding=8, dropout=0.0)
    with strategy.scope():
        model = build_model(config, B // strategy.num_replicas_in_sync, S, stateful=True, precision="float32")
        model.set_weights(weights)
        compile_model(model, optimizer=adam(strategy, 0.01, global_clipnorm=0.05))  # 0.05: the clip acts
    model.fit(make_dataset(ids, B, S).take(2), epochs=1, verbose=0, shuffle=False)
    states = [np.concatenate([v.numpy() for v in strategy.experimental_local_results(layer.states[0].value)])
              for layer in model.layers if getattr(layer, "stateful", False)]
    return model.get_weights(), states


def check_steps(strategy, ids, vocab_size):
    config = ModelConfig(vocab_size, layers=2, units=16, embedding=8, dropout=0.0)
    keras.utils.set_random_seed(0)
    weights = build_model(config, B, S, stateful=True, precision="float32").get_weights()
    one, one_states = two_steps(tf.distribute.get_strategy(), ids, vocab_size, weights)
    two, two_states = two_steps(strategy, ids, vocab_size, weights)
    moved = max(float(np.abs(a - w).max()) for a, w in zip(one, weights))
    assert moved > 1e-3, moved
    for a, b in zip(one + one_states, two + two_states):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    print(f"ok steps: 2 replicas = 1 device (weights moved up to {moved:.3g}; states per lane equal)")


def check_train(corpus, run):
    args = dict(data=corpus, out=run, batch_size=8, seq_len=32, layers=2, units=32, embedding=16,
                distribute="mirrored", verbose=False)
    charrnn.train(epochs=1, **args)
    charrnn.train(epochs=2, **args)
    rows = (run / "log.csv").read_text().strip().splitlines()[1:]
    saved = json.loads((run / "train_args.json").read_text())
    assert len(rows) == 2 and saved["replicas"] == 2 and saved["distribute"] == "mirrored", (rows, saved)
    try:
        charrnn.train(epochs=1, **{**args, "batch_size": 7, "out": run.parent / "odd"})
        raise AssertionError("an odd batch size was accepted")
    except CharrnnError as e:
        assert "does not divide among 2 replicas" in str(e), e
    print("ok train: mirrored epoch 1, resumed to 2; batch size 7 refused")


def main():
    from pathlib import Path

    corpus, run = Path(sys.argv[1]), Path(sys.argv[2])
    if sys.argv[3:] == ["train"]:  # a process of its own: two MirroredStrategy objects in one
        return check_train(corpus, run)  # process draw the same collective keys, and clash
    strategy = make_strategy("mirrored")
    assert strategy.num_replicas_in_sync == R, strategy.num_replicas_in_sync
    text = charrnn.load_corpus(corpus)
    ids = text.vocab.encode(text.train_text)[:3000]
    check_lanes(strategy, ids)
    check_steps(strategy, ids, len(text.vocab))


if __name__ == "__main__":
    main()
