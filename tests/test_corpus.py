"""Corpus building: tune splitting edge cases, normalisation, de-duplication, split, vocabulary."""
import csv

import pytest

import charrnn
from charrnn.abc.text import read_abc_text, split_tunes
from charrnn.corpus import collect_tunes, normalise_tune
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
    from charrnn.corpus import DEFAULT_COLLECTIONS, music21_collection_dir

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
