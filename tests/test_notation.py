"""Notation errors, on tunes whose answers are known, and the sampler that writes such a bar again."""
import json

import numpy as np
import pytest

from charrnn.form.bars import bar_starts
from charrnn.abc.notation import notation_errors
from charrnn.form.config import FormConfig
from charrnn.form.sampler import lane_hook
from charrnn.nn.sampling import sample_tunes
from charrnn.nn.vocab import Vocabulary

HEADER = "X:1\nT:t\nM:4/4\nL:1/8\nK:G\n"


@pytest.mark.parametrize("body", [
    "|:GABc dBAG|1 GABc d2B2:|2 GABc d4|]",        # first and second endings
    "GABc dBAG [1 GABc d2B2:|[2 GABc d4||",        # [1 with no bar line before it, [2 after :|
    "GABc dBAG|1 GABc d2B2:|\\\n2 GABc d4|]",      # the second ending after a line continuation
    "|:GABc dBAG:|\n|:^^F2 __B2 =c4:|",            # repeats opened and closed; double sharps and flats
    '"^A|:"GABc !x|2! dBAG||',                     # quoted text and decorations hold no bar lines
])
def test_well_written_tunes_have_no_notation_errors(body):
    assert notation_errors(HEADER + body) == []


@pytest.mark.parametrize("body, at, what", [
    ("GABc dBAG:|2 GABc d4|]", "2 GABc", "a second ending with no first ending before it"),
    ("GABc|1 dBAG:|2 GABc|2 d4|]", "2 d4", "a second ending with no first ending before it"),
    ("GABc|1 dBAG|1 GABc:|", "1 GABc", "a first ending while one is open"),
    ("d|:GABc dBAG|GABc d4||", "||", "a repeat opened with |: and closed with ||"),
    ("GABc d^=cBA|]", "^=c", "stacked accidentals"),
])
def test_each_notation_error_is_found_where_it_is(body, at, what):
    abc = HEADER + body
    assert notation_errors(abc) == [(abc.index(at), what)]


def _errors_between_bars(abc):
    """Notation errors from the first bar start to the last one: bars the sampler has checked.
    (Before the first there is no bar to write again; random text is cut at max_chars, where the
    last bar is unchecked.)"""
    starts = [i for i, _, _ in bar_starts(abc)]
    return len(starts) > 1 and any(starts[0] <= i < starts[-1] for i, _ in notation_errors(abc))


class UniformNet:
    """Every character equally likely: random text, full of bar lines and ending numbers."""

    def __init__(self, vocab_size):
        self.v = vocab_size

    def initial_state(self, lanes):
        return [[np.zeros((lanes, 2), np.float32)]]

    def step(self, ids, state):
        return np.zeros((len(ids), self.v), np.float32)


def test_sampler_writes_a_bar_with_a_notation_error_again():
    vocab = Vocabulary.from_text(HEADER + "AB|:12 ^=\n")
    net, no_copies = UniformNet(len(vocab)), tuple(tuple(0.0 for _ in range(17)) for _ in range(12))
    broken = {}
    for tries in (0, 8):
        form = FormConfig(weights=no_copies, cadence_tries=0, notation_tries=tries)
        tunes = sample_tunes(net, vocab, HEADER, 100, np.random.default_rng(0), hook=lane_hook(form, vocab), max_chars=400,
                             start=None)
        broken[tries] = sum(bool(_errors_between_bars(t)) for t in tunes)
    assert broken[0] >= 40 and broken[8] <= 3, broken


class BigramNet:
    """The next character depends on the last one only (`table`: last -> the characters that
    may follow, equally likely)."""

    def __init__(self, vocab, table):
        self.logits = np.full((len(vocab), len(vocab)), -30.0, np.float32)
        for last, nexts in table.items():
            for c in nexts:
                self.logits[vocab.char_to_idx[last], vocab.char_to_idx[c]] = 0.0

    def initial_state(self, lanes):
        return [[np.zeros((lanes, 2), np.float32)]]

    def step(self, ids, state):
        return self.logits[ids]


def test_sampler_does_not_end_a_tune_before_eight_bars():
    """After a bar line, a bar `A` that goes on or a bar `B` that ends the tune, as likely:
    tunes of 1, 2, 3... bars, most of them short."""
    prime = "X:1\nK:C\nA|"
    vocab = Vocabulary.from_text(prime + "B\n")
    net = BigramNet(vocab, {"|": "AB", "A": "|", "B": "\n", "\n": "\n", **{c: c for c in "X:1KC"}})
    no_copies = tuple(tuple(0.0 for _ in range(17)) for _ in range(12))
    bars = {}
    for tries in (0, 8):
        form = FormConfig(weights=no_copies, cadence_tries=0, notation_tries=tries)
        tunes = sample_tunes(net, vocab, prime, 100, np.random.default_rng(0), hook=lane_hook(form, vocab), max_chars=400)
        assert all(t.endswith("B\n") for t in tunes)  # each ended as these tunes end
        bars[tries] = [len(bar_starts(t)) for t in tunes]
    assert sum(b >= 8 for b in bars[0]) <= 5 and sum(b >= 8 for b in bars[8]) >= 95, bars


def test_form_files_without_notation_tries_get_the_default(tmp_path):
    path = tmp_path / "form.json"
    FormConfig(weights=tuple(tuple(0.0 for _ in range(17)) for _ in range(12)), notation_tries=3).save(path)
    assert FormConfig.load(path).notation_tries == 3
    data = json.loads(path.read_text())
    del data["notation_tries"]  # a form.json written before the rule
    path.write_text(json.dumps(data))
    assert FormConfig.load(path).notation_tries == FormConfig().notation_tries > 0


@pytest.mark.parametrize("body, complete, at, what", [
    ("GABc d2-B2|]", False, "d2-", "a tie between different notes"),
    ("GABc dBA-|G4|]", False, "A-", "a tie between different notes"),
    ("GABc dBA-|z4|]", False, "A-", "a tie between different notes"),
    ("GABc dBAG-|]", True, "G-", "a tie to nothing at the end"),
    ("|:GABc dBAG|]\n", False, "|]", "a repeat opened with |: and closed with |]"),
    ("|:GABc dBAG|GABc d4\n", True, "\n", "a repeat left open at the end"),
    ("P:B\nGABc dBAG|]", False, "P:B", "part B is not in the header's P:"),
    ("GABc [dB|AG]|]", False, "[dB", "a chord left open"),
    ('GABc "Am dBAG|\nGABc|]', False, '"Am', "quoted text left open"),
    ('GABc dBAG|"Am', True, '"Am', "quoted text left open"),
])
def test_ties_parts_and_what_a_whole_tune_leaves_open(body, complete, at, what):
    abc = HEADER + body
    assert notation_errors(abc, complete) == [(abc.rindex(at), what)]


@pytest.mark.parametrize("body", [
    "GABc d2-d2|d-|d2 [CE]-[CE] z2|]",             # ties to the same note, across a bar line, chords
    "GABc dBAG-|",                                  # a tune so far: the tie may still be joined
    "|:GABc dBAG|GABc d4",                          # ... and the repeat closed
    'GABc "A|m',                                    # ... and the quote ("A|m" holds no bar line)
])
def test_what_a_tune_so_far_may_leave_open(body):
    assert notation_errors(HEADER + body) == []


def test_parts_the_header_names_are_no_error():
    assert notation_errors(HEADER.replace("K:G", "P:AB\nK:G") + "P:A\nG4|]\nP:B\nd4|]", complete=True) == []


@pytest.mark.parametrize("abc, at, what", [
    ("X:1\nT:t\nRHhornpipe\nM:2/4\nK:G\nGABc dBAG|]", "RH", "a header line that is not a field"),
    ("X:1\nT:t\nM:G|\nL:1/8\nK:G\nGABc dBAG|]", "M:G|", "a meter that is not one"),
    (HEADER + "GABc dBAG|[M:VD] GABc d4|]", "[M:VD]", "a meter that is not one"),
    (HEADER + "GABc dBAG|\nM:VD\nGABc d4|]", "M:VD", "a meter that is not one"),
    # Music run into the K: line: a reader loses those bars (the README's example once had one).
    ("X:1\nT:t\nM:C|\nK:A Mixolydving\"v\"0\"f2((3edc) d2(FA)|\nGABc dBAG|]", "K:A", "a key that is not one"),
    (HEADER + "GABc dBAG|[K:D\"x] GABc d4|]", "[K:D", "a key that is not one"),
    (HEADER + "GABc dBAG|\nK:|GA\nGABc d4|]", "K:|", "a key that is not one"),
])
def test_a_header_line_meter_or_key_music21_cannot_read(abc, at, what):
    """Of the critic's drafts that music21 could not read but that had no other notation error, a
    garbled header line or meter was the most common cause; no tune of data/abc has one."""
    assert notation_errors(abc) == [(abc.index(at), what)]


def test_meters_and_keys_that_read_are_no_error_and_a_whole_tune_needs_a_key():
    assert notation_errors(HEADER + "GABc dBAG|\nM:6/8\nGAB cBA|[M:C|] GABc d4|]") == []  # meter changes that read
    for key in ("A Mixolydian", "Dmix=c", "Hp", "none", "E Minor", "Bb", "F#m", "G clef=treble", ""):  # keys that read
        assert notation_errors(HEADER.replace("K:G", f"K:{key}") + "GABc dBAG|[K:Ador] GABc d4|]") == [], key
    no_key = "X:1\nT:t\na:6 CLEY\nGABc dBAG|GABc d4|]"
    assert notation_errors(no_key) == [] and notation_errors(no_key, complete=True) == [(0, "a tune with no K: line")]
