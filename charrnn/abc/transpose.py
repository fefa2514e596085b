"""A tune's pitches taken from another text of the same tune: transposition that keeps the tune's own writing.

abcMIDI's `abc2abc -t N` transposes ABC well (key signature, accidentals carried through a bar,
chord symbols), but it also rewrites what it does not need to: `A/` becomes `A/2`, rolls (`~`)
before a slur go, indentation is dropped. A corpus whose transposed copies were written that way
would teach the network two ways of writing, and the held-out tunes use only one. So the pitches
(accidentals, letter, octave marks), the chord symbols and the key of abc2abc's text are put into
the tune as it was written, token for token:

    splice_pitches(tune, abc2abc_output)   # the tune, its notes and K: from the transposed text

Nothing here runs a tool (charrnn.music.abc2abc does); a tune whose two texts do not pair up
token for token gives None.
"""
import re

PITCH = re.compile(r"[_=^]*[A-Ga-g][,']*")  # accidentals, letter, octave marks: what transposition changes
# Text in a tune body where letters are not notes: field lines and inline fields (K:, w: lyrics...),
# comments, decorations (!trill!), chord symbols and annotations (replaced as a whole, in their order).
_NOT_NOTES = re.compile(r'"[^"\n]*"|![^!\n]*!|\[[A-Za-z]:[^\]\n]*\]|%.*$|^[A-Za-z]:.*$', re.M)
_KEY_LINE = re.compile(r"^K:[ \t]*([A-Ga-g])([#b]?).*$", re.M)  # the whole line: the body starts after it
_INLINE_KEY = re.compile(r"\[K:")


def _tokens(tune, at):
    """(pitch spans, chord-symbol spans) of a tune's text from `at` on, in order: [(start, end), ...] each."""
    pitches, chords = [], []
    for m in _NOT_NOTES.finditer(tune, at):
        pitches += [p.span() for p in PITCH.finditer(tune, at, m.start())]
        if m.group().startswith('"'):
            chords.append(m.span())
        at = m.end()
    pitches += [p.span() for p in PITCH.finditer(tune, at)]
    return pitches, chords


def splice_pitches(tune, transposed):
    """`tune` with the pitches, chord symbols and key tonic of `transposed` (the same tune, another
    text of it: abc2abc's), everything else as `tune` writes it; None where the two do not pair up
    (other numbers of notes or chord symbols, no K: line, or a key change inside the tune)."""
    keys, new_keys = list(_KEY_LINE.finditer(tune)), list(_KEY_LINE.finditer(transposed))
    if len(keys) != 1 or len(new_keys) != 1 or _INLINE_KEY.search(tune) or _INLINE_KEY.search(transposed):
        return None
    (key,), (new_key,) = keys, new_keys
    pitches, chords = _tokens(tune, key.end())  # the body's: header fields keep their letters (T:, M: ...)
    new_pitches, new_chords = _tokens(transposed, new_key.end())
    if len(pitches) != len(new_pitches) or len(chords) != len(new_chords):
        return None
    edits = [(key.start(1), key.end(2), new_key.group(1).upper() + new_key.group(2))]  # K:D -> K:C, mode as written
    edits += [(a, b, transposed[c:d]) for (a, b), (c, d) in zip(pitches + chords, new_pitches + new_chords)]
    out, at = [], 0
    for start, end, text in sorted(edits):
        out += [tune[at:start], text]
        at = end
    return "".join(out) + tune[at:]

