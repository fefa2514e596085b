"""The RNN against the Transformer: one table for run folders trained on the same split.

    charrnn train --data data/abc --out runs/cmp/lstm --epochs 100 --time-limit 25 --random-seed 0
    charrnn train --arch transformer --data data/abc --out runs/cmp/transformer --epochs 100 \\
        --time-limit 25 --random-seed 0
    python bench/compare_models.py runs/cmp/lstm runs/cmp/transformer [-n 200] [--json out.json]

For each run folder, on one machine: how long it trained (log.csv's seconds) and at how many
training characters per second; then bench/quality.py's measures at T = 1.0 from `X:` (held-out
bits per character, validity, inner bars, repeated bars, bar = bar + 4, tonic endings, abc2midi,
novelty, detectability), sampled with the network alone (form=False: a run has no form.json of its
own, and this compares networks); then sampling speed: batch-1 ms per character (the NumPy step
and the sampler's draw) and 200 whole tunes in parallel lanes, characters per second. Prints one
JSON line per model, then a Markdown table with a column per model.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

import charrnn
from charrnn.nn.runstate import read_log
from charrnn.nn.sampling import draw, next_char_probs
from charrnn.nn.stepnet import blas_threads
from machine import cpu_name
from quality import measure


def training_figures(run, data):
    """Minutes trained, epochs, and training characters per second (what each epoch read)."""
    rows = read_log(Path(run) / "log.csv")
    args = json.loads((Path(run) / "train_args.json").read_text())
    model = charrnn.load(run)
    train_chars = len(charrnn.load_corpus(data).train_text)
    if model.config.arch == "transformer":
        per_epoch = train_chars  # every tune once, in windows (padding not counted)
    else:
        lanes, seq_len = args["batch_size"], args["seq_len"]
        per_epoch = (train_chars - 1) // lanes // seq_len * lanes * seq_len
    seconds = sum(r["seconds"] for r in rows)
    return {"epochs": len(rows), "train_minutes": round(seconds / 60, 1),
            "train_chars_per_s": round(per_epoch * len(rows) / seconds) if seconds else None,
            "last_val_bpc": rows[-1].get("val_bits_per_char") if rows else None}


def batch1_ms_per_char(model, chars=2000, random_seed=0):
    """One lane: the step and the sampler's draw, `chars` characters from `X:` (a transformer's
    lane starts again from an empty context at each context's end)."""
    rng = np.random.default_rng(random_seed)
    limit = getattr(model.net, "context", None) or chars
    x = model.vocab.char_to_idx["X"]
    with blas_threads():
        start, done = time.perf_counter(), 0
        while done < chars:
            state, ids = model.net.initial_state(1), np.array([x])
            for _ in range(min(limit, chars - done)):
                ids = draw(next_char_probs(model.net.step(ids, state)), rng.random((1, 1)))
                done += 1
        return 1000 * (time.perf_counter() - start) / chars


def batched_chars_per_s(model, lanes=200, random_seed=0):
    model.generate(n=1, random_seed=random_seed, form=False)  # write the warm-up tunes first
    start = time.perf_counter()
    tunes = model.generate(n=lanes, random_seed=random_seed, form=False)
    return round(sum(len(t.abc) - len("X:") for t in tunes) / (time.perf_counter() - start))


ROWS = [  # (label, key, format)
    ("training time (minutes, epochs)", None, None),
    ("training characters per second", "train_chars_per_s", "int"),
    ("held-out bits per character", "valid_bpc", "bpc"),
    ("valid tunes", "validity_rate", "pct"),
    ("inner bars of the right length (human {inner_bar_share_human})", "inner_bar_share_generated", "pct"),
    ("bars that repeat another bar of the tune (human {repeated_bar_share_human})", "repeated_bar_share", "pct"),
    ("bars equal to the bar four later (human {bar_plus4_share_human})", "bar_plus4_share", "pct"),
    ("last note is the tonic of K: (human {tonic_ending_rate_human})", "tonic_ending_rate", "pct"),
    ("abc2midi reads without an error (human {abc2midi_clean_rate_human})", "abc2midi_clean_rate", "pct"),
    ("near-copies of training tunes (human {near_copy_rate_human})", "near_copy_rate", "pct"),
    ("longest run shared with a training tune, median (human {longest_run_median_human})",
     "longest_run_median", "int"),
    ("detectability ROC AUC (0.5: cannot tell)", "detectability_auc", "bpc"),
    ("batch-1 sampling, ms per character", "batch1_ms_per_char", "ms"),
    ("200 tunes in parallel lanes, characters per second", "batched_chars_per_s", "int"),
]


def fmt(value, kind):
    if value is None:
        return "-"
    return {"bpc": f"{value:.3f}", "pct": f"{100 * value:.1f}%", "int": f"{value:,.0f}", "ms": f"{value:.2f}"}[kind]


def markdown(results):
    first = results[0]
    lines = ["| measure | " + " | ".join(r["name"] for r in results) + " |",
             "|---|" + "---|" * len(results)]
    for label, key, kind in ROWS:
        label = label.format(**{k: fmt(v, "int" if k.startswith("longest") else "pct") for k, v in first.items()
                                if k.endswith("_human")})
        if key is None:
            cells = [f"{r['train_minutes']} ({r['epochs']} epochs)" for r in results]
        else:
            cells = [fmt(r.get(key), kind) for r in results]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="run folders trained on --data")
    ap.add_argument("--data", default="data/abc")
    ap.add_argument("-n", type=int, default=200, help="tunes to generate per model (default 200)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    results = []
    for run in args.runs:
        model = charrnn.load(run)
        result = {"name": Path(run).name, "cpu": cpu_name(), **training_figures(run, args.data)}
        model.form = None  # the network alone (see the docstring)
        result.update(measure(model=model, data=args.data, n=args.n, kn_orders=()))
        result["batch1_ms_per_char"] = batch1_ms_per_char(model)
        result["batched_chars_per_s"] = batched_chars_per_s(model)
        print(json.dumps(result), flush=True)
        results.append(result)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(markdown(results))


if __name__ == "__main__":
    main()
