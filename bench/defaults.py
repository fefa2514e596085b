"""Which sampling defaults make tunes hardest to tell from human ones: a sweep over temperature,
top-p and drafts, each measured as `charrnn evaluate` measures (music21 records, the report's
random forest) against the second held-out half (the even-numbered tunes), which the critic never saw.

    python bench/defaults.py [-n 300] [--random-seed 0] [--settings "1.0,-,1;1.0,-,2;0.9,-,2"]

A setting is temperature,top_p,drafts ("-": no top-p). Prints one JSON line per setting (valid
share, detectability AUC, tonic endings, bars per tune, characters of tunes per second while
generating), then a table. The issue's rule: the lowest AUC among settings with >= 99% valid.
"""
import argparse
import json
import time

from charrnn.corpus import held_out_halves, load_corpus
from charrnn.evaluation.detectability import detectability
from charrnn.evaluation.measure import default_jobs, measure_tunes, summarise
from charrnn.generator import load

DEFAULT_SETTINGS = "1.0,-,1;1.0,-,2;0.9,-,2;0.95,-,2;1.0,0.95,2"


def parse_settings(text):
    """'1.0,-,1;0.9,0.95,2' -> [(1.0, None, 1), (0.9, 0.95, 2)]."""
    out = []
    for item in text.split(";"):
        t, p, d = item.split(",")
        out.append((float(t), None if p.strip() == "-" else float(p), int(d)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--data", default="data/abc")
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--random-seed", type=int, default=0)
    ap.add_argument("--settings", default=DEFAULT_SETTINGS)
    a = ap.parse_args(argv)
    model = load(a.model)
    corpus = load_corpus(a.data)
    jobs = default_jobs()
    human = measure_tunes(held_out_halves(corpus.valid_tunes)[1], jobs=jobs)
    rows = []
    for temperature, top_p, drafts in parse_settings(a.settings):
        start = time.perf_counter()
        tunes = [t.abc for t in model.generate(n=a.n, temperature=temperature, top_p=top_p, drafts=drafts,
                                               random_seed=a.random_seed)]
        seconds = time.perf_counter() - start
        records = measure_tunes(tunes, jobs=jobs)
        s = summarise(records)
        auc = (detectability(human, records, random_seed=a.random_seed) or {}).get("auc")
        row = {"temperature": temperature, "top_p": top_p, "drafts": drafts, "n": a.n, "random_seed": a.random_seed,
               "valid": s["valid_rate"], "auc_second_half": auc, "tonic": s["tonic_ending_rate"],
               "bars_mean": s["bars_mean"], "abc2midi_clean": s["abc2midi_clean_rate"],
               "chars_per_s": sum(map(len, tunes)) / seconds}
        print(json.dumps(row), flush=True)
        rows.append(row)
    print(f"{'T':>5} {'top_p':>6} {'drafts':>6} {'valid':>6} {'AUC':>6} {'tonic':>6} {'bars':>5} {'clean':>6} {'chars/s':>8}")
    for r in rows:
        print(f"{r['temperature']:5.2f} {r['top_p'] or '-':>6} {r['drafts']:6d} {100 * r['valid']:5.1f}% "
              f"{r['auc_second_half'] or float('nan'):6.3f} {100 * r['tonic']:5.1f}% {r['bars_mean']:5.1f} "
              f"{100 * r['abc2midi_clean']:5.1f}% {r['chars_per_s']:8.0f}")


if __name__ == "__main__":
    main()
