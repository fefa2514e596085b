"""Loops in sampled tunes, read from the text: how many tunes repeat one bar 4 or more times, and
how many have 6 or more bars in a row that each repeat an earlier bar, beside the held-out tunes.

    python bench/loops.py [--model RUN_DIR] [--data data/abc] [-n 400] [--random-seeds 0,1]

Bars are charrnn.abc.bars.bar_note_sequences (pitches and lengths; chord symbols, ornaments and
spacing aside; bars of under 3 notes left out). Prints one JSON line per set.
"""
import argparse
import json
from collections import Counter

from charrnn.abc.bars import bar_note_sequences, repeated_bar_share
from charrnn.abc.text import read_abc_text, split_tunes
from charrnn.generator import load


def loop_measures(abcs):
    loops = runs = bars = 0
    for abc in abcs:
        seqs = bar_note_sequences(abc)
        bars += len(seqs)
        loops += bool(seqs) and max(Counter(seqs).values()) >= 4
        seen, run, longest = set(), 0, 0
        for s in seqs:
            run = run + 1 if s in seen else 0
            longest = max(longest, run)
            seen.add(s)
        runs += longest >= 6
    n = len(abcs)
    return {"tunes": n, "bar_4_times": round(loops / n, 3), "run_of_6": round(runs / n, 3),
            "repeated_bars": round(repeated_bar_share(abcs), 3), "bars_mean": round(bars / n, 1)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=None)
    p.add_argument("--data", default="data/abc")
    p.add_argument("-n", type=int, default=400)
    p.add_argument("--random-seeds", default="0,1")
    args = p.parse_args()
    print(json.dumps({"set": "human", **loop_measures(split_tunes(read_abc_text(f"{args.data}/valid.abc")))}))
    model = load(args.model)
    for seed in map(int, args.random_seeds.split(",")):
        tunes = [t.abc for t in model.generate(n=args.n, random_seed=seed)]
        print(json.dumps({"set": f"generated, random seed {seed}", **loop_measures(tunes)}))


if __name__ == "__main__":
    main()
