"""Composer soak: 500 mixed requests from 4 concurrent clients against `charrnn serve` on 127.0.0.1.

    python bench/composer_soak.py [--requests 500] [--clients 4] [--max-seconds 1500] [--seed 0]

Each client draws its next request from a mix: compose, vary, fill, render, sound, bars and the
tunebook (save, list, open, rename, delete), each with a valid body or an invalid one (bad
numbers, words for notes, a too-long tune, unknown fields, broken JSON, huge ids). Floors:
no 5xx (a 503 "took longer than 8 seconds" counts, and a dropped connection as 599; a 429
"busy, try again" does not), no request over 10 s, the server's memory (RSS) flat after warm-up
(the last quarter's peak at most 50 MB or 10% over the first quarter's), the tunebook intact (every tune saved and not deleted is listed
with its title, opens and parses; SQLite's integrity check passes). Bounded by --requests and
--max-seconds. Prints one JSON line, then a table per kind of request.
"""
import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from composer_page import options, rss_mb, start_server  # noqa: E402
from machine import cpu_name  # noqa: E402

TUNE = ("X:1\nT:Soak Jig\nR:jig\nM:6/8\nL:1/8\nK:D\nA|:DFA dfa|gfe dcB|AFD DFA|BAG FED|\n"
        "DFA dfa|gfe dcB|AFD EFE|D3 D2:|\n|:fga agf|gfe efg|fed dcB|AFD DFA|\nfga agf|gfe efg|fed dcB|AGF E2:|\n")
LONG = TUNE.replace("DFA dfa|", "DFA dfa|" * 70)  # over the composer's 64 bars


class Soak:
    def __init__(self, url, rng_seed, total, max_seconds):
        self.url, self.total, self.max_seconds = url, total, max_seconds
        self.rng_seed, self.lock = rng_seed, threading.Lock()
        self.issued, self.started = 0, time.time()
        self.rows, self.saved = [], {}  # saved: id -> title of tunes expected in the book

    def next_ticket(self):
        with self.lock:
            if self.issued >= self.total or time.time() - self.started > self.max_seconds:
                return None
            self.issued += 1
            return self.issued

    def client(self, index):
        rng = random.Random(self.rng_seed * 100 + index)
        tunes = [TUNE]
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while self.next_ticket() is not None:
                kind, valid, method, path, body = self.draw(rng, tunes)
                t0 = time.perf_counter()
                try:
                    if body is bytes:
                        r = http.request(method, path, content=b"{nope", headers={"Content-Type": "application/json"})
                    else:
                        r = http.request(method, path, json=body)
                except httpx.TransportError as e:  # the server dropped the connection: a failure, counted
                    with self.lock:
                        self.rows.append({"kind": kind, "valid": valid, "status": 599, "seconds": time.perf_counter() - t0,
                                          "error": f"connection: {e}"})
                    continue
                seconds = time.perf_counter() - t0
                answer = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                self.learn(kind, r, answer, tunes, body)
                with self.lock:
                    self.rows.append({"kind": kind, "valid": valid, "status": r.status_code, "seconds": seconds,
                                      "error": answer.get("error") if isinstance(answer, dict) else None})

    def learn(self, kind, r, answer, tunes, body):
        """Keep tunes the server wrote (to vary them later) and the tunebook's expected contents."""
        if r.status_code == 200 and kind in ("compose", "vary", "fill") and answer.get("valid"):
            tunes.append(answer["abc"])
            del tunes[:-5]
        with self.lock:
            if kind == "save" and r.status_code == 201:
                self.saved[answer["id"]] = answer["title"]
            if kind == "rename" and r.status_code == 200:
                self.saved[answer["id"]] = answer["title"]
            if kind == "delete" and r.status_code == 200:
                self.saved.pop(answer["deleted"], None)

    def draw(self, rng, tunes):
        """(kind, valid, method, path, body): one request of the mix."""
        tune = rng.choice(tunes)
        valid = rng.random() < 0.7
        kind = rng.choice(["compose"] * 3 + ["vary"] * 2 + ["fill", "render", "sound", "bars", "save", "list",
                                                                "open", "rename", "delete", "compare"])
        sampling = {"temperature": rng.choice([0.05, 0.5, 1.0, 1.5]), "random_seed": rng.randrange(2**32)}
        bad = rng.choice([{"temperature": "abc"}, {"temperature": 0.01}, {"top_p": 7}, {"colour": "red"},
                          {"random_seed": -1}, {"candidates": 10**6}, {"program": "kazoo"}, {"tempo": -3}])
        with self.lock:
            ids = list(self.saved)
        if kind in ("open", "rename", "delete") and not ids:
            valid = False  # nothing saved yet: an id that is not there
        some_id = rng.choice(ids) if ids and valid else rng.choice([99999999999999999999999, 0, 123456789])
        if kind == "compose":
            body = {"type": rng.choice(options("type")), "key": rng.choice(options("key")), **sampling}
            if not valid:
                body.update(rng.choice([{"meter": "7/0"}, {"key": "Cxyz"}, {"seed": "I would like a happy tune please"},
                                        {"title": "50% Reel"}, bad]))
            return kind, valid, "POST", "/api/compose", body
        if kind == "vary":
            bars = len(httpx.post(self.url + "/api/bars", json={"abc": tune}).json()["bars"])
            body = {"abc": tune, "bars": [rng.randrange(1, bars + 1)], "candidates": 8, **sampling}
            if not valid:
                body.update(rng.choice([{"bars": [bars + 5]}, {"bars": []}, {"abc": "Dear diary"}, bad]))
            return kind, valid, "POST", "/api/vary", body
        if kind == "fill":
            holes = tune.replace("|", "| * |", 1) if valid else tune
            return kind, valid, "POST", "/api/fill", {"abc": holes, "candidates": 8, **sampling}
        if kind in ("render", "sound", "compare"):
            abc = tune if valid else rng.choice([LONG, "Dear diary", "X:1\nK:D\n[[[|", ""])
            extra = {"program": rng.choice(options("program"))} if kind != "compare" else {}
            return kind, valid, "POST", f"/api/{kind if kind != 'sound' else 'sound'}", {"abc": abc, **extra}
        if kind == "bars":
            return kind, valid, "POST", "/api/bars", ({"abc": tune} if valid else bytes)
        if kind == "save":
            body = {"abc": tune, "title": f"Soak {rng.randrange(10**6)}", "settings": {"type": "jig"}}
            if not valid:
                body.update(rng.choice([{"abc": "Dear diary"}, {"title": "a\nb"}, {"abc": LONG}]))
            return kind, valid, "POST", "/api/tunebook", body
        if kind == "list":
            return kind, valid, "GET", "/api/tunebook" if valid else "/api/tunebook/abc", None
        if kind == "open":
            return kind, valid, "GET", f"/api/tunebook/{some_id}", None
        if kind == "rename":
            title = f"Renamed {rng.randrange(10**6)}" if valid else rng.choice(["   ", "x" * 300])
            return kind, valid, "POST", f"/api/tunebook/{some_id}", {"title": title}
        return kind, valid, "DELETE", f"/api/tunebook/{some_id}", None


def tunebook_intact(url, folder, saved):
    """Every tune saved and not deleted is listed with its title and opens; SQLite says 'ok'."""
    listed = {t["id"]: t["title"] for t in httpx.get(url + "/api/tunebook").json()["tunes"]}
    missing = {i: t for i, t in saved.items() if listed.get(i) != t}
    opened = all(f"T:{t}" in httpx.get(f"{url}/api/tunebook/{i}").json()["abc"] for i, t in list(saved.items())[:50])
    with sqlite3.connect(Path(folder) / "book.sqlite") as con:
        check = con.execute("PRAGMA integrity_check").fetchone()[0]
    return {"tunes": len(listed), "expected": len(saved), "missing": len(missing), "opened": opened,
            "integrity": check, "intact": not missing and opened and check == "ok"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--max-seconds", type=float, default=1500)
    ap.add_argument("--model", default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(tmp, args.model)
        try:
            soak = Soak(url, args.seed, args.requests, args.max_seconds)
            memory, done = [], threading.Event()

            def sample_memory():
                while not done.is_set():
                    memory.append((len(soak.rows), rss_mb(proc.pid)))
                    done.wait(1.0)

            watcher = threading.Thread(target=sample_memory)
            watcher.start()
            clients = [threading.Thread(target=soak.client, args=(i,)) for i in range(args.clients)]
            for c in clients:
                c.start()
            for c in clients:
                c.join()
            done.set()
            watcher.join()
            book = tunebook_intact(url, tmp, soak.saved)
            wall = time.time() - soak.started
            if any(r["status"] >= 500 for r in soak.rows):  # the server's own account, before tmp goes
                print((Path(tmp) / "server.log").read_text()[-3000:], file=sys.stderr)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    rows, n = soak.rows, len(soak.rows)
    first = [mb for done_count, mb in memory if n // 8 <= done_count <= n // 4] or [memory[0][1]]
    last = [mb for done_count, mb in memory if done_count >= 3 * n // 4] or [memory[-1][1]]
    growth = max(last) - max(first)
    server_errors = sum(r["status"] >= 500 for r in rows)
    slowest = max(r["seconds"] for r in rows)
    result = {"bench": "composer_soak", "cpu": cpu_name(), "load_before": [round(x, 2) for x in load],
              "load_after": [round(x, 2) for x in os.getloadavg()], "requests": n, "clients": args.clients,
              "wall_s": round(wall, 1), "status": dict(sorted(_count(str(r["status"]) for r in rows).items())),
              "server_errors": server_errors, "busy_429": sum(r["status"] == 429 for r in rows),
              "max_s": round(slowest, 2), "p95_s": round(sorted(r["seconds"] for r in rows)[int(0.95 * n)], 2),
              "rss_mb_warm": round(max(first), 1), "rss_mb_end": round(max(last), 1), "rss_growth_mb": round(growth, 1),
              "tunebook": book,
              "floors_met": server_errors == 0 and slowest <= 10 and growth <= max(50, 0.1 * max(first))
              and book["intact"]}
    print(json.dumps(result))
    print(f"{'kind':<8} {'valid':>5} {'count':>5} {'median s':>8} {'max s':>6}  statuses")
    groups = defaultdict(list)
    for r in rows:
        groups[(r["kind"], r["valid"])].append(r)
    for (kind, valid), group in sorted(groups.items()):
        seconds = [r["seconds"] for r in group]
        print(f"{kind:<8} {str(valid):>5} {len(group):>5} {statistics.median(seconds):8.2f} {max(seconds):6.2f}  "
              f"{dict(sorted(_count(str(r['status']) for r in group).items()))}")
    refused = _count(r["error"] for r in rows if r["valid"] and r["error"])
    for error, count in sorted(refused.items(), key=lambda e: -e[1])[:8]:
        print(f"  valid body refused {count}x: {error[:150]}")


def _count(items):
    counts = defaultdict(int)
    for item in items:
        counts[item] += 1
    return dict(counts)


if __name__ == "__main__":
    main()
