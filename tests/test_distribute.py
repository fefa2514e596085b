"""--distribute: lanes stay on their replica, 2 replicas step as one device, mirrored and
multi-worker runs train and resume. The checks that need two devices run in fresh processes
(tests/two_devices.py): TensorFlow splits a CPU into logical devices only before it starts."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from charrnn.errors import CharrnnError
from charrnn.nn.config import resolve_precision

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--batch-size", "8", "--seq-len", "16", "--layers", "2", "--units", "32", "--embedding", "16"]


def run(args, timeout=300, env=None):
    """A Python process run from the repository root (this checkout's charrnn, not an installed one)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_two_replicas_own_their_lanes_and_step_as_one_device(tiny_corpus, tmp_path):
    done = run(["tests/two_devices.py", str(tiny_corpus), str(tmp_path / "run")])
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("ok lanes") == 2 and "ok steps" in done.stdout, done.stdout


def test_mirrored_run_trains_and_resumes(tiny_corpus, tmp_path):
    done = run(["tests/two_devices.py", str(tiny_corpus), str(tmp_path / "run"), "train"])
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ok train" in done.stdout


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multiworker_run_on_two_local_workers(tiny_corpus, tmp_path):
    """The same command in two processes, one TF_CONFIG each; the chief (worker 0) writes the run."""
    out = tmp_path / "run"
    workers = [f"127.0.0.1:{p}" for p in free_ports(2)]
    cmd = [sys.executable, "-m", "charrnn", "train", "--data", str(tiny_corpus), "--out", str(out),
           "--epochs", "1", "--distribute", "multiworker", *TINY]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={
        **os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})})
        for i in range(2)]
    try:
        logs = [p.communicate(timeout=240)[0] for p in procs]  # a worker alone waits for ever
    finally:
        for p in procs:
            p.kill()
    assert [p.returncode for p in procs] == [0, 0], logs[0][-2000:] + logs[1][-2000:]
    rows = (out / "log.csv").read_text().splitlines()
    assert len(rows) == 2 and (out / "last.weights.h5").exists()
    saved = json.loads((out / "train_args.json").read_text())
    assert saved["distribute"] == "multiworker" and saved["replicas"] == 2
    assert "done:" in logs[0] and "done:" in logs[1]


def test_multiworker_without_tf_config_is_one_line_error(monkeypatch):
    from charrnn.nn.distribute import make_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(CharrnnError, match="needs TF_CONFIG"):
        make_strategy("multiworker")
    with pytest.raises(CharrnnError, match="distribute must be one of"):
        make_strategy("tpu")


def test_auto_precision_on_gpus():
    assert resolve_precision("auto", has_gpu=True, capability=(8, 0)) == "mixed_float16"  # tensor cores
    assert resolve_precision("auto", has_gpu=True, capability=(7, 0)) == "mixed_float16"
    assert resolve_precision("auto", has_gpu=True, capability=(6, 1)) == "float32"  # Pascal: slow float16
    assert resolve_precision("auto", has_gpu=True) == "float32"  # capability unknown
    assert resolve_precision("mixed_float16", has_gpu=False) == "mixed_float16"
