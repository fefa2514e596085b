"""Every reader of bars agrees with the one bar-line lexer (charrnn.abc.bars) on the 424 held-out
tunes: the form sampler's bar starts and where steering stops sampling a run of bars."""
from pathlib import Path

import pytest

from charrnn.abc.bars import NOTE_START, bar_lines, bar_spans, follows_bar_line, mask
from charrnn.abc.header import body_start, split_header
from charrnn.abc.text import read_abc_text, split_tunes
from charrnn.form.bars import bar_starts
from charrnn.steering import bar_verdict

HELD_OUT = Path(__file__).resolve().parents[1] / "data" / "abc" / "valid.abc"


@pytest.fixture(scope="module")
def tunes():
    tunes = split_tunes(read_abc_text(HELD_OUT))
    assert len(tunes) == 424
    return tunes


def test_form_bar_starts_are_the_lexer_s_bars(tunes):
    """Each bar after a bar line that opens with a note (not a chord `[CE]`, a decoration letter
    such as T or H, or an ending number) holds exactly one of the form sampler's bar starts."""
    checked = 0
    for abc in tunes:
        starts, body = [i for i, _, _ in bar_starts(abc)], body_start(abc)
        for s, e in bar_spans(abc):
            if follows_bar_line(abc, body, s) and abc[s] in NOTE_START:
                assert len([i for i in starts if s <= i < e]) == 1, abc[s:e]
                checked += 1
    assert checked > 6000


def test_steering_stops_where_the_lexer_s_bars_end(tunes):
    """Sampling k bars for vary/fill stops at the bar line that ends the k-th bar. Sampled text is
    read without looking ahead, so a `:` starts a bar line there; tunes with a `:` that is no bar
    line (a stray `:]`) are left out."""
    checked = 0
    for abc in tunes:
        body = split_header(abc)[1]
        in_bar_lines = {i for start, end, _ in bar_lines(body) for i in range(start, end)}
        if any(ch == ":" and i not in in_bar_lines for i, ch in enumerate(mask(body))):
            continue
        checked += 1
        spans = bar_spans("K:C\n" + body)
        for k in {1, 4, len(spans)} - {0}:
            stop = next((i for i, ch in enumerate(body) if bar_verdict(body[:i], ch, k) == 1), len(body))
            end = spans[k - 1][1] - len("K:C\n")
            assert stop >= end and not body[end:stop].replace("\\\n", "").strip(), (abc, k)  # spaces, a line continuation
    assert checked >= 415
