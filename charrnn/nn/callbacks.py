"""The Keras callbacks of a training run, each a small class that tests can run on its own.

    callbacks = run_callbacks(Path("runs/folk"), save_every=10, has_validation=True, verbose=True)

A run folder gets: resume (RunState), state reset per epoch, atomic last / best /
every-k-epoch weights, the learning rate halved on a plateau, a CSV log with each epoch's seconds,
and history.png redrawn as epochs end (at most once a minute, and at the end).

RunState is the run's commit point. After each epoch it writes the weights with the optimizer's
state (resume/epoch_NNN.weights.h5), then run_state.json (epochs done, the log's rows, the
learning-rate schedule's state, the best score), then log.csv from those rows: a kill anywhere
leaves the last committed epoch whole, and a resumed or extended run continues from it with
each epoch logged once.
"""
import json
import math
import time
import warnings
from pathlib import Path

import keras

from ..files import replacing, write_json_atomic
from .model import reset_states
from .runstate import RESUME_DIR, STATE_FILE, load_run_state, read_log, write_log


class ResetStates(keras.callbacks.Callback):
    """Lanes start from zero state every epoch, and validation never sees training state."""

    def on_epoch_begin(self, epoch, logs=None):
        reset_states(self.model)

    def on_test_begin(self, logs=None):
        reset_states(self.model)

    def on_test_end(self, logs=None):
        reset_states(self.model)


class AtomicCheckpoints(keras.callbacks.Callback):
    """last / best / every-k-epoch weights, each written to a temp file then renamed, so a kill
    mid-write never leaves a corrupt checkpoint (ModelCheckpoint writes in place). best.json
    records the best value, so after a resume "best" still means best of the whole run."""

    def __init__(self, out, save_every, monitor):
        super().__init__()
        self.out, self.save_every, self.monitor = Path(out), save_every, monitor
        self.best = math.inf

    def on_train_begin(self, logs=None):
        best_file = self.out / "best.json"
        if best_file.exists() and self.best == math.inf:  # RunState may have set it already
            self.best = json.loads(best_file.read_text())["value"]

    def _save(self, path):
        with replacing(path) as tmp:
            self.model.save_weights(tmp)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self._save(self.out / "last.weights.h5")
        if (epoch + 1) % self.save_every == 0:
            self._save(self.out / "checkpoints" / f"epoch_{epoch + 1:03d}.weights.h5")
        value = logs.get(self.monitor, math.inf)
        if value < self.best:
            self.best = value
            self._save(self.out / "best.weights.h5")
            write_json_atomic(self.out / "best.json", {"epoch": epoch + 1, "monitor": self.monitor, "value": value})


class EpochSeconds(keras.callbacks.Callback):
    """Wall time of each epoch, validation included, as the log's `seconds` column."""

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["seconds"] = round(time.perf_counter() - self.started, 1)


class TimeLimit(keras.callbacks.Callback):
    """Stop after the last epoch that fits in `minutes` of this call's wall time: a run given a
    budget ("train for an hour") ends on a committed epoch, and the same command resumes it.

    An epoch is never cut short (the commit point is the epoch's end); the next one starts only
    when the longest epoch so far still fits in what is left.
    """

    def __init__(self, minutes, clock=time.monotonic):
        super().__init__()
        self.seconds, self.clock = minutes * 60.0, clock
        self.stopped_early = False

    def on_train_begin(self, logs=None):
        self.started, self.longest = self.clock(), 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = self.clock()

    def on_epoch_end(self, epoch, logs=None):
        now = self.clock()
        self.longest = max(self.longest, now - self.epoch_started)
        if now - self.started + self.longest > self.seconds:
            self.model.stop_training = self.stopped_early = True


class PlotHistory(keras.callbacks.Callback):
    """Redraw a plot from the CSV log (so a resumed run plots it all) after the first epoch, then
    after an epoch at least `every` seconds since the last plot, and when training ends.

    A plot takes about 0.7 s on a 2-core CPU: nothing beside an epoch of minutes, but as long as a
    small run's epoch, or a tenth of one on a GPU, so short epochs are not each plotted.
    """

    def __init__(self, log_csv, png, every=60.0, clock=time.monotonic):
        super().__init__()
        self.log_csv, self.png, self.every, self.clock = log_csv, png, every, clock
        self.plotted, self.pending = None, False  # when it last plotted; an epoch not plotted yet

    def on_epoch_end(self, epoch, logs=None):
        self.pending = True
        if self.plotted is None or self.clock() - self.plotted >= self.every:
            self._plot()

    def on_train_end(self, logs=None):
        if self.pending:
            self._plot()

    def _plot(self):
        plot_history(self.log_csv, self.png)
        self.plotted, self.pending = self.clock(), False


class RunState(keras.callbacks.Callback):
    """Resume from, and commit after each epoch, the run's state (see the module's docstring)."""

    def __init__(self, out, state, reduce_lr=None, checkpoints=None):
        super().__init__()
        self.out, self.state = Path(out), state
        self.reduce_lr, self.checkpoints = reduce_lr, checkpoints

    def on_train_begin(self, logs=None):
        state = self.state
        if not state.get("epochs_done"):
            return
        optimizer = self.model.optimizer
        if not optimizer.built:  # its slots must exist for the saved ones to load into
            optimizer.build(self.model.trainable_variables)
        with warnings.catch_warnings():  # Keras only warns when a saved object does not fit
            warnings.simplefilter("error", UserWarning)
            self.model.load_weights(self.out / state["weights"])  # weights and Adam's state
        if state.get("learning_rate") is not None:
            self.model.optimizer.learning_rate.assign(state["learning_rate"])
        if self.reduce_lr is not None and state.get("reduce_lr"):
            for name, value in state["reduce_lr"].items():
                setattr(self.reduce_lr, name, value)
        if self.checkpoints is not None and state.get("best") is not None:
            self.checkpoints.best = state["best"]
        write_log(self.out / "log.csv", state["history"])  # a kill may have come before the log

    def on_epoch_end(self, epoch, logs=None):
        # The rate this epoch ran at (the log's) and the rate the next one starts at (after a plateau cut).
        next_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        logs = dict(logs or {})
        logs.setdefault("learning_rate", next_rate)
        row = {"epoch": epoch, **{k: float(v) for k, v in logs.items()}}
        history = [r for r in self.state["history"] if r["epoch"] < epoch] + [row]
        weights = f"{RESUME_DIR}/epoch_{epoch + 1:03d}.weights.h5"
        (self.out / RESUME_DIR).mkdir(exist_ok=True)
        with replacing(self.out / weights) as tmp:
            self.model.save_weights(tmp)
        state = {"epochs_done": epoch + 1, "weights": weights, "history": history,
                 "learning_rate": next_rate}
        if self.reduce_lr is not None:
            state["reduce_lr"] = {k: float(getattr(self.reduce_lr, k)) for k in ("wait", "best", "cooldown_counter")}
        if self.checkpoints is not None and math.isfinite(self.checkpoints.best):
            state["best"] = float(self.checkpoints.best)
        write_json_atomic(self.out / STATE_FILE, state)  # the commit
        self.state = state
        write_log(self.out / "log.csv", history)
        for old in (self.out / RESUME_DIR).glob("*.weights.h5"):
            if old.name != Path(weights).name:
                old.unlink()


def plot_history(log_csv, png):
    """Bits per character and accuracy per epoch, training and validation, from a CSVLogger file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_log(log_csv)
    if not rows:
        return
    epochs = [r["epoch"] + 1 for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric, label in ((axes[0], "bits_per_char", "bits per character"),
                              (axes[1], "accuracy", "accuracy")):
        for prefix, name in (("", "training"), ("val_", "validation")):
            points = [(e, r[prefix + metric]) for e, r in zip(epochs, rows) if r.get(prefix + metric) is not None]
            if points:
                ax.plot(*zip(*points), marker="o", label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    with replacing(png) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def run_callbacks(out, save_every, has_validation, verbose, state=None, time_limit=None):
    """The callbacks of one run into folder `out`, in the order they must run; `state` is
    load_run_state(out) (read here when not given); `time_limit` in minutes, or None."""
    from tqdm.keras import TqdmCallback

    out = Path(out)
    monitor = "val_loss" if has_validation else "loss"
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    # Halve the step size when validation stops improving: a cheap, large gain late in a run.
    reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=0.5, patience=1, min_delta=0.005,
                                                  min_lr=1e-4)
    checkpoints = AtomicCheckpoints(out, save_every, monitor)
    callbacks = [
        ResetStates(),
        reduce_lr,
        checkpoints,
        EpochSeconds(),
        # Keras calls callbacks in list order. RunState's on_train_begin restores the schedule's
        # and the checkpoints' state after their own resets; its commit comes after their updates.
        RunState(out, load_run_state(out) if state is None else state, reduce_lr, checkpoints),
        PlotHistory(out / "log.csv", out / "history.png"),
    ]
    if time_limit is not None:  # last: it sees an epoch whose commit is done
        callbacks.append(TimeLimit(time_limit))
    return callbacks + [TqdmCallback(verbose=1, leave=False)] if verbose else callbacks
