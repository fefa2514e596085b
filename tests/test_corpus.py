"""Corpus building: tune splitting edge cases, normalisation, de-duplication, split, vocabulary."""
import csv

import pytest

import charrnn
from charrnn.abc.text import read_abc_text, split_tunes
from charrnn.corpus import collect_tunes, held_out_halves, start_tunes
from charrnn.sources import normalise_tune
from charrnn.errors import CharrnnError, UnknownCharactersError

JIG = "X:1\nT:The Jig\nM:6/8\nL:1/8\nK:D\nA|dfa agf|e2d cBA|]\n"
REEL = "X:2\nT:The Reel\nM:C|\nL:1/8\nK:G\nGABc dBGB|cAFA GABc|]\n"


def write(path, data):
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_tune_on_line_zero_and_single_tune_file_without_trailing_newline(tmp_path):
    f = write(tmp_path / "one.abc", JIG.rstrip("\n"))
    tunes = collect_tunes([str(f)])
    assert [t.title for t in tunes] == ["The Jig"]
    assert tunes[0].text == JIG  # normalised: one trailing newline


def test_comments_crlf_header_text_and_blank_lines_between(tmp_path):
    text = ("% a file header comment\nSome book title\n\n" + JIG.replace("K:D\n", "K:D % key\n%% directive\n")
            + "\n\n\nfree text between tunes\n\n" + REEL)
    f = write(tmp_path / "book.abc", text.replace("\n", "\r\n"))
    tunes = collect_tunes([str(f)])
    assert [t.text for t in tunes] == [JIG, REEL.replace("X:2", "X:1")]
    assert [t.x for t in tunes] == ["1", "2"]
    assert all("%" not in t.text and "\r" not in t.text for t in tunes)


def test_latin1_bytes_are_read(tmp_path):
    f = write(tmp_path / "old.abc", JIG.replace("The Jig", "Caf\xe9 Jig").encode("latin-1"))
    assert collect_tunes([str(f)])[0].title == "Caf\u00e9 Jig"


def test_non_musical_header_fields_are_dropped_and_tunes_without_key_skipped():
    raw = "X:5\nT:A\nZ:Transcribed by someone@example.org\nN:note\nM:2/4\nK:G\nGABc|\n"
    assert normalise_tune(raw) == "X:1\nT:A\nM:2/4\nK:G\nGABc|\n"  # provenance keeps X:5
    assert normalise_tune("X:6\nT:No key\nGABc|\n") is None


def test_exact_duplicates_dropped_whitespace_ignored(tmp_path):
    dup = JIG.replace("X:1", "X:9").replace("dfa agf", "dfa  agf ")
    f = write(tmp_path / "dups.abc", JIG + "\n" + dup + "\n" + REEL)
    assert [t.x for t in collect_tunes([str(f)])] == ["1", "2"]


def test_empty_input_and_missing_sources_give_clear_errors(tmp_path):
    empty = write(tmp_path / "empty.abc", "")
    with pytest.raises(CharrnnError, match="no ABC tunes"):
        collect_tunes([str(empty)])
    with pytest.raises(CharrnnError, match="nowhere"):
        collect_tunes([str(tmp_path / "nowhere")])
    (tmp_path / "nofiles").mkdir()
    with pytest.raises(CharrnnError, match="no .abc files"):
        collect_tunes([str(tmp_path / "nofiles")])


def test_build_corpus_split_by_tune_with_provenance(tmp_path, oneills_file):
    summary = charrnn.build_corpus([str(oneills_file)], out=tmp_path / "c")
    corpus = charrnn.load_corpus(tmp_path / "c")
    assert summary["tunes"] == len(corpus.train_tunes) + len(corpus.valid_tunes)
    assert summary["valid_tunes"] == (summary["tunes"] + 9) // 10  # every 10th tune, from the first
    # Validation tunes are whole tunes that never appear in training.
    assert not set(corpus.valid_tunes) & set(corpus.train_tunes)
    with open(tmp_path / "c" / "provenance.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == summary["tunes"]
    assert rows[0]["split"] == "valid" and rows[1]["split"] == "train"
    assert rows[0]["collection"] == "oneills1850" and rows[0]["source_file"] == "0001-0050.abc"
    assert rows[0]["title"] == "The Enchanted Valley" and rows[0]["x"] == "1"
    # Deterministic: building again gives the same files.
    charrnn.build_corpus([str(oneills_file)], out=tmp_path / "d")
    assert (tmp_path / "c" / "valid.abc").read_bytes() == (tmp_path / "d" / "valid.abc").read_bytes()
    # One blank line between tunes.
    text = (tmp_path / "c" / "train.abc").read_text()
    assert "\n\n\n" not in text and text.count("\nX:") == len(corpus.train_tunes) - 1


def test_default_collections_are_music21_folders():
    from charrnn.sources import DEFAULT_COLLECTIONS, music21_collection_dir

    assert all(music21_collection_dir(name) for name in DEFAULT_COLLECTIONS)


def test_unknown_characters_are_named_not_keyerror():
    vocab = charrnn.Vocabulary.from_text("abc\n")
    assert vocab.decode(vocab.encode("cab")) == "cab"
    with pytest.raises(UnknownCharactersError, match="'z', '\u00e9'") as err:
        vocab.encode("abz\u00e9", where="seed")
    assert "seed" in str(err.value) and isinstance(err.value, ValueError)


def test_vocabulary_round_trips_through_json(tmp_path):
    vocab = charrnn.Vocabulary.from_text(JIG + "\u00e9")
    vocab.save(tmp_path / "char_to_idx.json")
    assert charrnn.Vocabulary.load(tmp_path / "char_to_idx.json") == vocab
    write(tmp_path / "bad.json", "{not json")
    with pytest.raises(CharrnnError, match="bad.json"):
        charrnn.Vocabulary.load(tmp_path / "bad.json")


def test_read_abc_text_unreadable_file(tmp_path):
    with pytest.raises(CharrnnError, match="cannot read"):
        read_abc_text(tmp_path / "missing.abc")
    assert split_tunes("") == []


# --- Streaming builds (charrnn.sources): pieces, workers, skip summary, atomic output, ids ---

CORPUS_FILES = ("train.abc", "valid.abc", "provenance.csv", "char_to_idx.json")


def test_pieces_and_workers_give_the_same_corpus(tmp_path, oneills_file, monkeypatch):
    import charrnn.sources

    charrnn.build_corpus([str(oneills_file)], out=tmp_path / "whole")
    monkeypatch.setattr(charrnn.sources, "PIECE_CHARS", 2000)  # many pieces, cut mid-file
    summary = charrnn.build_corpus([str(oneills_file)], out=tmp_path / "pieces", workers=2)
    for name in CORPUS_FILES + ("train.ids.npy", "valid.ids.npy"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "pieces" / name).read_bytes(), name
    assert summary["tunes"] == 50 and summary["skipped"] == []


def test_skip_summary_one_line_per_bad_file(tmp_path, capsys, monkeypatch):
    import shutil

    import charrnn.sources

    if shutil.which("midi2abc") is None:
        pytest.skip("midi2abc (Debian abcmidi) not installed")

    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    write(src / "good.abc", JIG + "\n" + REEL + "\n" + JIG.replace("X:1", "X:7") + "\nX:8\nT:No key\nabc|\n")
    write(src / "notes.abc", "just words, no tunes\n")
    write(src / "utf16.abc", JIG.encode("utf-16"))
    write(src / "sub" / "garbage.mid", b"not a midi file at all")
    write(src / "locked.abc", JIG)
    real = charrnn.sources.read_abc_pieces

    def unreadable(path, size):  # root reads any file: fake the OSError read_abc_pieces reports
        if path.name == "locked.abc":
            raise CharrnnError(f"{path}: cannot read file (Permission denied)")
        return real(path, size)

    monkeypatch.setattr(charrnn.sources, "read_abc_pieces", unreadable)
    summary = charrnn.build_corpus([str(src)], out=tmp_path / "c")
    err = capsys.readouterr().err.strip().splitlines()
    assert summary["tunes"] == 2 and err == summary["skipped"]
    assert err == [f"skipped {src / 'locked.abc'}: cannot read file (Permission denied)",
                   f"skipped {src / 'notes.abc'}: no tunes (a tune starts with an 'X:' line and needs a 'K:' line)",
                   f"skipped {src / 'sub' / 'garbage.mid'}: midi2abc cannot convert it: Error: expecting MThd",
                   f"skipped {src / 'utf16.abc'}: no tunes: not UTF-8 or Latin-1 text (NUL bytes: UTF-16 or binary data?)",
                   "dropped 2 tunes: 1 without a K: line or music, 1 duplicates"]
    assert "Traceback" not in "".join(err)


def test_files_a_build_does_not_read_are_named_in_one_line(tmp_path, capsys):
    src = tmp_path / "tunes"
    for folder in (src / "more", src / ".git"):
        folder.mkdir(parents=True)
    write(src / "good.abc", JIG + "\n" + REEL)
    write(src / "book.txt", JIG.replace("X:1", "X:2"))
    write(src / "more" / "cover.pdf", b"%PDF-1.4")
    write(src / ".git" / "config", "[core]\n")
    for _ in range(2):  # the corpus folder inside the source folder: neither named nor read again
        summary = charrnn.build_corpus([str(src)], out=src / "corpus")
        err = capsys.readouterr().err.strip().splitlines()
        assert summary["tunes"] == 2 and err == summary["skipped"]
        assert err == [f"skipped 2 files in {src}: not .abc or MIDI (book.txt, cover.pdf): "
                       "rename ABC text to .abc to read it"]
        assert "corpus" not in (src / "corpus" / "provenance.csv").read_text()


def test_no_tunes_at_all_is_one_error_and_writes_nothing(tmp_path):
    write(tmp_path / "notes.abc", "just words\n")
    with pytest.raises(CharrnnError, match="no ABC tunes found: 1 file skipped, the first .*notes.abc: no tunes"):
        charrnn.build_corpus([str(tmp_path / "notes.abc")], out=tmp_path / "c")
    assert not (tmp_path / "c").exists()


def test_interrupted_build_keeps_the_old_corpus(tmp_path, oneills_file, monkeypatch):
    import charrnn.corpus

    charrnn.build_corpus([str(write(tmp_path / "one.abc", JIG))], out=tmp_path / "c")
    before = {p.name: p.read_bytes() for p in (tmp_path / "c").iterdir()}
    real = charrnn.corpus.unique_tunes

    def interrupted(*args, **kwargs):
        for i, tune in enumerate(real(*args, **kwargs)):
            if i == 20:
                raise KeyboardInterrupt
            yield tune

    monkeypatch.setattr(charrnn.corpus, "unique_tunes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        charrnn.build_corpus([str(oneills_file)], out=tmp_path / "c")
    assert {p.name: p.read_bytes() for p in (tmp_path / "c").iterdir()} == before  # no temporary files either


def test_load_ids_memory_maps_the_built_ids(tmp_path, oneills_file):
    import numpy as np

    from charrnn.corpus import load_ids

    charrnn.build_corpus([str(oneills_file)], out=tmp_path / "c")
    corpus = charrnn.load_corpus(tmp_path / "c")
    train, valid = load_ids(tmp_path / "c", corpus.vocab)
    assert isinstance(train, np.memmap) and train.dtype == np.uint8
    assert corpus.vocab.decode(train) == corpus.train_text and corpus.vocab.decode(valid) == corpus.valid_text
    # Another vocabulary (a model's, with one more character): the text encoded with its ids.
    other = charrnn.Vocabulary.from_text(corpus.train_text + corpus.valid_text + "\u2603")
    train2, _ = load_ids(tmp_path / "c", other)
    assert not isinstance(train2, np.memmap) and other.decode(train2) == corpus.train_text
    # A train.abc edited after the build: its ids no longer match, so the text is encoded.
    (tmp_path / "c" / "train.abc").write_text(corpus.valid_text)
    train3, _ = load_ids(tmp_path / "c", corpus.vocab)
    assert corpus.vocab.decode(train3) == corpus.valid_text
    # Big vocabularies take two bytes an id.
    from charrnn.nn.ids import ids_dtype

    assert ids_dtype(256) == np.uint8 and ids_dtype(257) == np.uint16


def test_start_tunes_spread_evenly_skip_long_ones_and_keep_one_when_none_is_short():
    tunes = [f"X:1\nT:{i}\nK:D\n" + "abc|" * (50 if i % 3 == 0 else 5) for i in range(30)]
    picked = start_tunes(tunes, count=5, max_chars=100)
    short = [t for t in tunes if len(t) <= 100]
    assert picked == short[0::4]  # 20 short tunes, every 4th: evenly over the whole split
    assert start_tunes(tunes, count=50, max_chars=100) == short
    assert start_tunes(tunes, count=3, max_chars=5) == [min(tunes, key=len)]


def test_held_out_halves_alternate_so_each_half_spans_every_collection():
    # Held-out tunes follow their collections in order: a first and a second half would each hold
    # other collections, and a judge would tell the model's tunes from the second half by that alone.
    tunes = [f"oneills {i}" for i in range(6)] + [f"airds {i}" for i in range(5)]
    fit_on, judge_on = held_out_halves(tunes)
    assert fit_on == tunes[0::2] and judge_on == tunes[1::2]
    assert sorted(fit_on + judge_on) == sorted(tunes) and not set(fit_on) & set(judge_on)
    for half in (fit_on, judge_on):
        assert {t.split()[0] for t in half} == {"oneills", "airds"}
