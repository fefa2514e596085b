"""Generate five tunes and render each one as MIDI, WAV and sheet music (SVG and PNG).

    python examples/render_five.py                          # -> examples/output/
    python examples/render_five.py /tmp/five --random-seed 3 --model runs/folk

For each tune NN-title.abc, .mid, .wav, .svg and .png go into the folder (nothing is written
elsewhere), and a line with the seconds each format took. A tune that music21 cannot read
is reported and skipped, as `charrnn render` does.
"""
import argparse
import time
from pathlib import Path

import charrnn
from charrnn.errors import CharrnnError
from charrnn.render import slug

FORMATS = {"midi": ".mid", "wav": ".wav", "svg": ".svg", "png": ".png"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", nargs="?", default=Path(__file__).parent / "output", type=Path,
                    help="output folder (default: examples/output/)")
    ap.add_argument("--random-seed", type=int, default=1)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--model", help="a run folder (default: the pretrained model)")
    args = ap.parse_args()

    tunes = charrnn.generate(seed="X:", n=5, temperature=args.temperature,
                             random_seed=args.random_seed, model=args.model)
    args.out.mkdir(parents=True, exist_ok=True)
    rendered = 0
    for i, tune in enumerate(tunes, 1):
        stem = args.out / f"{i:02d}-{slug(tune.title or 'untitled')}"
        stem.with_suffix(".abc").write_text(tune.abc)
        writers = {"midi": tune.to_midi, "wav": tune.to_wav, "svg": tune.to_score, "png": tune.to_score}
        took = {}
        try:
            tune.to_stream()  # music21 must read it, else skip it like `charrnn render` does
            for fmt, suffix in FORMATS.items():
                start = time.perf_counter()
                writers[fmt](stem.with_suffix(suffix))
                took[fmt] = time.perf_counter() - start
        except CharrnnError as e:
            print(f"{i}. {tune.title!r}: skipped: {e}")
            continue
        rendered += 1
        print(f"{i}. {tune.title!r} ({tune.meter}, {tune.key}, {tune.bars} bars): "
              + "  ".join(f"{fmt} {s:.2f}s" for fmt, s in took.items()))
    print(f"rendered {rendered} of {len(tunes)} tunes -> {args.out}/")


if __name__ == "__main__":
    main()
