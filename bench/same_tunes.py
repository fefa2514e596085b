"""Fingerprints of what the sampler writes for fixed random seeds, to show that a refactor keeps
every tune byte for byte: run it before and after, and compare the lines.

    python bench/same_tunes.py [--model RUN_DIR] > before.json   # ... change ... then again

Covers generate (400 tunes for random seeds 0 and 1, with and without form.json; 100 at T = 0.8,
top-p 0.9), continue_tune (from a header and from half a tune), vary and fill.
"""
import argparse
import hashlib
import json

from charrnn.abc.bars import bar_spans
from charrnn.generator import load


def fingerprint(tunes):
    return hashlib.sha256("\x00".join(t.abc for t in tunes).encode()).hexdigest()[:16]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=None)
    model = load(p.parse_args().model)
    out = {}
    for seed in (0, 1):
        for form in (True, False):
            out[f"generate random_seed={seed} form={form}"] = fingerprint(model.generate(n=400, random_seed=seed,
                                                                                         form=form))
    out["generate T=0.8 top_p=0.9"] = fingerprint(model.generate(n=100, random_seed=5, temperature=0.8, top_p=0.9))
    out["continue_tune header"] = fingerprint(model.continue_tune("", n=20, type="jig", meter="6/8", key="D",
                                                                  random_seed=7))
    base = model.continue_tune("", type="reel", meter="4/4", key="G", random_seed=3)[0].abc
    out["continue_tune bars"] = fingerprint(model.continue_tune(base[:len(base) // 2], n=20, random_seed=8))
    out["vary"] = fingerprint(model.vary(base, bars=[3, 4], n=4, random_seed=1))
    start, end = bar_spans(base)[4]
    out["fill"] = fingerprint(model.fill(base[:start] + "*" + base[end:], n=2, random_seed=2))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
