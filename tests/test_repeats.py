"""Implied repeat starts: left out in the corpus, written out for music21, same music either way."""
import pytest

from charrnn.sources import normalise_tune
from charrnn.render import performance
from charrnn.abc.repeats import explicit_repeats, implicit_repeats

HEADER = "X:1\nT:Parts\nM:2/4\nL:1/4\nK:C\n"


def notes_played(body):
    """Note names in the order music21 plays the tune, repeats expanded."""
    return " ".join(n.name for n in performance(HEADER + body).flatten().notes)


@pytest.mark.parametrize("written, implied", [
    ("C D | E F :|\n|: G A | B c :|\n", "C D | E F :|\nG A | B c :|\n"),
    ("C D | E F :: G A | B c :|\n", "C D | E F :| G A | B c :|\n"),
    ("C D | E F :|: G A | B c :|\n", "C D | E F :| G A | B c :|\n"),
    ("|: C D | E F :|\n", "C D | E F :|\n"),
    ("C D | E F || |: G A | B c :|\n", "C D | E F || G A | B c :|\n"),
])
def test_corpus_leaves_implied_starts_out(written, implied):
    assert implicit_repeats(HEADER + written) == HEADER + implied


@pytest.mark.parametrize("body", [
    "C D | E F :|\nF |: G A | B c :|\n",       # after a pickup the |: says where the repeat starts
    '"A|:" C D | E F :| !x|:! G A | B c :|\n',  # quoted text and decorations are not bar lines
    "C D | E F :| [M:3/4] G A B | c d e :|\n",  # inline fields are not either
])
def test_starts_that_carry_meaning_stay(body):
    assert implicit_repeats(HEADER + body) == HEADER + body


def test_music21_plays_implied_starts_by_the_rule():
    # Without the written-out start music21 plays A A B A A B; the notation's rule is A A B B.
    assert notes_played("C D | E F :| G A | B c :|") == "C D E F C D E F G A B C G A B C"
    assert notes_played("C D | E F || G A | B c :|") == "C D E F G A B C G A B C"
    assert notes_played("C D | E F :|: G A | B c :|") == "C D E F C D E F G A B C G A B C"


def test_first_and_second_endings_are_left_whole():
    body = "|: C D |1 E F :|2 F E || G A | B c :|"
    assert explicit_repeats(HEADER + body) == HEADER + "|: C D |1 E F :|2 F E || |: G A | B c :|"
    assert notes_played(body) == "C D E F C D F E G A B C G A B C"


@pytest.mark.parametrize("body", [
    "C D | E F :|\n|: G A | B c :|\n|: d e | f g :|",
    "C D | E F :: G A | B c :|",
    "|: C D |1 E F :|2 F E |] |: G A | B c :|",
])
def test_leaving_starts_out_changes_no_note_played(body):
    assert notes_played(implicit_repeats(HEADER + body)[len(HEADER):]) == notes_played(body)


def test_unclosed_repeat_is_still_refused():
    # A part opened with |: after a pickup and never closed stays what music21 calls badly formed.
    with pytest.raises(Exception, match="cannot perform"):
        performance(HEADER + "C D | E F :|\nF |: G A | B c |]")


def test_normalised_tune_has_no_start_right_after_an_end():
    tune = normalise_tune("X:7\nT:Reel\nM:2/4\nL:1/4\nK:C\n|: C D | E F :|\n|: G A | B c :|\n")
    assert tune == "X:1\nT:Reel\nM:2/4\nL:1/4\nK:C\nC D | E F :|\nG A | B c :|\n"
