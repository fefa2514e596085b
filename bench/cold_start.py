"""Cold start: seconds from a fresh process to one tune, through the CLI and through the Python API.

    python bench/cold_start.py [--repeats 3] [--model RUN_DIR]

1. `python -m charrnn generate -n 1 --out DIR`: load, sample, and write the tune's .abc and
   .mid (the MIDI needs music21's parse: music21 is imported for it).
2. `python -c "import charrnn; charrnn.generate()"`: load and sample only.
3. The phases of (1), timed inside one fresh process: interpreter start, `import charrnn`, model
   load (h5py, no TensorFlow), sampling, `import music21`, music21's parse, writing the MIDI.
Each runs --repeats times in new processes (minimum and median; other processes on the machine
make single timings noisy). Prints one JSON line, with the CPU it ran on.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_name

ROOT = Path(__file__).resolve().parents[1]  # run this checkout's charrnn, not an installed one

PHASES = r"""
import sys, time, json
t = [time.perf_counter()]
import charrnn
t.append(time.perf_counter())
model = charrnn.load(sys.argv[1] if sys.argv[1] else None)
t.append(time.perf_counter())
tune = model.generate(n=1, random_seed=1)[0]
t.append(time.perf_counter())
import music21
t.append(time.perf_counter())
tune.parses
t.append(time.perf_counter())
tune.to_midi(sys.argv[2])
t.append(time.perf_counter())
names = ["import_charrnn", "load_model", "sample", "import_music21", "music21_parse", "write_midi"]
print(json.dumps({n: round(b - a, 3) for n, a, b in zip(names, t, t[1:])}))
"""


def env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def wall(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env(), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def summary(times):
    return {"min_s": round(min(times), 2), "median_s": round(statistics.median(times), 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model", default="", help="run folder (default: the pretrained model)")
    args = ap.parse_args()
    model = ["--model", args.model] if args.model else []
    api = f"import charrnn; charrnn.generate(random_seed=1{', model=%r' % args.model if args.model else ''})"
    cli, py, start, phases = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):  # interleaved, so that a busy spell hits all of them alike
            cli.append(wall([sys.executable, "-m", "charrnn", "generate", "-n", "1", "--random-seed", "1",
                             "--out", tmp, *model]))
            py.append(wall([sys.executable, "-c", api]))
            start.append(wall([sys.executable, "-c", "pass"]))
            out = subprocess.run([sys.executable, "-c", PHASES, args.model, str(Path(tmp) / "t.mid")],
                                 cwd=ROOT, env=env(), check=True, capture_output=True, text=True)
            phases.append(json.loads(out.stdout.strip().splitlines()[-1]))
    median_phases = {k: round(statistics.median(p[k] for p in phases), 3) for k in phases[0]}
    print(json.dumps({
        "cpu": cpu_name(), "repeats": args.repeats,
        "cli_generate_n1": summary(cli), "import_and_generate": summary(py),
        "python_startup": summary(start), "phases_median_s": median_phases,
    }))


if __name__ == "__main__":
    main()
