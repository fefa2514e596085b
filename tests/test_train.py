"""Training: run folder contents, resume after a kill, and clear errors for bad input."""
import csv
import json
import subprocess
import sys

import pytest

import charrnn
from charrnn.cli import main
from charrnn.errors import CharrnnError

TINY = ["--batch-size", "8", "--seq-len", "32", "--layers", "2", "--units", "32", "--embedding", "16"]


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def read_log(run):
    with open(run / "log.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_run_folder_has_model_trio_checkpoints_log_and_plot(tiny_run):
    config = charrnn.ModelConfig.load(tiny_run / "config.json")
    assert (config.layers, config.units, config.embedding, config.cell) == (2, 32, 16, "lstm")
    assert len(charrnn.Vocabulary.load(tiny_run / "char_to_idx.json")) == config.vocab_size
    for name in ("best.weights.h5", "last.weights.h5", "log.csv", "history.png", "train_args.json"):
        assert (tiny_run / name).stat().st_size > 0, name
    rows = read_log(tiny_run)
    assert [r["epoch"] for r in rows] == ["0", "1"]
    for r in rows:  # bits per character is the loss in bits
        assert float(r["bits_per_char"]) == pytest.approx(float(r["loss"]) / 0.693147, rel=1e-3)
        assert float(r["val_bits_per_char"]) > 0 and 0 <= float(r["val_accuracy"]) <= 1
        assert float(r["seconds"]) > 0
    assert not list(tiny_run.glob("**/*.tmp*"))  # atomic writes leave no temp files


def test_checkpoint_every_k_epochs_kept_as_own_files(tmp_path, tiny_corpus):
    run = tmp_path / "run"
    assert main(["train", "--data", str(tiny_corpus), "--out", str(run), "--epochs", "4",
                 "--save-every", "2", "--cell", "gru", *TINY]) == 0
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["epoch_002.weights.h5",
                                                                      "epoch_004.weights.h5"]
    best = json.loads((run / "best.json").read_text())
    rows = read_log(run)
    assert best["value"] == pytest.approx(min(float(r["val_loss"]) for r in rows))
    assert charrnn.ModelConfig.load(run / "config.json").cell == "gru"


def test_bfloat16_training_saves_float32_weights_that_generate(tmp_path, tiny_corpus):
    run = tmp_path / "run"
    assert main(["train", "--data", str(tiny_corpus), "--out", str(run), "--epochs", "2",
                 "--precision", "mixed_bfloat16", *TINY]) == 0
    assert json.loads((run / "train_args.json").read_text())["precision"] == "mixed_bfloat16"
    rows = read_log(run)
    assert float(rows[1]["loss"]) < float(rows[0]["loss"])  # it learns
    model = charrnn.load(run)
    assert all(w.dtype == "float32" for w in model.keras_generator().weights)
    assert len(model.generate(n=2, max_chars=80, random_seed=0)) == 2


def test_init_from_starts_where_another_run_ended(tmp_path, tiny_corpus, tiny_run):
    tuned = tmp_path / "tuned"
    # Longer sequences and more dropout than tiny_run: a second stage, not a resume.
    assert main(["train", "--data", str(tiny_corpus), "--out", str(tuned), "--epochs", "1",
                 "--init-from", str(tiny_run), "--seq-len", "64", "--dropout", "0.3",
                 *TINY[:2], *TINY[4:]]) == 0
    first_fresh = float(read_log(tiny_run)[0]["loss"])
    last_start = float(read_log(tiny_run)[-1]["loss"])
    assert float(read_log(tuned)[0]["loss"]) < (first_fresh + last_start) / 2
    assert json.loads((tuned / "train_args.json").read_text())["init_from"] == str(tiny_run)
    # Fine-tuning on other tunes: the data is encoded with the model's vocabulary, and a
    # character the model never saw is named in the error.
    jigs = [f"X:1\nT:Jig {name}\nM:6/8\nL:1/8\nK:D\n" + "|:dfa afd|gfe dcB:|\n" * 40 for name in "abcdefghiklm"]
    mine = tmp_path / "mine"
    charrnn.build_corpus([str(write(tmp_path / "jig.abc", "\n".join(jigs)))], out=mine)
    assert charrnn.Vocabulary.load(mine / "char_to_idx.json") != charrnn.Vocabulary.load(tiny_run / "char_to_idx.json")
    charrnn.train(data=mine, out=tmp_path / "mine_run", epochs=1, units=32, layers=2, embedding=16,
                  batch_size=8, seq_len=32, init_from=tiny_run, verbose=False)
    assert (charrnn.Vocabulary.load(tmp_path / "mine_run" / "char_to_idx.json")
            == charrnn.Vocabulary.load(tiny_run / "char_to_idx.json"))
    odd = tmp_path / "odd"
    charrnn.build_corpus([str(write(tmp_path / "odd.abc", "\n".join(j.replace("Jig", "Jig \u2603") for j in jigs)))],
                         out=odd)
    with pytest.raises(CharrnnError, match="\u2603"):
        charrnn.train(data=odd, out=tmp_path / "odd_run", epochs=1, units=32, layers=2, embedding=16,
                      batch_size=8, seq_len=32, init_from=tiny_run, verbose=False)
    with pytest.raises(CharrnnError, match="cannot start from this model"):
        charrnn.train(data=tiny_corpus, out=tmp_path / "other", epochs=1, units=16, layers=2, embedding=16,
                      batch_size=8, seq_len=32, init_from=tiny_run, verbose=False)


def test_killed_run_resumes_from_last_completed_epoch(tmp_path, tiny_corpus, kill_after_epochs):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "charrnn", "train", "--data", str(tiny_corpus), "--out", str(run),
           "--epochs", "6", *TINY]
    done = kill_after_epochs(cmd, run, epochs=2, timeout=120)
    assert 2 <= done < 6, "the run finished before it could be killed; make it longer"
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    epochs = [int(r["epoch"]) for r in read_log(run)]
    # Same command again: no epoch lost or repeated.
    assert epochs == list(range(6))


def test_config_mismatch_with_existing_run_is_refused(tiny_run, tiny_corpus):
    with pytest.raises(CharrnnError, match="another config"):
        charrnn.train(data=tiny_corpus, out=tiny_run, epochs=1, batch_size=8, seq_len=32,
                      layers=2, units=64, embedding=16, verbose=False)


def test_bad_input_exits_2_with_one_line(tmp_path, capsys, tiny_run):
    (tmp_path / "empty").mkdir()
    assert main(["train", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "r")]) == 2
    (tmp_path / "notunes").mkdir()
    (tmp_path / "notunes" / "train.abc").write_text("just some text\n")
    assert main(["train", "--data", str(tmp_path / "notunes"), "--out", str(tmp_path / "r")]) == 2
    assert main(["data", "build", str(tmp_path / "empty"), "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("charrnn: error: ") for line in err)
    assert "train.abc" in err[0] and "no ABC tunes" in err[1] and "no .abc files" in err[2]


def test_data_build_cli(tmp_path, oneills_file, capsys):
    assert main(["data", "build", str(oneills_file), "--out", str(tmp_path / "c")]) == 0
    assert "tunes" in capsys.readouterr().out
    assert {p.name for p in (tmp_path / "c").iterdir()} == {
        "train.abc", "valid.abc", "provenance.csv", "char_to_idx.json", "train.ids.npy", "valid.ids.npy", "ids.json"}


def test_time_limit_must_be_positive_minutes(tmp_path, tiny_corpus):
    for bad in (0, -5, "10", float("nan")):
        with pytest.raises(CharrnnError, match="time_limit"):
            charrnn.train(data=tiny_corpus, out=tmp_path / "r", time_limit=bad, verbose=False)


def test_fit_traces_its_step_once(tmp_path, tiny_corpus, monkeypatch):
    """compile_model creates Adam's slots and the metrics' totals (build_training_state), so fit
    traces its training step once; Keras left alone creates them in a first trace and traces again."""
    import keras

    traces, step = [], keras.Model.train_step
    monkeypatch.setattr(keras.Model, "train_step", lambda self, data: traces.append(1) or step(self, data))
    charrnn.train(data=tiny_corpus, out=tmp_path / "run", epochs=2, batch_size=8, seq_len=32, layers=1,
                  units=16, embedding=8, verbose=False)
    assert len(read_log(tmp_path / "run")) == 2
    assert len(traces) == 1
