"""music21's reading of one tune: the one call to its ABC parser, with implied repeat starts
written out (music21 alone would play `A :| B :|` as A A B A A B)."""
from ..abc.header import header_field
from ..abc.repeats import explicit_repeats
from ..errors import CharrnnError


def read_score(abc):
    """music21's Score of one tune; a CharrnnError naming the tune when music21 cannot read it,
    or reads the text as several tunes (an Opus)."""
    import music21

    try:
        score = music21.converter.parse(explicit_repeats(abc), format="abc")
    except Exception as e:  # music21 raises many types on malformed ABC; all mean "cannot read"
        why = " ".join(str(e).split()) or type(e).__name__  # one line: ABC errors quote the bad text
        raise CharrnnError(f"music21 cannot parse {title_of(abc)!r}: {why}") from None
    if not isinstance(score, music21.stream.Score):
        raise CharrnnError(f"expected one tune, got {len(score.scores)} (split the file first)")
    return score


def has_notes(score):
    """music21 found a part with notes in it (what Tune.parses means)."""
    return bool(score.parts and score.parts[0].flatten().notes)


def parse(abc):
    """read_score, and a CharrnnError when the tune has no notes."""
    score = read_score(abc)
    if not has_notes(score):
        raise CharrnnError(f"music21 finds no notes in {title_of(abc)!r}")
    return score


def title_of(abc):
    return header_field(abc, "T") or "untitled"
