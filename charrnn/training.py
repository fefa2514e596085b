"""Train the char model on a corpus folder; resumable, with checkpoints, a CSV log and a plot.

    charrnn train --data data/abc --out runs/folk --epochs 30
    python -c "import charrnn; charrnn.train(data='data/abc', out='runs/folk', epochs=30)"

A run folder holds config.json + char_to_idx.json (what rebuilds the model), best.weights.h5
(lowest validation loss), last.weights.h5, checkpoints/epoch_NNN.weights.h5 every
`save_every` epochs, log.csv and history.png. Interrupt it and run the same command again:
Keras' BackupAndRestore resumes from the last completed epoch, optimizer state included.
"""
import dataclasses
import json
import math
import os
import time
from pathlib import Path

from .config import ModelConfig, resolve_precision
from .corpus import load_corpus
from .errors import CharrnnError
from .files import write_json_atomic

DEFAULT_BATCH_SIZE = 64
DEFAULT_SEQ_LEN = 64
DEFAULT_LEARNING_RATE = 3e-3


def bits_per_char(y_true, y_pred):
    """Cross-entropy in bits: the loss divided by ln 2 (a metric, logged per epoch)."""
    import keras

    return keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True) / math.log(2)


def _callbacks(out, save_every, has_validation, verbose):
    """Keras callbacks for one run: resume, reset state, checkpoints, CSV log, plot, progress."""
    import keras
    from tqdm.keras import TqdmCallback

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
        """last / best / every-k-epoch weights, each written to a temp file then renamed,
        so a kill mid-write never leaves a corrupt checkpoint (ModelCheckpoint writes in place)."""

        def __init__(self):
            super().__init__()
            self.monitor = "val_loss" if has_validation else "loss"
            self.best = math.inf

        def on_train_begin(self, logs=None):
            best_file = out / "best.json"  # survives a resume, so "best" means best of the run
            if best_file.exists():
                self.best = json.loads(best_file.read_text())["value"]

        def _save(self, path):
            tmp = path.with_name(path.name.replace(".weights.h5", ".tmp.weights.h5"))
            self.model.save_weights(tmp)
            os.replace(tmp, path)

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            self._save(out / "last.weights.h5")
            if (epoch + 1) % save_every == 0:
                self._save(out / "checkpoints" / f"epoch_{epoch + 1:03d}.weights.h5")
            value = logs.get(self.monitor, math.inf)
            if value < self.best:
                self.best = value
                self._save(out / "best.weights.h5")
                write_json_atomic(out / "best.json", {"epoch": epoch + 1, "monitor": self.monitor, "value": value})

    class EpochSeconds(keras.callbacks.Callback):
        """Wall time of each epoch, validation included, as the log's `seconds` column."""

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs["seconds"] = round(time.perf_counter() - self.started, 1)

    class PlotHistory(keras.callbacks.Callback):
        """Redraw history.png from log.csv after each epoch (so a resumed run plots it all)."""

        def on_epoch_end(self, epoch, logs=None):
            plot_history(out / "log.csv", out / "history.png")

    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    callbacks = [
        # BackupAndRestore first: it restores weights, optimizer and epoch before anything runs.
        keras.callbacks.BackupAndRestore(str(out / "backup"), double_checkpoint=True),
        ResetStates(),
        # Halve the step size when validation stops improving: a cheap, large gain late in a
        # run. Placed before CSVLogger so the log records each epoch's learning rate.
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss" if has_validation else "loss",
                                          factor=0.5, patience=1, min_delta=0.005, min_lr=1e-4),
        AtomicCheckpoints(),
        EpochSeconds(),
        keras.callbacks.CSVLogger(str(out / "log.csv"), append=True),
        PlotHistory(),
    ]
    return callbacks + [TqdmCallback(verbose=1, leave=False)] if verbose else callbacks


def plot_history(log_csv, png):
    """Loss and accuracy per epoch, training and validation, from a CSVLogger file."""
    import csv

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
    tmp = Path(png).with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, png)


def _check_run_folder(out, config, vocab):
    """A run folder trains one model: refuse to resume it with another config or vocabulary."""
    from .vocab import Vocabulary

    config_path = out / "config.json"
    if config_path.exists():
        saved = ModelConfig.load(config_path)
        if saved != config:
            diff = {k: (getattr(saved, k), getattr(config, k))
                    for k in dataclasses.asdict(config) if getattr(saved, k) != getattr(config, k)}
            raise CharrnnError(f"{config_path}: this run folder holds a model with another config "
                               f"(saved vs requested: {diff}); use a new --out folder")
        if Vocabulary.load(out / "char_to_idx.json") != vocab:
            raise CharrnnError(f"{out / 'char_to_idx.json'}: the data's vocabulary differs from this "
                               "run's; use a new --out folder")


def _starting_model(init_from, config):
    """The trained model a run starts from; its config must match the requested one, dropout and
    vocabulary aside (the run takes the model's vocabulary)."""
    from .generator import CharModel

    start = CharModel(init_from)
    if dataclasses.replace(start.config, dropout=config.dropout, vocab_size=config.vocab_size) != config:
        raise CharrnnError(f"{init_from}: cannot start from this model: its config {start.config} "
                           f"differs from the requested {config}")
    return start


def train(data="data/abc", out="runs/default", epochs=30, save_every=10,
          batch_size=DEFAULT_BATCH_SIZE, seq_len=DEFAULT_SEQ_LEN, learning_rate=DEFAULT_LEARNING_RATE,
          cell="lstm", layers=3, units=256, embedding=512, dropout=0.2, precision="auto", init_from=None,
          verbose=True):
    """Train (or resume training) a model on `data`, writing the run folder `out`.

    `precision="auto"` trains in mixed_bfloat16 on CPUs with bfloat16 units (AMX, AVX512-BF16)
    and in float32 elsewhere; see `resolve_precision`. bfloat16 runs the matrix products in
    bfloat16 and keeps the LSTM's gates and cell state in float32 (`charrnn.lstm`); the weights it
    saves are float32 either way, and `train_args.json` records the precision used.

    `init_from` (a run folder, e.g. `weights/`) starts from that model's weights instead of
    random ones: fine-tuning on other tunes, or a second stage with longer sequences. Its config
    must match (dropout may differ), and the data is encoded with its vocabulary, so a
    character the model has never seen is an error that names it.

    Returns the Keras History of the epochs run in this call.
    """
    import keras

    from .data import make_dataset
    from .model import build_model

    if epochs < 1 or save_every < 1 or batch_size < 1 or seq_len < 1:
        raise CharrnnError("epochs, save_every, batch_size and seq_len must be at least 1")
    precision = resolve_precision(precision)
    corpus = load_corpus(data)
    vocab = corpus.vocab
    config = ModelConfig(vocab_size=len(vocab), cell=cell, layers=layers, units=units,
                         embedding=embedding, dropout=dropout)
    start = None
    if init_from is not None:
        # Fine-tuning keeps the starting model's characters: its Embedding rows are indexed by them.
        start = _starting_model(init_from, config)
        vocab, config = start.vocab, dataclasses.replace(config, vocab_size=start.config.vocab_size)
    out = Path(out)
    _check_run_folder(out, config, vocab)
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / "config.json")
    vocab.save(out / "char_to_idx.json")
    write_json_atomic(out / "train_args.json", {
        "data": str(data), "epochs": epochs, "save_every": save_every, "batch_size": batch_size,
        "seq_len": seq_len, "learning_rate": learning_rate, "precision": precision,
        "init_from": None if init_from is None else str(init_from)})

    train_ids = vocab.encode(corpus.train_text, where=f"{data}/train.abc")
    train_ds = make_dataset(train_ids, batch_size, seq_len)
    valid_ds = None
    valid_ids = vocab.encode(corpus.valid_text, where=f"{data}/valid.abc")
    if len(valid_ids) > batch_size * seq_len + 1:
        valid_ds = make_dataset(valid_ids, batch_size, seq_len)
    elif verbose:
        print(f"note: {data}/valid.abc is too short for {batch_size} x {seq_len} batches; "
              "no validation, best.weights.h5 follows training loss")

    model = build_model(config, batch_size=batch_size, seq_len=seq_len, stateful=True, precision=precision)
    if start is not None:
        model.load_weights(start.weights_file)  # a resumed run then restores its own weights over these
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=5.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy", bits_per_char],
    )
    return model.fit(train_ds, validation_data=valid_ds, epochs=epochs, shuffle=False,
                     callbacks=_callbacks(out, save_every, valid_ds is not None, verbose), verbose=0)
