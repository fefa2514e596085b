"""`charrnn generate`: files per tune, a tunebook, a one-line summary per tune, clear errors."""
import charrnn
from charrnn.cli import main


def test_generate_writes_abc_midi_tunebook_and_summary(tmp_path, tiny_run, capsys):
    out = tmp_path / "samples"
    code = main(["generate", "-n", "3", "--temperature", "0.9", "--seed", r"X:1\nM:6/8\n",
                 "--random-seed", "7", "--model", str(tiny_run), "--out", str(out), "--max-chars", "400"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and all("M:6/8" in line and "bars" in line for line in lines[:3])
    abc_files = sorted(out.glob("tune_*.abc"))
    assert len(abc_files) == 3
    tunes = [charrnn.Tune(p.read_text()) for p in abc_files]
    assert all(t.abc.startswith("X:1\nM:6/8\n") for t in tunes)
    # The same random seed through the Python API gives the same tunes.
    again = charrnn.generate(seed="X:1\nM:6/8\n", n=3, temperature=0.9, random_seed=7,
                             max_chars=400, model=tiny_run)
    assert [t.abc for t in again] == [t.abc for t in tunes]
    book = (out / "tunebook.abc").read_text()
    assert [line for line in book.split("\n") if line.startswith("X:")] == ["X:1", "X:2", "X:3"]
    for p, t in zip(abc_files, tunes):  # MIDI for tunes music21 reads, short ones too; valid ones all have it
        assert t.parses or not p.with_suffix(".mid").exists()
        assert p.with_suffix(".mid").exists() or not t.is_valid


def test_a_second_run_into_the_same_folder_keeps_the_first(tmp_path, tiny_run):
    out = tmp_path / "samples"
    args = ["generate", "-n", "2", "--model", str(tiny_run), "--out", str(out), "--max-chars", "300"]
    assert main(args + ["--random-seed", "1"]) == 0
    first = {p.name: p.read_text() for p in out.glob("tune_*.abc")}
    assert main(args + ["--random-seed", "2"]) == 0
    assert sorted(p.name for p in out.glob("tune_*.abc")) == [f"tune_00{i}.abc" for i in range(1, 5)]
    assert all((out / name).read_text() == text for name, text in first.items())  # untouched
    book = (out / "tunebook.abc").read_text()
    assert [line for line in book.split("\n") if line.startswith("X:")] == ["X:1", "X:2", "X:3", "X:4"]


def test_valid_only_reports_attempts(tmp_path, tiny_run, capsys):
    code = main(["generate", "-n", "2", "--valid-only", "--max-attempts", "6", "--random-seed", "1",
                 "--model", str(tiny_run), "--out", str(tmp_path / "v"), "--max-chars", "300"])
    first = capsys.readouterr().out.splitlines()[0]
    assert "valid tunes from" in first and "(cap 6)" in first
    written = sorted((tmp_path / "v").glob("tune_*.abc"))
    assert all(charrnn.Tune(p.read_text()).is_valid for p in written)
    assert code == (0 if len(written) == 2 else 1)


def test_generate_errors_are_one_line_exit_2(tmp_path, tiny_run, capsys):
    assert main(["generate", "--model", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert main(["generate", "--model", str(tiny_run), "--temperature", "0", "--out", str(tmp_path / "o")]) == 2
    assert main(["generate", "--model", str(tiny_run), "--seed", "X:\u2603", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(e.startswith("charrnn: error: ") for e in err)
    assert "not found" in err[0] and "temperature" in err[1] and "\u2603" in err[2]


def test_export_writes_a_loadable_smaller_copy(tmp_path, tiny_run):
    assert main(["export", str(tiny_run), "--out", str(tmp_path / "w")]) == 0
    exported = tmp_path / "w"
    assert {"config.json", "char_to_idx.json", "best.weights.h5", "log.csv", "history.png", "start.abc"} <= {
        p.name for p in exported.iterdir()}
    # Weights only: smaller than the run's checkpoint, which also holds Adam's two moments.
    assert (exported / "best.weights.h5").stat().st_size < (tiny_run / "best.weights.h5").stat().st_size / 2
    a = charrnn.generate(n=2, random_seed=5, max_chars=200, model=tiny_run)
    b = charrnn.generate(n=2, random_seed=5, max_chars=200, model=exported)
    assert [t.abc for t in a] == [t.abc for t in b]
