"""Generation speed on one machine and one set of weights: the seed's loop vs charrnn.

    python bench/generate_speed.py [--model weights/] [--chars 200] [--lanes 200]

1. The seed's generator: the batch-1 stateful Keras model, `model.predict` once per character.
2. charrnn's batch-1 generator (NumPy step over the same weights, then the sampler's own
   next_char_probs and inverse-CDF draw), ms per character.
3. charrnn's batched generation: `--lanes` tunes sampled in parallel, characters per second
   (whole tunes through the public API; each lane's thrown-away warm-up tune is not counted),
   with the model's form.json (copied bars, cadence retries) and without it.
Both charrnn figures run under `blas_threads()`, as `generate` does: one BLAS thread when the
machine is busy ($CHARRNN_SAMPLING_THREADS overrides). Prints one JSON line, with the CPU.
"""
import argparse
import json
import time

import numpy as np

import charrnn
from charrnn.nn.sampling import draw, next_char_probs, softmax
from charrnn.nn.stepnet import blas_threads
from machine import cpu_name


def seed_ms_per_char(model, chars, rng):
    """The seed report's loop: predict on a (1, 1) input, sample, feed the sample back."""
    gen = model.keras_generator()
    idx = model.vocab.char_to_idx["X"]
    gen.predict(np.array([[idx]]), verbose=0)  # warm-up / tracing
    start = time.perf_counter()
    for _ in range(chars):
        p = softmax(gen.predict(np.array([[idx]]), verbose=0)[0, 0].astype("float64"))
        idx = int(rng.choice(len(p), p=p))
    return 1000 * (time.perf_counter() - start) / chars


def numpy_batch1_ms_per_char(model, chars, rng):
    state = model.net.initial_state(1)
    idx = np.array([model.vocab.char_to_idx["X"]])
    with blas_threads():
        start = time.perf_counter()
        for _ in range(chars):
            idx = draw(next_char_probs(model.net.step(idx, state)), rng.random((1, 1)))
        return 1000 * (time.perf_counter() - start) / chars


def batched_chars_per_s(model, lanes, random_seed=0, form=True):
    """Whole tunes in parallel lanes, through the public API (sampling and boundaries included;
    with the model's form.json, copies and cadence retries included, unless form=False)."""
    start = time.perf_counter()
    tunes = model.generate(n=lanes, random_seed=random_seed, form=form)
    seconds = time.perf_counter() - start
    chars = sum(len(t.abc) for t in tunes) - lanes * len("X:")
    return chars / seconds, chars


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="run folder (default: the shipped weights/)")
    ap.add_argument("--chars", type=int, default=200)
    ap.add_argument("--lanes", type=int, default=200)
    args = ap.parse_args()
    model = charrnn.load(args.model)
    rng = np.random.default_rng(0)
    seed_ms = seed_ms_per_char(model, args.chars, rng)
    batch1_ms = numpy_batch1_ms_per_char(model, 20 * args.chars, rng)
    batched, chars = batched_chars_per_s(model, args.lanes)
    plain, _ = batched_chars_per_s(model, args.lanes, form=False)
    print(json.dumps({
        "cpu": cpu_name(), "weights": str(model.weights_file),
        "seed_predict_ms_per_char": round(seed_ms, 2),
        "charrnn_batch1_ms_per_char": round(batch1_ms, 4),
        "batch1_speedup_vs_seed": round(seed_ms / batch1_ms, 1),
        "batched_lanes": args.lanes, "batched_chars": chars,
        "batched_chars_per_s": round(batched), "form": model.form is not None,
        "batched_chars_per_s_without_form": round(plain),
    }))


if __name__ == "__main__":
    main()
