"""A run folder's record of what it has trained, read without Keras: run_state.json and log.csv.

    state = load_run_state("runs/folk")   # {"epochs_done": 12, "weights": "resume/epoch_012.weights.h5", ...}

charrnn.nn.callbacks.RunState writes both after each epoch; `charrnn train` reads them to
resume, extend or leave alone a run.
"""
import csv
import json
from pathlib import Path

from ..errors import CharrnnError
from ..files import write_text_atomic

STATE_FILE = "run_state.json"
RESUME_DIR = "resume"


def read_log(log_csv):
    """The rows of a log.csv as dicts of floats (epoch as int); a missing file has none."""
    try:
        with open(log_csv, newline="") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        return []
    def number(v):
        try:
            return float(v)
        except (TypeError, ValueError):
            return None
    return [{k: (int(float(v)) if k == "epoch" else number(v)) for k, v in r.items()} for r in rows]


def write_log(log_csv, rows):
    """log.csv from rows (epoch first, then the metrics sorted, as Keras' CSVLogger wrote it)."""
    keys = sorted({k for r in rows for k in r if k != "epoch"})
    lines = [",".join(["epoch"] + keys)]
    for r in rows:
        lines.append(",".join([str(r["epoch"])] + ["" if r.get(k) is None else repr(float(r[k])) for k in keys]))
    write_text_atomic(log_csv, "\n".join(lines) + "\n")


def load_run_state(out):
    """What a run folder has done: {"epochs_done", "weights", "history", "learning_rate", ...}.

    A folder trained before run_state.json existed is read from its log.csv (last row of each
    epoch) and last.weights.h5; a folder with neither has done 0 epochs."""
    out = Path(out)
    path = out / STATE_FILE
    if path.exists():
        try:
            return json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CharrnnError(f"{path}: not a valid run state ({e}); use a new --out folder") from None
    rows = {r["epoch"]: r for r in read_log(out / "log.csv")}  # the last row of an epoch logged twice
    if not rows or not (out / "last.weights.h5").is_file():
        return {"epochs_done": 0, "history": []}
    history = [rows[e] for e in sorted(rows)]
    return {"epochs_done": history[-1]["epoch"] + 1, "weights": "last.weights.h5", "history": history,
            "learning_rate": history[-1].get("learning_rate")}
