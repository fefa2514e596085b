"""Training throughput on 1 vs 2 devices (--distribute mirrored), and the input pipeline alone.

    python bench/distribute_speed.py [--data data/abc] [--batches 20] [--devices 2]

Runs each measurement in a fresh process (logical devices must be set before TensorFlow starts):
the default model (64 lanes x 64 characters, precision "auto") trained for a fixed number of
batches after a warm-up, with 1 device and with `--devices` logical devices of this CPU under
MirroredStrategy; then tf.data alone: the batches read on the fly (make_dataset) vs the old
whole-corpus arrays (read_batches + from_tensor_slices). Prints one JSON line.

Logical CPU devices share the same cores: on a 2-core machine, 2 replicas cannot run faster than
one device using both cores, so this measures the cost of the split (all-reduce, two smaller
products), not the gain from real GPUs.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

from machine import cpu_name

ROOT = Path(__file__).resolve().parents[1]

TRAIN = """
import json, sys, time
import tensorflow as tf
devices = {devices}
if devices > 1:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
import keras, charrnn
from charrnn.nn.distribute import adam, distribute_lanes, lanes_per_replica, make_strategy
from charrnn.nn.model import build_model, compile_model
sys.path.insert(0, "bench")
from timing import BatchTimer
corpus = charrnn.load_corpus({data!r})
ids = corpus.vocab.encode(corpus.train_text)
strategy = make_strategy("mirrored" if devices > 1 else "none")
B, S, warmup, batches = 64, 64, 5, {batches}
with strategy.scope():
    model = build_model(charrnn.ModelConfig(len(corpus.vocab)), lanes_per_replica(B, strategy), S, stateful=True,
                        precision="auto")
    compile_model(model, optimizer=adam(strategy, 3e-3, global_clipnorm=5.0))
timer = BatchTimer(warmup, batches)
model.fit(distribute_lanes(strategy, ids, B, S).take(warmup + batches), verbose=0, callbacks=[timer])
print(json.dumps(batches * B * S / timer.seconds))
"""

PIPELINE = """
import json, time
import numpy as np, tensorflow as tf, charrnn
from charrnn.nn.data import make_dataset, read_batches
corpus = charrnn.load_corpus({data!r})
ids = np.asarray(corpus.vocab.encode(corpus.train_text), dtype=np.int32)
def old(ids, B, S):
    x, y = read_batches(ids, B, S)
    return tf.data.Dataset.from_tensor_slices((x, y)).prefetch(tf.data.AUTOTUNE)
def rate(make):
    start, n = time.perf_counter(), 0
    for x, _ in make(ids, 64, 64):
        n += x.shape[0] * x.shape[1]
    return n / (time.perf_counter() - start)
print(json.dumps({{"on_the_fly": max(rate(make_dataset) for _ in range(3)), "whole_arrays": max(rate(old) for _ in range(3))}}))
"""


def python(code):
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": ""})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/abc")
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--devices", type=int, default=2)
    args = ap.parse_args()
    data = str(Path(args.data).resolve())
    one = python(TRAIN.format(devices=1, data=data, batches=args.batches))
    many = python(TRAIN.format(devices=args.devices, data=data, batches=args.batches))
    pipeline = python(PIPELINE.format(data=data))
    print(json.dumps({"cpu": cpu_name(), "shape": "64x64", "batches": args.batches,
                      "train_chars_per_s_1_device": round(one),
                      f"train_chars_per_s_{args.devices}_devices": round(many),
                      "speedup": round(many / one, 2), "scaling_efficiency": round(many / one / args.devices, 2),
                      "pipeline_on_the_fly_chars_per_s": round(pipeline["on_the_fly"]),
                      "pipeline_whole_arrays_chars_per_s": round(pipeline["whole_arrays"])}))


if __name__ == "__main__":
    main()
