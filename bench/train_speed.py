"""Training throughput (characters per second): charrnn's default vs a plain reference loop.

    python bench/train_speed.py [--data data/abc] [--batches 40] [--baseline SCRIPT]

Runs, one after the other on this machine: charrnn's training step (tf.data lanes, Keras fit,
sparse logits loss) as `charrnn train` runs it by default (64 x 64, precision "auto": bfloat16
products where the CPU has bfloat16 units, float32 elsewhere), then at 64 x 64 in float32 and at
16 x 64 in float32; then the reference loop, `--baseline SCRIPT`: the project's first design, batches
cut in pure Python and fed to Keras' train_on_batch at 16 x 64 (a script kept beside the repository,
not in it; when it is absent the comparison is skipped with a note). Prints one JSON line. Compare
ratios, not absolute figures: machines are shared and noisy.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import keras

import charrnn
from charrnn.nn.config import resolve_precision
from charrnn.nn.data import make_dataset
from charrnn.nn.model import build_model, compile_model
from charrnn.training import TRAIN_DEFAULTS
from machine import cpu_name
from timing import BatchTimer


def charrnn_chars_per_s(ids, vocab_size, batch_size, seq_len, batches, warmup=5, precision="auto"):
    """Train the default model with the same compile() as `charrnn train`; time batches after warm-up."""
    model = build_model(charrnn.ModelConfig(vocab_size), batch_size, seq_len, stateful=True, precision=precision)
    compile_model(model, optimizer=keras.optimizers.Adam(TRAIN_DEFAULTS.learning_rate, global_clipnorm=5.0))

    timer = BatchTimer(warmup, batches)
    model.fit(make_dataset(ids, batch_size, seq_len).take(warmup + batches), verbose=0, callbacks=[timer])
    return batches * batch_size * seq_len / timer.seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/abc")
    ap.add_argument("--batches", type=int, default=40)
    ap.add_argument("--baseline", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared" / "bench" / "seed_baseline.py",
                    help="the reference training loop's script (skipped when absent)")
    args = ap.parse_args()
    corpus = charrnn.load_corpus(args.data)
    ids = corpus.vocab.encode(corpus.train_text)
    result = {"cpu": cpu_name(), "default_shape": f"{TRAIN_DEFAULTS.batch_size}x{TRAIN_DEFAULTS.seq_len}",
              "default_precision": resolve_precision("auto")}
    result["charrnn_default_chars_per_s"] = round(charrnn_chars_per_s(
        ids, len(corpus.vocab), TRAIN_DEFAULTS.batch_size, TRAIN_DEFAULTS.seq_len, args.batches))
    for b, t in ((TRAIN_DEFAULTS.batch_size, TRAIN_DEFAULTS.seq_len), (16, 64)):
        result[f"charrnn_float32_{b}x{t}_chars_per_s"] = round(charrnn_chars_per_s(
            ids, len(corpus.vocab), b, t, args.batches, precision="float32"))
    if not args.baseline.is_file():
        print(f"train_speed: no reference loop at {args.baseline}: comparison skipped", file=sys.stderr)
        print(json.dumps(result))
        return
    reference = subprocess.run([sys.executable, str(args.baseline), f"{args.data}/train.abc", "--batches", "30",
                           "--chars", "20"], capture_output=True, text=True, check=True, timeout=1800)
    measured = json.loads(reference.stdout.strip().splitlines()[-1])
    result["reference_16x64_chars_per_s"] = measured["train_chars_per_s"]
    for key in [k for k in result if k.startswith("charrnn_")]:
        result[key.replace("charrnn_", "ratio_").replace("_chars_per_s", "_vs_reference")] = round(
            result[key] / measured["train_chars_per_s"], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
