"""`charrnn data build` on a big folder: wall time and peak memory (the build's processes together).

    python bench/build_corpus.py [--mb 100] [--workers 2] [--folder /tmp/charrnn_big_abc] [--compare-with /work/main]

The folder (made once, then reused) holds copies of this checkout's data/abc/train.abc until it
reaches --mb megabytes: copy k is cut into ten files, copy_kkk_j.abc, with every title given
" (copy k)" so that no tune is a duplicate of another (duplicates are found on the tune's text
after the X: line, titles included). The first copy is one file (a big file is read in pieces),
and two bad files show the skip summary: a .mid of garbage bytes and an .abc with no tunes.

The build runs as `python -m charrnn data build FOLDER --out OUT` in a fresh process; every 0.1 s the
resident memory (VmRSS) of it and its worker processes is summed, and the peak is reported beside
the largest single process's,
with the CPU seconds of them all. --compare-with runs another checkout's charrnn the same way
(e.g. the code before streaming). Prints one JSON line per build, with the CPU it ran on.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from machine import cpu_name

ROOT = Path(__file__).resolve().parents[1]  # run this checkout's charrnn, not an installed one


def make_folder(folder, megabytes):
    """Copies of data/abc/train.abc, titles numbered, until the folder holds `megabytes` MB."""
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    folder.mkdir(parents=True)
    text = (ROOT / "data" / "abc" / "train.abc").read_text(encoding="utf-8")
    tunes = text.split("\n\n")
    k, size = 0, 0
    while size < megabytes << 20:
        copy = [re.sub(r"^T:(.*)$", rf"T:\1 (copy {k})", t, count=1, flags=re.M) for t in tunes]
        parts = [copy] if k == 0 else [copy[j::10] for j in range(10)]
        for j, part in enumerate(parts):
            data = "\n\n".join(part) + "\n"
            (folder / f"copy_{k:03d}_{j}.abc").write_text(data, encoding="utf-8")
            size += len(data.encode("utf-8"))
        k += 1
    (folder / "garbage.mid").write_bytes(b"not a MIDI file " * 64)
    (folder / "notes.abc").write_text("A tune book's preface, and no tunes in it.\n")
    return folder


def tree_rss(pid):
    """(Resident kB of a process and all its descendants together, of the largest one), from /proc."""
    parents, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields.get("PPid", "0"))
        rss[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0])
    family, grew = {pid}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    return sum(rss.get(p, 0) for p in family), max(rss.get(p, 0) for p in family)


def children_cpu():
    """User + system seconds of finished child processes (the build and the workers it waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(checkout, folder, out, workers):
    cmd = [sys.executable, "-m", "charrnn", "data", "build", str(folder), "--out", str(out)]
    if workers and checkout == ROOT:
        cmd += ["--workers", str(workers)]
    start, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.Popen(cmd, cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0, 0]

    def sample():
        while proc.poll() is None:
            peak[:] = map(max, peak, tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"build failed: {stderr.strip().splitlines()[-1]}")
    lines = [line for line in stderr.splitlines() if line.startswith(("skipped", "dropped"))]
    return {"checkout": str(checkout), "workers": workers, "seconds": round(seconds, 1),
            "cpu_seconds": round(children_cpu() - cpu, 1),
            "peak_rss_mb_all_processes": round(peak[0] / 1024), "peak_rss_mb_largest_process": round(peak[1] / 1024),
            "summary": stdout.strip(), "skip_lines": lines}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--workers", type=int, default=None, help="default: the build's own (every core)")
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "charrnn_big_abc")
    parser.add_argument("--compare-with", type=Path, help="another checkout to build with the same way")
    args = parser.parse_args()
    folder = make_folder(args.folder, args.mb)
    megabytes = sum(p.stat().st_size for p in folder.iterdir()) / (1 << 20)
    for checkout in [ROOT] + ([args.compare_with] if args.compare_with else []):
        with tempfile.TemporaryDirectory() as out:
            result = build(checkout.resolve(), folder, Path(out) / "corpus", args.workers)
        result.update(input_mb=round(megabytes, 1), files=len(list(folder.iterdir())), cpu=cpu_name(),
                      load_average=os.getloadavg()[0])
        print(json.dumps(result))


if __name__ == "__main__":
    main()
