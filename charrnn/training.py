"""Train the char model on a corpus folder; resumable, with checkpoints, a CSV log and a plot.

    charrnn train --data data/abc --out runs/folk --epochs 30
    python -c "import charrnn; charrnn.train(data='data/abc', out='runs/folk', epochs=30)"

A run folder holds config.json + char_to_idx.json (what rebuilds the model), best.weights.h5
(lowest validation loss), last.weights.h5, checkpoints/epoch_NNN.weights.h5 every
`save_every` epochs, log.csv and history.png. Interrupt it and run the same command again:
Keras' BackupAndRestore resumes from the last completed epoch, optimizer state included.
"""
import dataclasses
from dataclasses import dataclass
from pathlib import Path

from .corpus import load_corpus
from .errors import CharrnnError
from .files import write_json_atomic
from .generator import CharModel
from .nn.config import ModelConfig, resolve_precision
from .nn.vocab import Vocabulary

MODEL_DEFAULTS = ModelConfig.defaults()  # cell, layers, units, embedding, dropout


@dataclass(frozen=True)
class TrainConfig:
    """How a run trains, with the defaults that train() and `charrnn train` both read."""

    epochs: int = 30
    save_every: int = 10  # keep checkpoints/epoch_NNN.weights.h5 every this many epochs
    batch_size: int = 64  # parallel lanes of text
    seq_len: int = 64  # characters per lane per batch
    learning_rate: float = 3e-3
    precision: str = "auto"


TRAIN_DEFAULTS = TrainConfig()


def _check_run_folder(out, config, vocab):
    """A run folder trains one model: refuse to resume it with another config or vocabulary."""
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
    start = CharModel(init_from)
    if dataclasses.replace(start.config, dropout=config.dropout, vocab_size=config.vocab_size) != config:
        raise CharrnnError(f"{init_from}: cannot start from this model: its config {start.config} "
                           f"differs from the requested {config}")
    return start


def train(data="data/abc", out="runs/default", epochs=TRAIN_DEFAULTS.epochs, save_every=TRAIN_DEFAULTS.save_every,
          batch_size=TRAIN_DEFAULTS.batch_size, seq_len=TRAIN_DEFAULTS.seq_len,
          learning_rate=TRAIN_DEFAULTS.learning_rate, cell=MODEL_DEFAULTS["cell"], layers=MODEL_DEFAULTS["layers"],
          units=MODEL_DEFAULTS["units"], embedding=MODEL_DEFAULTS["embedding"], dropout=MODEL_DEFAULTS["dropout"],
          precision=TRAIN_DEFAULTS.precision, init_from=None, verbose=True):
    """Train (or resume training) a model on `data`, writing the run folder `out`.

    `precision="auto"` trains in mixed_bfloat16 on CPUs with bfloat16 units (AMX, AVX512-BF16)
    and in float32 elsewhere; see `resolve_precision`. bfloat16 runs the matrix products in
    bfloat16 and keeps the LSTM's gates and cell state in float32 (`charrnn.nn.lstm`); the weights it
    saves are float32 either way, and `train_args.json` records the precision used.

    `init_from` (a run folder, e.g. `weights/`) starts from that model's weights instead of
    random ones: fine-tuning on other tunes, or a second stage with longer sequences. Its config
    must match (dropout may differ), and the data is encoded with its vocabulary, so a
    character the model has never seen is an error that names it.

    Returns the Keras History of the epochs run in this call.
    """
    import keras  # loaded here, not at import: `charrnn --help` reads this module's defaults

    from .nn.callbacks import run_callbacks
    from .nn.data import make_dataset
    from .nn.model import build_model, compile_model

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
    compile_model(model, optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=5.0))
    return model.fit(train_ds, validation_data=valid_ds, epochs=epochs, shuffle=False,
                     callbacks=run_callbacks(out, save_every, valid_ds is not None, verbose), verbose=0)
