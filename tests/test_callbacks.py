"""charrnn.nn.callbacks, each callback on its own: state reset, atomic checkpoints, epoch seconds, plot."""
import json

import keras
import numpy as np

from charrnn.nn.callbacks import (AtomicCheckpoints, EpochSeconds, PlotHistory, ResetStates, RunState, TimeLimit,
                                  run_callbacks)
from charrnn.nn.config import ModelConfig
from charrnn.nn.model import build_model


def tiny_model():
    return build_model(ModelConfig(vocab_size=5, layers=1, units=4, embedding=3), batch_size=2, seq_len=3,
                       stateful=True)


def states(model):
    return [keras.ops.convert_to_numpy(s) for layer in model.layers if getattr(layer, "stateful", False) for s in layer.states]


def test_reset_states_zeroes_the_lanes_at_each_epoch_and_around_validation():
    model = tiny_model()
    callback = ResetStates()
    callback.set_model(model)
    for event in (lambda: callback.on_epoch_begin(0), callback.on_test_begin, callback.on_test_end):
        model(np.array([[1, 2, 3], [4, 3, 2]]))  # a batch leaves state behind
        assert any(np.abs(s).max() > 0 for s in states(model))
        event()
        assert all(np.abs(s).max() == 0 for s in states(model))


def test_atomic_checkpoints_keep_last_best_and_every_kth(tmp_path):
    model = tiny_model()
    (tmp_path / "checkpoints").mkdir()
    callback = AtomicCheckpoints(tmp_path, save_every=2, monitor="val_loss")
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0, {"val_loss": 1.5})
    assert {p.name for p in tmp_path.iterdir()} == {"checkpoints", "last.weights.h5", "best.weights.h5", "best.json"}
    callback.on_epoch_end(1, {"val_loss": 2.0})  # worse: best stays epoch 1; epoch 2 is a checkpoint
    assert json.loads((tmp_path / "best.json").read_text()) == {"epoch": 1, "monitor": "val_loss", "value": 1.5}
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["epoch_002.weights.h5"]
    assert not list(tmp_path.rglob("*.tmp*"))  # every file was renamed into place
    model.load_weights(tmp_path / "best.weights.h5")  # a complete weights file

    resumed = AtomicCheckpoints(tmp_path, save_every=2, monitor="val_loss")
    resumed.on_train_begin()  # a resumed run remembers the best of the whole run
    assert resumed.best == 1.5


def test_epoch_seconds_adds_a_column():
    callback, logs = EpochSeconds(), {"loss": 1.0}
    callback.on_epoch_begin(0)
    callback.on_epoch_end(0, logs)
    assert logs["loss"] == 1.0 and 0 <= logs["seconds"] < 5


def test_time_limit_stops_before_an_epoch_that_would_not_fit():
    now = [0.0]
    callback = TimeLimit(minutes=10, clock=lambda: now[0])
    callback.set_model(tiny_model())
    callback.on_train_begin()
    for epoch, seconds in enumerate([200, 150, 200]):  # ends at 200 s, 350 s, 550 s
        callback.on_epoch_begin(epoch)
        now[0] += seconds
        callback.on_epoch_end(epoch)
        if getattr(callback.model, "stop_training", False):
            break
    # After 350 s, another epoch as long as the longest (200 s) fits in 600 s; after 550 s it does not.
    assert epoch == 2 and callback.stopped_early


def test_plot_history_draws_from_the_log(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("epoch,accuracy,bits_per_char,loss,val_accuracy,val_bits_per_char,val_loss\n"
                   "0,0.3,3.0,2.1,0.35,2.8,1.9\n1,0.4,2.5,1.7,0.42,2.4,1.6\n")
    PlotHistory(log, tmp_path / "history.png").on_epoch_end(1)
    assert (tmp_path / "history.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "history.tmp.png").exists()


def test_plot_history_after_the_first_epoch_then_once_a_minute_and_at_the_end(tmp_path):
    log, png = tmp_path / "log.csv", tmp_path / "history.png"
    log.write_text("epoch,accuracy,bits_per_char,loss\n0,0.3,3.0,2.1\n")
    now = [0.0]
    callback = PlotHistory(log, png, every=60, clock=lambda: now[0])
    drawn = []
    for epoch, seconds in enumerate([20, 20, 20, 20, 70, 10]):  # epochs end at 20, 40, 60, 80, 150, 160 s
        now[0] += seconds
        png.unlink(missing_ok=True)
        callback.on_epoch_end(epoch)
        drawn.append(png.exists())
    assert drawn == [True, False, False, True, True, False]  # 60 s after the last plot, or more
    callback.on_train_end()
    assert png.exists()  # the last epoch, plotted as training ends
    png.unlink()
    callback.on_train_end()
    assert not png.exists()  # nothing new to plot


def test_run_callbacks_commit_after_the_schedule_and_checkpoints(tmp_path):
    callbacks = run_callbacks(tmp_path, save_every=10, has_validation=False, verbose=False)
    kinds = [type(c) for c in callbacks]
    assert kinds.index(RunState) > kinds.index(keras.callbacks.ReduceLROnPlateau)
    assert kinds.index(RunState) > kinds.index(AtomicCheckpoints) > kinds.index(ResetStates)
    assert kinds.index(RunState) > kinds.index(EpochSeconds)
    checkpoints = next(c for c in callbacks if isinstance(c, AtomicCheckpoints))
    assert checkpoints.monitor == "loss"  # no validation data: best follows the training loss
    assert (tmp_path / "checkpoints").is_dir()
