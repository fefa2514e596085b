"""Ask the pretrained model for jigs in D and keep the ones music21 can read.

    python examples/generate_jigs.py --n 5 --out jigs/

The seed is a whole ABC header, so every tune starts as a 6/8 jig in D major; the model
writes the title's text and the music. Each tune is written as .abc and .mid into --out.
"""
import argparse
from pathlib import Path

import charrnn

JIG_IN_D = "X:1\nT:"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--temperature", type=float, default=0.9)
    ap.add_argument("--random-seed", type=int, default=1)
    ap.add_argument("--out", default="jigs")
    args = ap.parse_args()

    model = charrnn.load()  # the pretrained model, loaded once
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # The title comes first in the corpus' headers, so let the model write it, then fix M, L and K.
    titles = model.generate(seed=JIG_IN_D, n=args.n, temperature=args.temperature,
                            random_seed=args.random_seed, max_chars=80)
    for i, head in enumerate(titles, 1):
        # Ryan's titles name the tune type ("The Dolasher -- Reel"); these are jigs.
        title = head.abc.split("\n")[1][2:].split(" -- ")[0] or f"Jig {i}"
        seed = f"X:1\nT:{title}\nM:6/8\nL:1/8\nK:D\n"  # every corpus tune is X:1
        tune = model.generate(seed=seed, temperature=args.temperature, random_seed=args.random_seed + i)[0]
        (out / f"jig_{i}.abc").write_text(tune.abc)
        if tune.is_valid:
            tune.to_midi(out / f"jig_{i}.mid")
        print(f"{tune.title:40s} {tune.bars:3d} bars  {'valid' if tune.is_valid else 'not valid'}")


if __name__ == "__main__":
    main()
