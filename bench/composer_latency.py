"""Composer latency floor: 200 composes with random settings at the page's lowest temperature,
score and audio included, through `charrnn serve` on 127.0.0.1 (one request at a time).

    python bench/composer_latency.py [--count 200] [--max-seconds 1500] [--model RUN_DIR] [--seed 0]

Each compose: a random tune type, meter and key from the page's own menus (bench/composer_page.py),
temperature 0.05, a random seed; timed from POST /api/compose until its score (SVG) and audio
(WAV) are fetched. Floors (issue 33): max <= 5 s, p95 <= 3 s on 2 cores. Bounded: stops after
--count composes or --max-seconds. Prints one JSON line, then a table of the slowest composes.
"""
import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from composer_page import lowest_temperature, options, start_server  # noqa: E402
from machine import cpu_name  # noqa: E402


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--max-seconds", type=float, default=1500)
    ap.add_argument("--model", default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    types, meters, keys = options("type"), options("meter"), options("key")
    rows, load = [], os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(tmp, args.model)
        try:
            with httpx.Client(base_url=url, timeout=60) as client:
                started = time.time()
                while len(rows) < args.count and time.time() - started < args.max_seconds:
                    kind = rng.choice(types + [None])  # "any" is on the menu too
                    body = {"type": kind, "meter": rng.choice(meters), "key": rng.choice(keys),
                            "temperature": lowest_temperature(), "random_seed": rng.randrange(2**32)}
                    t0 = time.perf_counter()
                    r = client.post("/api/compose", json=body)
                    tune = r.json()
                    if r.status_code == 200:
                        for media in (tune["score"], tune["audio"]):
                            if media:
                                client.get(media).raise_for_status()
                    rows.append({"seconds": time.perf_counter() - t0, "status": r.status_code, **body,
                                 "bars": len(tune.get("bars", [])), "valid": tune.get("valid"),
                                 "audio": bool(tune.get("audio")),
                                 "error": tune.get("error")})
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    seconds = [r["seconds"] for r in rows]
    result = {"bench": "composer_latency", "cpu": cpu_name(), "load_before": [round(x, 2) for x in load],
              "load_after": [round(x, 2) for x in os.getloadavg()], "composes": len(rows),
              "temperature": lowest_temperature(), "max_s": round(max(seconds), 3),
              "p95_s": round(percentile(seconds, 0.95), 3), "median_s": round(statistics.median(seconds), 3),
              "not_200": sum(r["status"] != 200 for r in rows), "valid": sum(bool(r["valid"]) for r in rows),
              "with_audio": sum(r["audio"] for r in rows),
              "max_bars": max(r["bars"] for r in rows),
              "floors_met": max(seconds) <= 5 and percentile(seconds, 0.95) <= 3}
    print(json.dumps(result))
    print(f"{'seconds':>8} {'status':>6} {'type':<11} {'meter':<5} {'key':<5} {'bars':>4}  error")
    for r in sorted(rows, key=lambda r: -r["seconds"])[:10]:
        print(f"{r['seconds']:8.2f} {r['status']:>6} {str(r['type']):<11} {r['meter']:<5} {r['key']:<5} {r['bars']:>4}  "
              f"{r['error'] or ''}")


if __name__ == "__main__":
    main()
