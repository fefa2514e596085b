"""Tune: parses (music21 reads it) vs is_valid (the quality bench's test: >= 8 bars and MIDI)."""
from charrnn.tune import Tune

HEADER = "X:1\nT:Parts\nM:2/4\nL:1/4\nK:C\n"
EIGHT_BARS = "C D | E F | G A | B c | c B | A G | F E | D C |]"


def test_is_valid_is_the_quality_benchs_test():
    assert Tune(HEADER + EIGHT_BARS).is_valid
    short = Tune(HEADER + "C D | E F | G A |]")
    assert short.parses and not short.is_valid  # fewer than 8 bars
    unclosed = Tune(HEADER + "C D | E F :|\nF |: " + EIGHT_BARS)
    assert unclosed.parses and not unclosed.is_valid  # music21 will not play its repeats
    assert not Tune(HEADER).parses and not Tune(HEADER).is_valid  # no notes at all


def test_text_holding_two_tunes_is_not_one_valid_tune():
    two = Tune(HEADER + EIGHT_BARS + "\nX:2\nT:Second\nK:C\n" + EIGHT_BARS)
    assert not two.parses and not two.is_valid and two.bars == 0
