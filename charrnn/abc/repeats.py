"""Repeat starts in ABC: the ones the notation implies, left out (corpus) or written out (music21).

    implicit_repeats("|: AB cd :|\\n|: ef ga :|")   ->  "AB cd :|\\nef ga :|"
    explicit_repeats("AB cd :|\\nef ga :|")         ->  "AB cd :| |:\\nef ga :|"

By the notation's rule, a part that ends with `:|` and has no `|:` repeats from the previous
repeat end or double bar line (`:|`, `::`, `||`, `|]`, `[|`), or from the start of the tune.
Half the tunes in our collections write B parts that way (`A :| B :|`) and half write the `|:`
out (`A :|\\n|: B :|`, `A :: B :|`).

- The corpus leaves implied starts out (`implicit_repeats`): then a `|:` is rare, and a part
  that ends with `:|` or with `|]` is right either way. With them written, the model must
  remember across a whole part whether it opened one; it does not (`bench/repeat_memory.py`),
  and `|: B |]`, an unclosed repeat that music21 refuses to play, was most invalid samples.
- music21 does not follow the rule: it repeats `A :| B :|` from the top (A A B A A B) and reads
  `:|:` as an end only. `explicit_repeats` writes each implied start out before music21 reads a
  tune, so human and generated tunes alike play A A B B.

Both read bar lines outside quoted text and `!decorations!`, and leave a start alone when a
pickup or an ending number (`:|2`) stands between it and the bar line before.
"""
from .bars import ENDING, bar_lines, ends_repeat, is_double, starts_repeat
from .header import split_header


def _rewrite(abc, edits):
    """Apply {(start, end): new text} to the body of abc."""
    header, body = split_header(abc)
    pieces, last = [], 0
    for (start, end), text in sorted(edits.items()):
        pieces += [body[last:start], text]
        last = end
    return header + ("\n" if header else "") + "".join(pieces) + body[last:]


def implicit_repeats(abc):
    """The tune without the `|:` signs the rule implies (`A :|\\n|: B` -> `A :|\\nB`, `A :: B` -> `A :| B`)."""
    body = split_header(abc)[1]
    edits, previous = {}, None
    for start, end, tok in bar_lines(body):
        if starts_repeat(tok) and ends_repeat(tok):  # an end and a start in one sign: the end implies the start
            edits[start, end] = ":|"
        elif starts_repeat(tok):
            touching = body[previous[1] if previous else 0:start].strip() == ""
            if touching and (previous is None or ends_repeat(previous[2]) or is_double(previous[2])):
                bar = tok.rstrip(":")
                if bar == "|":  # a plain |: whose bar line the one before already draws: drop it
                    edits[start, end + len(body[end:]) - len(body[end:].lstrip(" "))] = ""
                else:
                    edits[start, end] = bar
        previous = (start, end, tok)
    return _rewrite(abc, edits) if edits else abc


def explicit_repeats(abc):
    """The tune with each implied repeat start written out, as music21 needs it (`A :| B :|` -> `A :| |: B :|`)."""
    body = split_header(abc)[1]
    edits, open_, back_to = {}, False, None  # back_to: where a repeat without |: would start
    for start, end, tok in bar_lines(body):
        if ends_repeat(tok):
            if not open_ and back_to is not None and not ENDING.match(body, back_to):
                edits[back_to, back_to] = " |:"
            if starts_repeat(tok) and tok != "::":  # music21 reads ":|:" as an end only
                edits[start, end] = "::"
            open_, back_to = False, end
        elif is_double(tok) and not open_:
            back_to = end
        if starts_repeat(tok):
            open_ = True
    return _rewrite(abc, edits) if edits else abc
