"""Composer speed: what a musician waits for, through the real app (FastAPI, in process).

    python bench/composer_speed.py [--model RUN_DIR] [--repeats 5]

1. compose: POST /api/compose (a reel in D) + GET its score (SVG) + GET its audio (WAV),
   i.e. the tune on the page with sheet music and sound. Target: < 3 s on 2 CPU cores.
2. vary: POST /api/vary of bars 5-6 with 8 candidates + GET score + audio. Target: < 3 s.
The first compose after start-up (imports, the model's warm-up state) is reported apart.
Prints one JSON line: medians and each run's seconds and bar count.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's charrnn

from fastapi.testclient import TestClient  # noqa: E402

import charrnn  # noqa: E402
from charrnn.composer.app import create_app  # noqa: E402
from charrnn.composer.server import one_blas_thread  # noqa: E402
from charrnn.tune import Tune  # noqa: E402


def timed(client, path, body):
    start = time.perf_counter()
    r = client.post(path, json=body)
    if r.status_code != 200:
        raise SystemExit(f"{path}: {r.status_code} {r.json()} for {body}")
    tune = r.json()
    for url in (tune["score"], tune["audio"]):
        if url:
            client.get(url).raise_for_status()
    return time.perf_counter() - start, tune


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    one_blas_thread()  # as `charrnn serve` does
    model = charrnn.load(args.model)
    with tempfile.TemporaryDirectory() as tmp, TestClient(create_app(model, Path(tmp) / "book.sqlite")) as client:
        settings = {"type": "reel", "meter": "4/4", "key": "D", "temperature": 0.9}
        first, _ = timed(client, "/api/compose", {**settings, "random_seed": 0})
        compose, vary = [], []
        seed = 1
        while len(compose) < args.repeats and seed < 100:
            seconds, tune = timed(client, "/api/compose", {**settings, "random_seed": seed})
            seed += 1
            bars = Tune(tune["abc"]).bars
            if not tune["valid"]:
                continue
            compose.append({"seconds": round(seconds, 3), "bars": bars, "has_audio": bool(tune["audio"])})
            seconds, varied = timed(client, "/api/vary", {"abc": tune["abc"], "bars": [5, 6], "candidates": 8,
                                                          "random_seed": seed, "temperature": 0.9})
            vary.append({"seconds": round(seconds, 3), "bars": Tune(varied["abc"]).bars})
    print(json.dumps({"cpus": os.cpu_count(), "first_compose_s": round(first, 3),
                      "compose_median_s": statistics.median(r["seconds"] for r in compose),
                      "vary_median_s": statistics.median(r["seconds"] for r in vary),
                      "compose": compose, "vary": vary}))


if __name__ == "__main__":
    main()
