"""The Keras callbacks of a training run, each a small class that tests can run on its own.

    callbacks = run_callbacks(Path("runs/folk"), save_every=10, has_validation=True, verbose=True)

A run folder gets: resume (BackupAndRestore), state reset per epoch, atomic last / best /
every-k-epoch weights, the learning rate halved on a plateau, a CSV log with each epoch's seconds,
and history.png redrawn after each epoch.
"""
import csv
import json
import math
import time
from pathlib import Path

import keras

from ..files import replacing, write_json_atomic
from .model import reset_states


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
        if best_file.exists():
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


class PlotHistory(keras.callbacks.Callback):
    """Redraw a plot from the CSV log after each epoch (so a resumed run plots it all)."""

    def __init__(self, log_csv, png):
        super().__init__()
        self.log_csv, self.png = log_csv, png

    def on_epoch_end(self, epoch, logs=None):
        plot_history(self.log_csv, self.png)


def plot_history(log_csv, png):
    """Bits per character and accuracy per epoch, training and validation, from a CSVLogger file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(log_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric, label in ((axes[0], "bits_per_char", "bits per character"),
                              (axes[1], "accuracy", "accuracy")):
        for prefix, name in (("", "training"), ("val_", "validation")):
            if rows[0].get(prefix + metric):
                ax.plot(epochs, [float(r[prefix + metric]) for r in rows], marker="o", label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    with replacing(png) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def run_callbacks(out, save_every, has_validation, verbose):
    """The callbacks of one run into folder `out`, in the order they must run."""
    from tqdm.keras import TqdmCallback

    out = Path(out)
    monitor = "val_loss" if has_validation else "loss"
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    callbacks = [
        # BackupAndRestore first: it restores weights, optimizer and epoch before anything runs.
        keras.callbacks.BackupAndRestore(str(out / "backup"), double_checkpoint=True),
        ResetStates(),
        # Halve the step size when validation stops improving: a cheap, large gain late in a
        # run. Placed before CSVLogger so the log records each epoch's learning rate.
        keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=0.5, patience=1, min_delta=0.005, min_lr=1e-4),
        AtomicCheckpoints(out, save_every, monitor),
        EpochSeconds(),
        keras.callbacks.CSVLogger(str(out / "log.csv"), append=True),
        PlotHistory(out / "log.csv", out / "history.png"),
    ]
    return callbacks + [TqdmCallback(verbose=1, leave=False)] if verbose else callbacks
