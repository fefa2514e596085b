"""Fault suite for training: kills at random points (checkpoint writes included), resume, extend,
re-run of a finished command, small and missing validation sets."""
import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

import charrnn
from charrnn.cli import main
from charrnn.errors import CharrnnError
from charrnn.generator import CharModel
from charrnn.nn.runstate import read_log

# Tiny and deterministic: no dropout (its random stream is not part of the saved state), a seed
# for the initial weights, float32 so every machine computes the same.
FAST = dict(batch_size=16, seq_len=32, layers=1, units=16, embedding=8, dropout=0.0, precision="float32",
            random_seed=3, save_every=2, verbose=False)
EPOCHS = 4


class Killed(BaseException):
    """What a kill leaves: the process stops between two file operations (not an Exception, so
    nothing in charrnn or Keras can catch it)."""


def weights(path):
    """Every array in a weights file (model and optimizer), by its name."""
    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return arrays


def assert_same_weights(a, b, atol=1e-5):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        np.testing.assert_allclose(wa[name], wb[name], atol=atol, rtol=1e-4, err_msg=name)


def assert_run_is_whole(run, epochs):
    assert [r["epoch"] for r in read_log(run / "log.csv")] == list(range(epochs))
    for path in run.rglob("*.weights.h5"):
        if ".tmp." not in path.name:  # a kill can leave a temporary file, never a bad checkpoint
            CharModel(run, weights_file=path)  # loads into the run's model


def snapshot(folder):
    return {p.relative_to(folder): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_corpus):
    """An uninterrupted run of EPOCHS epochs."""
    out = tmp_path_factory.mktemp("reference")
    charrnn.train(data=tiny_corpus, out=out, epochs=EPOCHS, **FAST)
    return out


def test_extend_a_finished_run_continues_it(tmp_path, tiny_corpus, reference):
    run = tmp_path / "run"
    charrnn.train(data=tiny_corpus, out=run, epochs=2, **FAST)
    charrnn.train(data=tiny_corpus, out=run, epochs=EPOCHS, **FAST)  # more epochs: continue
    assert_run_is_whole(run, EPOCHS)
    # Weights, Adam's state and the learning-rate schedule carried over: the same as one run.
    assert_same_weights(run / "last.weights.h5", reference / "last.weights.h5")
    log, ref = read_log(run / "log.csv"), read_log(reference / "log.csv")
    assert [r["learning_rate"] for r in log] == pytest.approx([r["learning_rate"] for r in ref])
    assert [r["val_loss"] for r in log] == pytest.approx([r["val_loss"] for r in ref], rel=1e-4)


def test_rerun_of_a_finished_command_changes_nothing(tmp_path, tiny_corpus, reference, capsys):
    before = snapshot(reference)
    args = ["train", "--data", str(tiny_corpus), "--out", str(reference), "--epochs", str(EPOCHS),
            "--batch-size", "16", "--seq-len", "32", "--layers", "1", "--units", "16", "--embedding", "8",
            "--dropout", "0", "--precision", "float32", "--random-seed", "3", "--save-every", "2"]
    assert main(args) == 0
    assert "complete" in capsys.readouterr().out
    assert main(args[:6] + ["2"] + args[7:]) == 0  # fewer epochs than it has: complete too
    assert snapshot(reference) == before


def test_resume_with_other_settings_is_refused(tiny_corpus, reference, capsys):
    before = snapshot(reference)
    with pytest.raises(CharrnnError, match="other settings"):
        charrnn.train(data=tiny_corpus, out=reference, epochs=EPOCHS + 1, **{**FAST, "batch_size": 8})
    assert snapshot(reference) == before


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_killed_at_random_file_operations_resumes_to_the_same_weights(tmp_path, tiny_corpus, reference,
                                                                    monkeypatch, seed):
    """Kill (in process) at random renames, i.e. in the middle of checkpoint, state and log
    writes, then run the same command until it completes."""
    run = tmp_path / "run"
    rng = random.Random(seed)
    real_replace = os.replace
    for _ in range(3):
        calls, kill_at = [0], rng.randrange(1, 40)

        def replace(src, dst, calls=calls, kill_at=kill_at):
            calls[0] += 1
            if calls[0] == kill_at:
                raise Killed(f"killed before {dst}")
            return real_replace(src, dst)

        monkeypatch.setattr(os, "replace", replace)
        try:
            charrnn.train(data=tiny_corpus, out=run, epochs=EPOCHS, **FAST)
        except Killed:
            pass
        monkeypatch.setattr(os, "replace", real_replace)
        for path in run.rglob("*.weights.h5"):
            if ".tmp." not in path.name:
                assert weights(path)  # every weights file in place loads
    charrnn.train(data=tiny_corpus, out=run, epochs=EPOCHS, **FAST)
    assert_run_is_whole(run, EPOCHS)
    assert_same_weights(run / "last.weights.h5", reference / "last.weights.h5")


KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    kill_at, calls, real_replace = int(sys.argv[1]), [0], os.replace
    def replace(src, dst):
        calls[0] += 1
        if calls[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # a real kill with a weights file half-renamed
        return real_replace(src, dst)
    os.replace = replace
    from charrnn.cli import main
    sys.exit(main(sys.argv[2:]))
""")


def test_sigkill_during_checkpoint_writes_and_at_random_times(tmp_path, tiny_corpus, reference):
    run = tmp_path / "run"
    cmd = ["train", "--data", str(tiny_corpus), "--out", str(run), "--epochs", str(EPOCHS),
           "--batch-size", "16", "--seq-len", "32", "--layers", "1", "--units", "16", "--embedding", "8",
           "--dropout", "0", "--precision", "float32", "--random-seed", "3", "--save-every", "2"]
    script = tmp_path / "kill.py"
    script.write_text(KILL_SCRIPT)
    rng = random.Random(17)
    env = {**os.environ, "PYTHONPATH": str(Path(charrnn.__file__).parent.parent)}  # this checkout's charrnn
    for kill_at in (rng.randrange(5, 12), rng.randrange(14, 25)):
        proc = subprocess.run([sys.executable, str(script), str(kill_at), *cmd], capture_output=True,
                              timeout=300, env=env)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    # and a kill at a random time, from outside
    proc = subprocess.Popen([sys.executable, "-m", "charrnn", *cmd], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    try:
        proc.wait(timeout=rng.uniform(8, 14))
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert main(cmd) == 0
    assert_run_is_whole(run, EPOCHS)
    assert_same_weights(run / "last.weights.h5", reference / "last.weights.h5")


def corpus_with_valid(tmp_path, tiny_corpus, valid_text):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "train.abc").write_text((tiny_corpus / "train.abc").read_text())
    (folder / "char_to_idx.json").write_text((tiny_corpus / "char_to_idx.json").read_text())
    if valid_text is not None:
        (folder / "valid.abc").write_text(valid_text)
    return folder


@pytest.mark.parametrize("valid", ["short", "empty", "missing"])
def test_small_or_missing_validation_set_trains(tmp_path, tiny_corpus, valid, capsys):
    text = {"short": (tiny_corpus / "valid.abc").read_text()[:300], "empty": "", "missing": None}[valid]
    data = corpus_with_valid(tmp_path, tiny_corpus, text)
    # Default 64 x 64 batches would need 4,097 characters of validation text.
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "run"), "--epochs", "2",
                 "--batch-size", "16", "--layers", "1", "--units", "16", "--embedding", "8"]) == 0
    rows = read_log(tmp_path / "run" / "log.csv")
    assert [r["epoch"] for r in rows] == [0, 1]
    if valid == "short":  # overlapping lanes of the short text
        assert all(r["val_loss"] > 0 for r in rows)
    else:
        assert "no validation" in capsys.readouterr().out
        assert all("val_loss" not in r for r in rows)
    assert (tmp_path / "run" / "history.png").is_file()


def test_too_small_corpus_is_one_line(tmp_path, capsys):
    tunes = "\n".join(f"X:1\nT:T{i}\nM:6/8\nK:D\n|:dfa afd|gfe dcB:|\n" for i in range(12))
    (tmp_path / "small.abc").write_text(tunes)
    assert main(["data", "build", str(tmp_path / "small.abc"), "--out", str(tmp_path / "c")]) == 0
    capsys.readouterr()
    assert main(["train", "--data", str(tmp_path / "c"), "--out", str(tmp_path / "r"), "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--batch-size" in err[0] and "train.abc" in err[0]
    assert main(["train", "--data", str(tmp_path / "c"), "--out", str(tmp_path / "r"), "--epochs", "1",
                 "--seq-len", "5000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "too few to train on" in err[0] and "--seq-len" in err[0]
    assert not (tmp_path / "r").exists()  # nothing written when refused
