"""Train the char model on a corpus folder; resumable, with checkpoints, a CSV log and a plot.

    charrnn train --data data/abc --out runs/folk --epochs 30
    python -c "import charrnn; charrnn.train(data='data/abc', out='runs/folk', epochs=30)"

A run folder holds config.json + char_to_idx.json (what rebuilds the model), best.weights.h5
(lowest validation loss), last.weights.h5, checkpoints/epoch_NNN.weights.h5 every
`save_every` epochs, log.csv and history.png, and start.abc (training tunes that sampling lanes
start after, charrnn.nn.sampling.StartTunes). Interrupt it and run the same command again: it
resumes from the last completed epoch, optimizer and learning-rate schedule included
(run_state.json, charrnn.nn.callbacks.RunState). Run it with more --epochs to extend a finished
run; the same command on a finished run says so and changes nothing.
"""
import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .corpus import corpus_start_tunes, load_corpus, load_ids
from .checks import check_train
from .errors import CharrnnError, UnknownCharactersError, check_out_folder
from .files import write_json_atomic, write_text_atomic
from .generator import CharModel
from .nn.runstate import load_run_state
from .nn.sampling import START_FILE
from .nn.backend import load_keras
from .nn.config import DISTRIBUTE, PRECISIONS, ModelConfig, resolve_precision
from .nn.vocab import Vocabulary

MODEL_DEFAULTS = ModelConfig.defaults()  # cell, layers, units, embedding, dropout, arch, heads, context


@dataclass(frozen=True)
class TrainConfig:
    """How a run trains, with the defaults that train() and `charrnn train` both read."""

    epochs: int = 30
    save_every: int = 10  # keep checkpoints/epoch_NNN.weights.h5 every this many epochs
    batch_size: int = 64  # parallel lanes of text
    seq_len: int = 64  # characters per lane per batch
    learning_rate: float = 3e-3
    precision: str = "auto"
    distribute: str = "none"  # or "mirrored" (this machine's devices), "multiworker" (TF_CONFIG's machines)


TRAIN_DEFAULTS = TrainConfig()
# --arch transformer's own: 4 windows of 1,024 characters a step (~3,400 characters of text: on a
# CPU, more steps a minute learned faster than 16 windows did: see the model card), and the usual Adam
# step size of small character Transformers (nanoGPT's Shakespeare example: 1e-3).
TRANSFORMER_TRAIN_DEFAULTS = {"batch_size": 4, "learning_rate": 1e-3}


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


# What a resumed or extended run must share with the run it continues (epochs may grow).
RESUME_ARGS = ("batch_size", "seq_len", "learning_rate")


def _check_resume(out, done, epochs, args):
    """A run folder with `done` epochs: the settings must be the run's own. Returns True when the
    run already has `epochs` epochs (nothing to do)."""
    try:
        saved = json.loads((out / "train_args.json").read_text())
    except (OSError, ValueError):
        saved = {}
    changed = {k: (saved[k], args[k]) for k in RESUME_ARGS if k in saved and saved[k] != args[k]}
    if changed:
        raise CharrnnError(f"{out}: this run trained {done} epochs with other settings (saved vs requested: "
                           f"{changed}); continue it with its own, or start a new --out folder "
                           "(--init-from to start from its weights)")
    return done >= epochs


def _encode_split(vocab, corpus, data):
    """train.abc and valid.abc as ids; characters the vocabulary lacks are named with every
    file and line that holds them."""
    texts = {"train.abc": corpus.train_text, "valid.abc": corpus.valid_text}
    unknown = {}
    for name, text in texts.items():
        for n, line in enumerate(text.split("\n"), 1):
            for ch in set(line) - set(vocab.char_to_idx):
                unknown.setdefault(ch, {}).setdefault(name, []).append(n)
    if unknown:
        def where(files):
            return "; ".join(f"{data}/{name} line{'s' if len(ls) > 1 else ''} "
                             f"{', '.join(map(str, ls[:5]))}{' ...' if len(ls) > 5 else ''}"
                             for name, ls in files.items())
        shown = ", ".join(f"{ch!r} ({where(files)})" for ch, files in sorted(unknown.items())[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise CharrnnError(f"characters not in the model's vocabulary: {shown}{more}")
    return vocab.encode(texts["train.abc"]), vocab.encode(texts["valid.abc"])


def _check_sizes(train_ids, valid_ids, data, batch_size, seq_len, verbose):
    """A training text that fills at least one batch, or a one-line error saying what to lower.
    Returns whether valid.abc is long enough to validate on (one lane of seq_len + 1)."""
    n = len(train_ids)
    if n < batch_size * seq_len + 1:
        lanes = (n - 1) // seq_len
        if lanes >= 1:
            raise CharrnnError(f"{data}/train.abc: {n:,} characters are too few for {batch_size} lanes of "
                               f"{seq_len} characters; use --batch-size {lanes} or lower")
        raise CharrnnError(f"{data}/train.abc: {n:,} characters are too few to train on "
                           f"(one lane of --seq-len {seq_len} needs {seq_len + 1}); add tunes or lower --seq-len")
    if len(valid_ids) >= seq_len + 1:
        return True
    if verbose:
        print(f"note: {data}/valid.abc is missing or shorter than one lane of {seq_len + 1} characters; "
              "no validation, best.weights.h5 follows the training loss")
    return False


def _starting_model(init_from, config):
    """The trained model a run starts from; its config must match the requested one, dropout and
    vocabulary aside (the run takes the model's vocabulary)."""
    start = CharModel(init_from, read_form=False)  # the weights are what a run starts from
    if dataclasses.replace(start.config, dropout=config.dropout, vocab_size=config.vocab_size) != config:
        raise CharrnnError(f"{init_from}: cannot start from this model: its config {start.config} "
                           f"differs from the requested {config}")
    return start


@dataclass(frozen=True)
class RunSettings:
    """Everything a run is asked to do, defaults resolved and checked (no TensorFlow yet)."""

    data: Path
    out: Path
    config: ModelConfig  # vocab_size is the corpus's (or the starting model's), set by prepare_run
    epochs: int
    save_every: int
    batch_size: int
    seq_len: int
    learning_rate: float
    precision: str  # as asked ("auto" is resolved when TensorFlow loads)
    init_from: Optional[str]
    random_seed: Optional[int]
    time_limit: Optional[float]
    distribute: str
    verbose: bool


@dataclass
class PreparedRun:
    """The run's data and starting point, read and checked before TensorFlow loads."""

    config: ModelConfig
    vocab: Vocabulary
    start: Optional[CharModel]  # the model a fine-tuning run starts from
    train_ids: object  # (chars,) int ids
    valid_ids: object
    validate: bool  # valid.abc is long enough to validate on
    start_tunes: str  # start.abc's text (charrnn.nn.sampling.StartTunes)
    run_state: dict  # what charrnn.nn.runstate read of an earlier call's epochs


def resolve_settings(data, out, epochs, save_every, batch_size, seq_len, learning_rate, cell, layers, units,
                     embedding, dropout, precision, init_from, random_seed, time_limit, verbose, distribute,
                     arch, heads, context):
    """RunSettings from train()'s arguments: the arch's defaults for what is None, every value checked."""
    defaults = TRANSFORMER_TRAIN_DEFAULTS if arch == "transformer" else dataclasses.asdict(TRAIN_DEFAULTS)
    batch_size = defaults["batch_size"] if batch_size is None else batch_size
    learning_rate = defaults["learning_rate"] if learning_rate is None else learning_rate
    check_train(epochs, save_every, batch_size, seq_len, learning_rate, random_seed, time_limit)
    if precision not in PRECISIONS:
        raise CharrnnError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if distribute not in DISTRIBUTE:
        raise CharrnnError(f"distribute must be one of {', '.join(DISTRIBUTE)}, not {distribute!r}")
    if arch == "transformer" and distribute != "none":
        raise CharrnnError("--distribute is for --arch rnn: the transformer's windows are not yet tested under "
                           "tf.distribute; train it on one device")
    given = dict(layers=layers, units=units, dropout=dropout, heads=heads, context=context)
    sizes = {k: ModelConfig.defaults(arch)[k] if v is None else v for k, v in given.items()}
    config = ModelConfig(vocab_size=1, cell=cell, embedding=embedding, arch=arch, **sizes)  # checks the shape
    out = Path(out)
    check_out_folder(out)
    return RunSettings(data=Path(data), out=out, config=config, epochs=epochs, save_every=save_every,
                       batch_size=batch_size, seq_len=seq_len, learning_rate=learning_rate, precision=precision,
                       init_from=None if init_from is None else str(init_from), random_seed=random_seed,
                       time_limit=time_limit, distribute=distribute, verbose=verbose)


def run_args(settings, precision, replicas):
    """train_args.json: what the run was asked, as a resumed run must repeat it."""
    return {"data": str(settings.data.resolve()), "epochs": settings.epochs, "save_every": settings.save_every,
            "batch_size": settings.batch_size, "seq_len": settings.seq_len,
            "learning_rate": settings.learning_rate, "precision": precision, "init_from": settings.init_from,
            "random_seed": settings.random_seed, "distribute": settings.distribute, "replicas": replicas}


def prepare_run(settings):
    """The corpus as ids, the starting model and the run folder's state; None when the run folder
    already holds every epoch asked for."""
    data, out = settings.data, settings.out
    corpus = load_corpus(data)
    vocab, start = corpus.vocab, None
    config = dataclasses.replace(settings.config, vocab_size=len(vocab))
    start_tunes = corpus_start_tunes(data, corpus)  # where sampling lanes start (StartTunes)
    if settings.init_from is not None:
        # Fine-tuning keeps the starting model's characters: its Embedding rows are indexed by them.
        start = _starting_model(settings.init_from, config)
        vocab, config = start.vocab, dataclasses.replace(config, vocab_size=start.config.vocab_size)
    _check_run_folder(out, config, vocab)
    state = load_run_state(out)
    done = state["epochs_done"]
    if done and _check_resume(out, done, settings.epochs, run_args(settings, None, None)):
        if settings.verbose:
            print(f"{out}: complete, {done} epochs trained; nothing to do (more epochs: --epochs {done + 10})")
        return None
    try:  # the built corpus's memory-mapped ids when they encode it with this vocabulary
        train_ids, valid_ids = load_ids(data, vocab)
    except UnknownCharactersError:  # name every file and line that holds them
        train_ids, valid_ids = _encode_split(vocab, corpus, data)
    validate = config.arch == "transformer" or _check_sizes(train_ids, valid_ids, data, settings.batch_size,
                                                             settings.seq_len, settings.verbose)
    if done and settings.verbose:
        print(f"{out}: resuming after epoch {done} of {settings.epochs}")
    return PreparedRun(config=config, vocab=vocab, start=start, train_ids=train_ids, valid_ids=valid_ids,
                       validate=validate, start_tunes=start_tunes, run_state=state)


def fit_run(settings, prepared):
    """Build the model and its datasets, then fit: TensorFlow loads here."""
    keras = load_keras()
    from .nn.callbacks import run_callbacks
    from .nn.distribute import (adam, distribute_lanes, is_chief, lanes_per_replica, make_strategy,
                                 patch_multiworker_fit, scratch_run_folder)
    from .nn.model import build_model, compile_model
    from .nn.windows import window_datasets

    s, p = settings, prepared
    precision = resolve_precision(s.precision)
    strategy = make_strategy(s.distribute)
    rows = lanes_per_replica(s.batch_size, strategy)  # each replica's lanes: the batch its model is built with
    if s.random_seed is not None:
        keras.utils.set_random_seed(s.random_seed)
    chief = is_chief(strategy)
    run = s.out if chief else scratch_run_folder(s.out)  # a multi-worker run's other workers write there
    run.mkdir(parents=True, exist_ok=True)
    p.config.save(run / "config.json")
    p.vocab.save(run / "char_to_idx.json")
    write_json_atomic(run / "train_args.json", run_args(s, precision, strategy.num_replicas_in_sync))
    write_text_atomic(run / START_FILE, p.start_tunes)
    done, validate, steps = p.run_state["epochs_done"], p.validate, None
    transformer = p.config.arch == "transformer"
    if transformer:  # windows of whole tunes, shuffled per epoch (not stateful)
        train_ds, valid_ds, steps = window_datasets(p.train_ids, p.valid_ids, p.vocab, p.config.context,
                                                    s.batch_size, s.random_seed or 0, (done, s.epochs))
        validate = valid_ds is not None
    else:
        train_ds = distribute_lanes(strategy, p.train_ids, s.batch_size, s.seq_len)
        # A short valid.abc is read in overlapping lanes, so small corpora still validate.
        valid_ds = distribute_lanes(strategy, p.valid_ids, s.batch_size, s.seq_len, overlap=True) if validate else None
    with strategy.scope():  # weights, Adam's slots and each replica's lane state: on every replica
        model = build_model(p.config, batch_size=rows, seq_len=s.seq_len, stateful=True, precision=precision)
        if p.start is not None:
            model.load_weights(p.start.weights_file)  # a resumed run then restores its own weights over these
        optimizer = adam(strategy, s.learning_rate, global_clipnorm=5.0)
        if precision == "mixed_float16":  # float16 gradients underflow without a loss scale
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        compile_model(model, optimizer=optimizer)
    if not transformer:
        patch_multiworker_fit(model, strategy)
    try:
        return model.fit(train_ds, validation_data=valid_ds, epochs=s.epochs, initial_epoch=done, shuffle=False,
                         steps_per_epoch=steps,
                         callbacks=run_callbacks(run, s.save_every, validate, s.verbose and chief, p.run_state,
                                                  s.time_limit), verbose=0)
    finally:
        if not chief:
            shutil.rmtree(run, ignore_errors=True)


def train(data="data/abc", out="runs/default", epochs: int = TRAIN_DEFAULTS.epochs,
          save_every: int = TRAIN_DEFAULTS.save_every, batch_size: Optional[int] = None,
          seq_len: int = TRAIN_DEFAULTS.seq_len, learning_rate: Optional[float] = None,
          cell: str = MODEL_DEFAULTS["cell"], layers: Optional[int] = None, units: Optional[int] = None,
          embedding: int = MODEL_DEFAULTS["embedding"], dropout: Optional[float] = None,
          precision: str = TRAIN_DEFAULTS.precision, init_from=None, random_seed: Optional[int] = None,
          time_limit: Optional[float] = None, verbose: bool = True, distribute: str = TRAIN_DEFAULTS.distribute,
          arch: str = MODEL_DEFAULTS["arch"], heads: Optional[int] = None, context: Optional[int] = None):
    """Train (or resume training) a model on `data`, writing the run folder `out`.

    `precision="auto"` trains in mixed_bfloat16 on CPUs with bfloat16 units (AMX, AVX512-BF16)
    and in float32 elsewhere; see `resolve_precision`. bfloat16 runs the matrix products in
    bfloat16 and keeps the LSTM's gates and cell state in float32 (`charrnn.nn.lstm`); the weights it
    saves are float32 either way, and `train_args.json` records the precision used.

    `init_from` (a run folder, e.g. `charrnn/pretrained/`) starts from that model's weights instead of
    random ones: fine-tuning on other tunes, or a second stage with longer sequences. Its config
    must match (dropout may differ), and the data is encoded with its vocabulary, so a
    character the model has never seen is an error that names it.

    batch_size and learning_rate left as None take TRAIN_DEFAULTS (the RNN) or
    TRANSFORMER_TRAIN_DEFAULTS (arch="transformer").

    `arch="transformer"` trains charrnn.nn.transformer's model on windows of whole tunes
    (charrnn.nn.windows: `context` characters, `batch_size` windows a batch, shuffled per epoch by
    `random_seed` or 0; `seq_len` is not used). layers, units, dropout, heads and context left as
    None take ModelConfig.defaults(arch).

    A run folder that has trained some epochs continues from the last one (weights, Adam's
    state, learning-rate schedule) up to `epochs`; with `epochs` or more done, it is complete and
    nothing changes. `random_seed` makes the initial weights and dropout repeatable.
    `time_limit` (minutes) ends this call after the last epoch that fits in it; run the same
    command again to go on.

    `distribute="mirrored"` trains on every GPU of this machine (or every logical device),
    `"multiworker"` on every machine of the cluster in TF_CONFIG, running the same call on each:
    each replica reads batch_size / replicas lanes (it must divide), and only the chief writes
    `out`, which every worker reads to resume (charrnn.nn.distribute).

    Returns the Keras History of the epochs run in this call (None when the run was complete).
    """
    settings = resolve_settings(data, out, epochs, save_every, batch_size, seq_len, learning_rate, cell, layers,
                                units, embedding, dropout, precision, init_from, random_seed, time_limit, verbose,
                                distribute, arch, heads, context)
    prepared = prepare_run(settings)
    return None if prepared is None else fit_run(settings, prepared)
