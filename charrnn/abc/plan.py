"""A tune's plan: its parts, the bars of each and whether each repeats, read from the ABC text;
and the structure notation that writes a plan down.

    tune_plan("X:1\\nM:2/4\\nL:1/8\\nK:D\\n|:A|dA FA|...:|\\n...")  ->  ((8, True), (8, True))
    parse_structure("AABB:8")     ->  ((8, True), (8, True))     # two parts of 8 bars, each played twice
    parse_structure("AB:8,16")    ->  ((8, False), (16, False))
    structure_text(((8, True), (8, True)))  ->  "AABB:8"

The notation is the one musicians use for form, with the bars after a colon: one letter per
part, doubled when the part repeats (AABB, AAB, ABC), then the bars of every part (`:8`) or of
each (`:8,16`). Without bars (`AABB`) only the parts and their repeats are fixed.

Bars are counted as musicians count them: a pickup (a first bar shorter than the meter's) is not
a bar, and a second ending stands for the first: an 8-bar part with 1st and 2nd endings has 8.
"""
import re
from fractions import Fraction

from ..errors import CharrnnError
from .bars import bar_lines, bar_note_sequences, ends_repeat, is_closing, mask
from .header import body_start, header_field, normalise_meter, split_header
from .melody import melody, note_length, unit_length

MAX_PARTS = 8  # past 6 sections even TunesFormer's structure slips
MIN_PART_BARS, MAX_PART_BARS = 2, 32  # a part of one bar cannot tell a pickup from its only bar
_ENDING = re.compile(r"\s*\[?(\d)")  # matched where a bar starts: an ending number (|1 abc, :|2 abc, [2 abc)
_REST = re.compile(r"[zx](\d*/*\d*)")
_MUSIC = re.compile(r"[A-Ga-gzx]")  # notes and rests: what makes a stretch between bar lines a bar


def bar_length(abc):
    """Whole notes a full bar of the tune's meter holds (M:6/8 -> 3/4, M:C -> 1), or None (M:none)."""
    meter = normalise_meter(header_field(abc, "M"))
    try:
        return Fraction(meter) if meter else None
    except (ValueError, ZeroDivisionError):
        return None


def is_pickup(abc, bar):
    """Is `bar` (the text of one bar of the tune `abc`) shorter than a full bar of its meter: a
    pickup? Rests count: a B part may start with one (`||z|a3 gfe|`)."""
    full = bar_length(abc)
    if full is None:
        return False
    header = split_header(abc)[0]
    unit = unit_length(header_field(abc, "L") or "")
    rests = sum(note_length(m.group(1)) for m in _REST.finditer(mask(bar)))
    length = sum(note.length for note in melody(f"{header}\n{bar}")) + float(rests * unit)
    return 0 < length < float(full) - 1e-6


def _read_parts(abc, whole=True):
    """(closed parts, bars of the part still open, whether its open part has endings, music after
    the last bar line, music since the last part closed, where the open bar's text begins in abc
    (None: no body yet)). `whole`: the text after the last bar line is a bar too (a finished tune)."""
    if body_start(abc) is None:
        return (), -1, False, False, False, None
    body = split_header(abc)[1]
    offset = len(abc) - len(body)
    masked = mask(body).replace("\\\n", "  ")
    parts, bars, second, start, has_note, first_done = [], 0, False, 0, False, False
    for bar_start, bar_end, token in bar_lines(body, masked) + ([(len(body), len(body), "")] if whole else []):
        segment, text, start = masked[start:bar_start], body[start:bar_start], bar_end
        ending = _ENDING.match(segment)
        second = second or bool(ending and ending.group(1) != "1")
        if _MUSIC.search(_ENDING.sub("", segment)) and not second:
            bars += first_done or not is_pickup(abc, text)  # only a part's first bar can be a pickup
            first_done = True
        has_note = has_note or _MUSIC.search(segment) is not None
        following = _ENDING.match(masked, bar_end)
        into_second = ends_repeat(token) and following is not None and following.group(1) != "1"
        if is_closing(token) and not into_second:
            if bars:
                parts.append((bars, ends_repeat(token) or second))
            bars, second, has_note, first_done = 0, False, False, False
    in_music = _MUSIC.search(masked, start) is not None
    return tuple(parts), bars if first_done else -1, second, in_music, has_note or in_music, offset + start


def plan_so_far(abc):
    """(parts closed, bars of the open part written (-1: not even its first, which may be a
    pickup), music after the last bar line, music since the last part closed, where the open bar's
    text begins (None: the body has not begun)) of a tune being written, counted as tune_plan
    counts: the open bar is not a bar until its bar line."""
    parts, bars, _, in_music, has_note, begins = _read_parts(abc, whole=False)
    return len(parts), bars, in_music, has_note, begins


def tune_plan(abc):
    """((bars, repeats), ...) of each part of a tune as written (see the module's docstring): a part
    ends at a bar line that closes it (:| || |] ::), except a repeat that leads into a second
    ending; it repeats when it ends on a repeat sign or has endings."""
    parts, bars, second, _, _, _ = _read_parts(abc)
    return parts + ((bars, second),) if bars > 0 else parts


def parts_end_alike(abc):
    """Do the tune's first two parts end on the same bar (its notes and lengths, as
    charrnn.abc.bars.bar_note_sequences reads them)? None when it has fewer than two such parts."""
    header, body = split_header(abc)
    cuts = [end for _, end, token in bar_lines(body) if is_closing(token)]
    parts = [body[a:b] for a, b in zip([0] + cuts, cuts + [len(body)])]
    endings = [bars[-1] for bars in (bar_note_sequences(f"{header}\n{part}") for part in parts) if len(bars) >= 2]
    return endings[0] == endings[1] if len(endings) >= 2 else None


def parse_structure(text):
    """A structure ("AABB:8", "AB:8,16", "AABB") as ((bars or None, repeats), ...); a CharrnnError
    saying what is wrong otherwise."""
    letters, _, bars = str(text).replace(" ", "").partition(":")
    groups = [m.group() for m in re.finditer(r"([A-Z])\1*", letters)]
    if not groups or "".join(groups) != letters:
        raise CharrnnError(f"structure {text!r}: expected parts as letters, doubled when a part repeats, "
                           f"then the bars of each part: AABB:8, AB:8,16 or AABB")
    if any(len(g) > 2 for g in groups) or [g[0] for g in groups] != [chr(65 + i) for i in range(len(groups))]:
        raise CharrnnError(f"structure {text!r}: name the parts A, B, C ... in order, each once, or twice "
                           f"when it repeats (AABB)")
    if len(groups) > MAX_PARTS:
        raise CharrnnError(f"structure {text!r}: at most {MAX_PARTS} parts")
    counts = [None] * len(groups)
    if bars:
        if not re.fullmatch(r"\d+(,\d+)*", bars):
            raise CharrnnError(f"structure {text!r}: after the colon, the bars of every part (8) or of each (8,16)")
        counts = [int(b) for b in bars.split(",")]
        counts = counts * len(groups) if len(counts) == 1 else counts
        if len(counts) != len(groups):
            raise CharrnnError(f"structure {text!r}: {len(groups)} parts but {len(counts)} bar counts")
        if not all(MIN_PART_BARS <= b <= MAX_PART_BARS for b in counts):
            raise CharrnnError(f"structure {text!r}: a part has {MIN_PART_BARS} to {MAX_PART_BARS} bars")
    return tuple((b, len(g) == 2) for b, g in zip(counts, groups))


def structure_text(plan):
    """The notation of a plan: ((8, True), (8, True)) -> "AABB:8"; without bars, letters only."""
    letters = "".join(chr(65 + i) * (2 if repeats else 1) for i, (_, repeats) in enumerate(plan))
    bars = [b for b, _ in plan]
    if None in bars:
        return letters
    return f"{letters}:{bars[0]}" if len(set(bars)) == 1 else f"{letters}:{','.join(map(str, bars))}"
