"""The `charrnn` command: a thin layer over the Python API.

    charrnn data build [SOURCE ...] [--out data/abc] [--workers N]
    charrnn data transpose --data data/abc --out data/abc-transposed [--shifts=-5,-2,2,5]
    charrnn train --data data/abc --out runs/folk --epochs 30
    charrnn generate -n 10 --temperature 0.9 --seed 'X:1\\nM:6/8\\n' --random-seed 7 --out samples/
    charrnn render FILE.abc --midi --wav --svg --out DIR
    charrnn evaluate --model runs/folk --out report/
    charrnn critic fit --model runs/folk            # then generate keeps the best of 3 drafts
    charrnn similar FILE.abc [-k 5] [--data data/abc] [--json]
    charrnn survey make ... / charrnn survey score KEY RESPONSES...

Bad input (a missing file, malformed data, an incompatible checkpoint) prints one line,
"charrnn: error: ...", and exits with status 2.
"""
import argparse
import importlib
import os
import sys

from .augment import TRANSPOSE_SHIFTS, transpose_corpus
from .errors import CharrnnError
from .nn.backend import VERBOSE_ENV
from .nn.config import ARCHS, DISTRIBUTE, PRECISIONS, ModelConfig
from .sources import POOL_MIN_BYTES
from .training import MODEL_DEFAULTS, TRAIN_DEFAULTS, TRANSFORMER_TRAIN_DEFAULTS, train

# Modules that add their own sub-command through register_cli(subparsers).
SUBCOMMAND_MODULES = [
    "charrnn.generator",
    "charrnn.render",
    "charrnn.evaluation.evaluate",
    "charrnn.survey",
    "charrnn.form.command",
    "charrnn.critic.command",
    "charrnn.composer.server",
    "charrnn.similarity.command",
]


def _data_build(args):
    from .corpus import DEFAULT_COLLECTIONS, build_corpus

    if args.workers is not None and args.workers < 1:
        raise CharrnnError(f"--workers must be 1 or more, not {args.workers}")
    summary = build_corpus(args.sources or DEFAULT_COLLECTIONS, out=args.out, workers=args.workers)
    print(f"{summary['tunes']} tunes ({summary['train_tunes']} train, {summary['valid_tunes']} validation), "
          f"{summary['train_chars'] + summary['valid_chars']:,} characters, "
          f"{summary['vocab_size']} distinct -> {summary['out']}/")
    return 0


def _data_transpose(args):
    try:
        shifts = [int(s) for s in args.shifts.split(",")]
    except ValueError:
        raise CharrnnError(f"--shifts must be semitones separated by commas (-5,-2,2,5), not {args.shifts!r}") from None
    summary = transpose_corpus(args.data, args.out, shifts)
    copies = ", ".join(f"{s:+d}: {n}" for s, n in summary["copies"].items())
    print(f"{summary['train_tunes']} training tunes ({summary['source_train_tunes']} as they were; copies {copies}), "
          f"{summary['valid_tunes']} validation, {summary['train_chars']:,} training characters -> {summary['out']}/")
    return 0


def _train(args):
    if args.verbose:
        os.environ[VERBOSE_ENV] = "1"
    history = train(data=args.data, out=args.out, epochs=args.epochs, save_every=args.save_every,
                    batch_size=args.batch_size, seq_len=args.seq_len, learning_rate=args.learning_rate,
                    cell=args.cell, layers=args.layers, units=args.units, embedding=args.embedding,
                    dropout=args.dropout, precision=args.precision, init_from=args.init_from,
                    random_seed=args.random_seed, time_limit=args.time_limit, distribute=args.distribute,
                    arch=args.arch, heads=args.heads, context=args.context)
    if history is not None and history.history:
        last = {k: round(v[-1], 4) for k, v in history.history.items()}
        print(f"done: {last} -> {args.out}/")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="charrnn", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="build the training corpus")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    build = data_sub.add_parser("build", help="write train/valid ABC, provenance and vocabulary")
    build.add_argument("sources", nargs="*", metavar="SOURCE",
                       help="a music21 collection name, an .abc or .mid file, or a folder of them "
                            "(default: oneills1850 ryansMammoth airdsAirs)")
    build.add_argument("--out", default="data/abc", help="corpus folder (default: data/abc)")
    build.add_argument("--workers", type=int, default=None,
                       help=f"processes that parse (default: every core; one for inputs under {POOL_MIN_BYTES >> 20} MB)")
    build.set_defaults(func=_data_build)
    transpose = data_sub.add_parser("transpose", help="a corpus with each training tune also transposed (abc2abc)")
    transpose.add_argument("--data", default="data/abc", help="source corpus folder (default: data/abc)")
    transpose.add_argument("--out", required=True, help="new corpus folder")
    transpose.add_argument("--shifts", default=",".join(map(str, TRANSPOSE_SHIFTS)),
                           help=f"semitones, comma-separated (default: {','.join(map(str, TRANSPOSE_SHIFTS))}; "
                                "write --shifts=-2,2 for a list that starts with a minus)")
    transpose.set_defaults(func=_data_transpose)

    tr = sub.add_parser("train", help="train (or resume) a model")
    tr.add_argument("--data", default="data/abc", help="corpus folder (default: data/abc)")
    tr.add_argument("--out", required=True, help="run folder for weights, config, log and plot")
    tr.add_argument("--epochs", type=int, default=TRAIN_DEFAULTS.epochs)
    tr.add_argument("--save-every", type=int, default=TRAIN_DEFAULTS.save_every,
                    help="keep a checkpoint every K epochs")
    tr.add_argument("--batch-size", type=int, default=None,
                    help=f"parallel lanes of text (default {TRAIN_DEFAULTS.batch_size}); transformer: windows of "
                         f"tunes (default {TRANSFORMER_TRAIN_DEFAULTS['batch_size']})")
    tr.add_argument("--seq-len", type=int, default=TRAIN_DEFAULTS.seq_len, help="characters per lane per batch")
    tr.add_argument("--learning-rate", type=float, default=None,
                    help=f"Adam's step size (default {TRAIN_DEFAULTS.learning_rate}; transformer "
                         f"{TRANSFORMER_TRAIN_DEFAULTS['learning_rate']})")
    tr.add_argument("--arch", choices=ARCHS, default=MODEL_DEFAULTS["arch"],
                    help="rnn (default: --cell, --embedding) or transformer (experimental: --heads, --context; "
                         "not shipped, behind the LSTM on a CPU budget)")
    tr.add_argument("--cell", choices=("lstm", "gru"), default=MODEL_DEFAULTS["cell"])
    transformer = ModelConfig.defaults("transformer")
    for name, kind in (("layers", int), ("units", int), ("dropout", float), ("heads", int), ("context", int)):
        shown = (f"rnn {MODEL_DEFAULTS[name]}, " if name in ("layers", "units", "dropout") else "") + \
            f"transformer {transformer[name]}"
        tr.add_argument(f"--{name}", type=kind, default=None, help=f"default: {shown}")
    tr.add_argument("--embedding", type=int, default=MODEL_DEFAULTS["embedding"], help="rnn only")
    tr.add_argument("--init-from", metavar="RUN_DIR",
                    help="start from this trained model's weights (fine-tune; same config)")
    tr.add_argument("--random-seed", type=int, default=None, help="repeatable initial weights and dropout")
    tr.add_argument("--time-limit", type=float, default=None, metavar="MINUTES",
                    help="stop after the last epoch that fits in this many minutes (run again to go on)")
    tr.add_argument("--precision", choices=PRECISIONS, default=TRAIN_DEFAULTS.precision,
                    help="auto (default): mixed_float16 on GPUs with tensor cores (compute capability 7.0+), "
                         "mixed_bfloat16 on CPUs with AMX/AVX512-BF16, else float32")
    tr.add_argument("--distribute", choices=DISTRIBUTE, default=TRAIN_DEFAULTS.distribute,
                    help="none (default): one device; mirrored: every GPU (or logical device) of this machine; "
                         "multiworker (experimental: a patch over Keras' fit, tested only as processes on one "
                         "machine): every machine in TF_CONFIG, the same command on each")
    tr.add_argument("--verbose", action="store_true", help="show TensorFlow's own start-up and log lines")
    tr.set_defaults(func=_train)

    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register_cli(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if (getattr(args, "random_seed", None) or 0) < 0:
            raise CharrnnError(f"--random-seed must be 0 or more, not {args.random_seed}")
        return args.func(args)
    except CharrnnError as e:
        print(f"charrnn: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("charrnn: interrupted (a training run resumes where it stopped: run the same command)",
              file=sys.stderr)
        return 130
