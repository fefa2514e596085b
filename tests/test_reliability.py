"""Bad input for every subcommand (exit 2, one line naming the file or option, nothing written),
guitar-chord symbols, and a model's corpus found from any folder."""
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import charrnn
from charrnn.abc.text import read_abc_text, tunes_with_lines
from charrnn.cli import main
from charrnn.corpus import model_corpus
from charrnn.errors import CharrnnError
from charrnn.generator import default_weights_dir
from charrnn.music.perform import unreleased_notes
from charrnn.survey import score_files

BROKEN = "X:1\nT:Broken\nK:D\n|: [[[ \n"


def files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, tiny_run, tiny_corpus):
    """Input files the cases refer to: a file where a folder belongs, bad model folders, ..."""
    d = tmp_path_factory.mktemp("inputs")
    (d / "a_file").write_text("not a folder\n")
    (d / "broken.abc").write_text(BROKEN)
    for name, edit in (("units_text", ("config.json", lambda c: {**c, "units": "256"})),
                       ("vocab_list", ("char_to_idx.json", lambda v: sorted(v)))):
        shutil.copytree(tiny_run, d / name)
        path = d / name / edit[0]
        path.write_text(json.dumps(edit[1](json.loads(path.read_text()))))
    shutil.copytree(tiny_corpus, d / "corpus_vocab_list")
    (d / "corpus_vocab_list" / "char_to_idx.json").write_text('["a", "b"]')
    (d / "key.csv").write_text("clip,source\nclip_01,human\nclip_02,machine\n")
    (d / "resp.csv").write_text("listener,clip,answer\nann,clip_01,human\nann,clip_02,human\n")
    return d


def cases(d, run, corpus):
    f = str(d / "a_file")
    out = str(d / "new_out")
    return [
        (["data", "build", str(corpus / "train.abc"), "--out", f], "a_file: --out must be a folder"),
        (["data", "build", str(d / "missing.abc"), "--out", out], "missing.abc"),
        (["train", "--data", str(corpus), "--out", f], "a_file: --out must be a folder"),
        (["train", "--data", str(d / "missing"), "--out", out], "no train.abc"),
        (["train", "--data", str(corpus), "--out", out, "--dropout", "1.5"], "dropout"),
        (["train", "--data", str(corpus), "--out", f"{f}/run"], "a_file is a file"),
        (["train", "--data", str(corpus), "--out", out, "--learning-rate", "-0.001"], "learning_rate"),
        (["train", "--data", str(corpus), "--out", out, "--learning-rate", "inf"], "learning_rate"),
        (["train", "--data", str(corpus), "--out", out, "--seq-len", "100000"], "--seq-len"),
        (["train", "--data", str(corpus), "--out", out, "--random-seed", "-1"], "--random-seed"),
        (["train", "--data", str(d / "corpus_vocab_list"), "--out", out], "char_to_idx.json"),
        (["generate", "--model", str(run), "--out", f], "a_file: --out must be a folder"),
        (["generate", "--model", str(run), "--out", out, "--temperature", "inf"], "temperature"),
        (["generate", "--model", str(run), "--out", out, "--temperature", "nan"], "temperature"),
        (["generate", "--model", str(run), "--out", out, "--random-seed", "-1"], "--random-seed"),
        (["generate", "--model", str(d / "units_text"), "--out", out], "config.json"),
        (["generate", "--model", str(d / "vocab_list"), "--out", out], "char_to_idx.json"),
        (["generate", "--model", str(d / "missing"), "--out", out], "missing"),
        (["export", str(run), "--out", f], "a_file: --out must be a folder"),
        (["render", str(d / "broken.abc"), "--out", f], "a_file: --out must be a folder"),
        (["render", str(d / "broken.abc"), "--out", out], "broken.abc: none of its 1 tunes"),
        (["render", str(d / "missing.abc"), "--out", out], "missing.abc"),
        (["evaluate", "--model", str(run), "--data", str(corpus), "--out", f], "a_file: --out must be a folder"),
        (["evaluate", "--model", str(run), "--data", str(corpus), "--out", out, "-n", "0"], "-n"),
        (["survey", "make", "--model", str(run), "--data", str(corpus), "--out", f], "a_file: --out must be a folder"),
        (["survey", "make", "--model", str(run), "--data", str(corpus), "--out", out, "--seconds", "0"], "--seconds"),
        (["survey", "score", str(d / "key.csv"), str(d / "resp.csv"), "--out", f], "a_file: --out must be a folder"),
        (["survey", "score", str(d / "key.csv"), str(d / "missing.csv"), "--out", out], "missing.csv"),
    ]


def test_bad_input_table(inputs, tiny_run, tiny_corpus, capsys):
    for argv, expected in cases(inputs, tiny_run, tiny_corpus):
        argv = argv + ["--epochs", "1"] if argv[0] == "train" else argv  # should one ever run
        before, run_before = files(inputs), files(tiny_run)
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("charrnn: error: "), (argv, err)
        assert expected in err[0], (argv, err[0])
        assert files(inputs) == before and files(tiny_run) == run_before, argv  # nothing written
        assert not (inputs / "new_out").exists(), argv


def test_bad_input_table_as_a_user_runs_it(inputs, tiny_run, tiny_corpus):
    """The same cases as commands in a shell: one stderr line (no TensorFlow start-up lines before it)."""
    procs = []
    for argv, expected in cases(inputs, tiny_run, tiny_corpus):
        argv = argv + ["--epochs", "1"] if argv[0] == "train" else argv
        procs.append((argv, expected, subprocess.Popen([sys.executable, "-m", "charrnn", *argv], text=True,
                                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
        if len(procs) % 4 == 0:  # a few at a time: each starts Python and NumPy
            procs[-4][2].wait(timeout=120)
    for argv, expected, proc in procs:
        _, err = proc.communicate(timeout=120)
        lines = err.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and expected in lines[0], (argv, lines)


def test_duplicate_vocabulary_ids_name_the_file(tmp_path):
    from charrnn.nn.vocab import Vocabulary

    (tmp_path / "char_to_idx.json").write_text('{"a": 0, "b": 0}')
    with pytest.raises(CharrnnError, match="char_to_idx.json: not a valid char_to_idx.json"):
        Vocabulary.load(tmp_path / "char_to_idx.json")


def test_generate_api_names_the_bad_argument(tiny_run):
    model = charrnn.load(tiny_run)
    for options, name in (({"seed": 123}, "seed"), ({"n": "3"}, "n"), ({"temperature": "0.9"}, "temperature"),
                          ({"temperature": float("inf")}, "temperature"), ({"random_seed": -1}, "random_seed"),
                          ({"max_chars": 2.5}, "max_chars")):
        with pytest.raises(CharrnnError, match=f"^{name} must"):
            charrnn.generate(model=model, **options)


def test_survey_responses_saved_by_spreadsheets(inputs, tmp_path):
    text = "listener,clip,answer\nRenée,clip_01,human\nRenée,clip_02,machine\n"
    for encoding in ("latin-1", "utf-16", "utf-8-sig"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        score_files(inputs / "key.csv", [path], out=tmp_path / encoding)
        assert "answers" in (tmp_path / encoding / "results.json").read_text()


def test_unknown_characters_named_in_every_file_and_line(tmp_path, tiny_run):
    jigs = [f"X:1\nT:Jig \u2603 {name}\nM:6/8\nL:1/8\nK:D\n" + "|:dfa afd|gfe dcB:|\n" * 40 for name in "abcdefghiklm"]
    (tmp_path / "odd.abc").write_text("\n".join(jigs))
    charrnn.build_corpus([str(tmp_path / "odd.abc")], out=tmp_path / "odd")
    with pytest.raises(CharrnnError) as error:
        charrnn.train(data=tmp_path / "odd", out=tmp_path / "run", epochs=1, units=32, layers=2, embedding=16,
                      batch_size=8, seq_len=32, init_from=tiny_run, verbose=False)
    message = str(error.value)
    assert "'\u2603'" in message and "train.abc lines 2, 48" in message and "valid.abc lines 2, 48" in message
    assert not (tmp_path / "run").exists()


def test_binary_junk_is_not_a_tune(tmp_path, capsys):
    junk = bytes(range(256)) * 2
    (tmp_path / "junk.abc").write_bytes(b"X:1\nT:Real\nM:6/8\nK:D\n|:dfa afd|gfe dcB:|\n\nX:2\n" + junk
                                         + b"\nT:" + junk + b"\nK:D\nabc|def|\n")
    summary = charrnn.build_corpus([str(tmp_path / "junk.abc")], out=tmp_path / "c")
    assert summary["tunes"] == 1 and summary["vocab_size"] < 30
    assert "skipped tune X:2" in capsys.readouterr().err


def test_chord_symbols_render_fast_and_every_midi_note_ends(tmp_path, capsys):
    from music21 import corpus, midi

    text = read_abc_text(Path(corpus.__file__).parent / "nottingham-dataset" / "reelsa-c.abc")
    two = [abc for _, abc in tunes_with_lines(text)][:2]
    assert all('"D"' in t or '"G"' in t or '"A"' in t for t in two)  # they have chord symbols
    (tmp_path / "two.abc").write_text("\n\n".join(two))
    formats = ["--midi", "--wav"] if shutil.which("fluidsynth") else ["--midi"]
    started = time.perf_counter()
    assert main(["render", str(tmp_path / "two.abc"), *formats, "--out", str(tmp_path / "out")]) == 0
    assert time.perf_counter() - started < 60  # was 132 s a tune, then skipped
    mids = sorted((tmp_path / "out").glob("*.mid"))
    assert len(mids) == 2 and len(list((tmp_path / "out").glob("*.wav"))) == (2 if len(formats) == 2 else 0)
    for path in mids:
        mf = midi.MidiFile()
        mf.open(str(path))
        mf.read()
        mf.close()
        assert unreleased_notes(mf) == []
        assert len({e.channel for t in mf.tracks for e in t.events if e.isNoteOn()}) == 2  # the chords play


def test_shipped_model_corpus_found_from_any_folder(tmp_path, monkeypatch, tiny_run, tiny_corpus):
    monkeypatch.chdir(tmp_path)
    assert (model_corpus(default_weights_dir()) / "train.abc").is_file()
    assert model_corpus(tiny_run).resolve() == Path(tiny_corpus).resolve()
    with pytest.raises(CharrnnError, match="pass --data"):
        model_corpus(tmp_path)
    (tmp_path / "train_args.json").write_text('{"data": "no/such/corpus"}')
    with pytest.raises(CharrnnError, match=r"build it with `charrnn data build --out no/such/corpus`"):
        model_corpus(tmp_path)
