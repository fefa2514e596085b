"""Generation speed on one machine and one set of weights: a plain Keras loop vs charrnn.

    python bench/generate_speed.py [--model RUN_DIR] [--chars 200] [--lanes 200] [--drafts 1,2,4]

1. A plain Keras loop (the project's first design): the batch-1 stateful model, `model.predict`
   once per character.
2. charrnn's batch-1 generator (NumPy step over the same weights, then the sampler's own
   next_char_probs and inverse-CDF draw), ms per character.
3. charrnn's batched generation: `--lanes` tunes sampled in parallel, characters per second
   (whole tunes through the public API), with the model's form.json (copied bars, cadence
   retries) and without it, each tune the best of the model's default number of drafts (its
   critic.json's), and with --drafts for each number listed. The lanes' start states (after
   reading the start tunes, or after warm-up tunes) are read once per loaded model before, and
   timed apart (`start_states_s`).
Both charrnn figures run under `blas_threads()`, as `generate` does: one BLAS thread when the
machine is busy ($CHARRNN_SAMPLING_THREADS overrides). Prints one JSON line, with the CPU.

A transformer run folder (config.json arch "transformer") measures instead:
1. the cached step (charrnn.nn.attention_step), batch 1, ms per character over a tune of
   `--tune-chars` characters (each character attends to all before it);
2. the same characters with the whole context recomputed for each (`AttentionStep.forward` on
   the text so far, its last position), timed at a few lengths and averaged over the tune;
3. batched generation as above (`--lanes` tunes, no form), each tune at most `--tune-chars`
   (a random-weight model writes no blank line: its lanes all run to that length).
"""
import argparse
import json
import time

import numpy as np

import charrnn
from charrnn.nn.sampling import draw, next_char_probs, softmax
from charrnn.nn.stepnet import blas_threads
from machine import cpu_name


def keras_predict_ms_per_char(model, chars, rng):
    """The plain loop: predict on a (1, 1) input, sample, feed the sample back."""
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


def batched_chars_per_s(model, lanes, random_seed=0, form=True, max_chars=None, drafts=None):
    """Whole tunes in parallel lanes, through the public API (sampling and boundaries included;
    with the model's form.json, copies and cadence retries included, unless form=False; each tune
    the best of `drafts`, the model's default when None)."""
    start = time.perf_counter()
    tunes = model.generate(n=lanes, random_seed=random_seed, form=form, drafts=drafts,
                           **({"max_chars": max_chars} if max_chars else {}))
    seconds = time.perf_counter() - start
    chars = sum(len(t.abc) for t in tunes) - lanes * len("X:")
    return chars / seconds, chars


def transformer_ms_per_char(model, tune_chars, rng, lengths=5):
    """(cached step, recomputed context) ms per character, averaged over a tune of tune_chars."""
    net = model.net
    ids = rng.integers(0, len(model.vocab), (1, tune_chars))
    with blas_threads():
        state = net.initial_state(1)
        start = time.perf_counter()
        for t in range(tune_chars):
            draw(next_char_probs(net.step(ids[:, t], state)), rng.random((1, 1)))
        cached = 1000 * (time.perf_counter() - start) / tune_chars
        # Recomputing costs grow with the text: time evenly spaced lengths, average over the tune.
        times = []
        for length in np.linspace(1, tune_chars, lengths).round().astype(int):
            start = time.perf_counter()
            draw(next_char_probs(net.forward(ids[:, :length])[:, -1]), rng.random((1, 1)))
            times.append(time.perf_counter() - start)
    return cached, 1000 * float(np.mean(times))


def transformer_main(model, args, rng):
    cached, recomputed = transformer_ms_per_char(model, args.tune_chars, rng)
    batched, chars = batched_chars_per_s(model, args.lanes, form=False, max_chars=args.tune_chars)
    config = model.config
    print(json.dumps({
        "cpu": cpu_name(), "weights": str(model.weights_file),
        "model": f"{config.layers} layers x {config.units} wide x {config.heads} heads, context {config.context}",
        "tune_chars": args.tune_chars, "cached_batch1_ms_per_char": round(cached, 3),
        "recomputed_batch1_ms_per_char": round(recomputed, 2), "cached_speedup": round(recomputed / cached, 1),
        "batched_lanes": args.lanes, "batched_chars": chars, "batched_chars_per_s": round(batched),
    }))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="run folder (default: the pretrained model)")
    ap.add_argument("--chars", type=int, default=200)
    ap.add_argument("--lanes", type=int, default=200)
    ap.add_argument("--tune-chars", type=int, default=500, help="transformer: the tune length timed")
    ap.add_argument("--drafts", default="", help="also time these numbers of drafts per tune, e.g. 1,2,4")
    args = ap.parse_args()
    model = charrnn.load(args.model)
    rng = np.random.default_rng(0)
    if model.config.arch == "transformer":
        return transformer_main(model, args, rng)
    # charrnn first: the Keras loop loads TensorFlow, whose idle threads then share the two cores
    # with NumPy's (charrnn's own sampling never loads it).
    batch1_ms = numpy_batch1_ms_per_char(model, 20 * args.chars, rng)
    start = time.perf_counter()
    model.start.take(args.lanes, rng)  # the start states, read once per loaded model: timed apart
    start_s = time.perf_counter() - start
    batched, chars = batched_chars_per_s(model, args.lanes)
    plain, _ = batched_chars_per_s(model, args.lanes, form=False)
    by_drafts = {int(d): round(batched_chars_per_s(model, args.lanes, drafts=int(d))[0])
                 for d in args.drafts.split(",") if d.strip()}
    keras_ms = keras_predict_ms_per_char(model, args.chars, rng)
    print(json.dumps({
        "cpu": cpu_name(), "weights": str(model.weights_file),
        "keras_predict_ms_per_char": round(keras_ms, 2),
        "charrnn_batch1_ms_per_char": round(batch1_ms, 4),
        "batch1_speedup_vs_keras_predict": round(keras_ms / batch1_ms, 1),
        "batched_lanes": args.lanes, "batched_chars": chars,
        "start_states_s": round(start_s, 2),
        "batched_chars_per_s": round(batched), "form": model.form is not None,
        "drafts": model.default_drafts(), "batched_chars_per_s_by_drafts": by_drafts,
        "batched_chars_per_s_without_form": round(plain),
    }))


if __name__ == "__main__":
    main()
