"""The header of an ABC tune: the one place that splits header from body and reads its fields.

    split_header("X:1\\nT:Reel\\nK:G\\nGABc|")  ->  ("X:1\\nT:Reel\\nK:G", "GABc|")
    header_field(abc, "T")                    ->  "Reel"
"""
import re
from functools import lru_cache

from ..errors import CharrnnError

FIELD = re.compile(r"^([A-Za-z]):")  # a field line: one letter and a colon (X:1, T:..., K:G)
REQUIRED_HEADERS = "XTMLK"
FIELD_ORDER = ("T", "R", "M", "L", "K")  # the corpus' header order, after X:
HEADER_ARGS = {"title": "T", "type": "R", "meter": "M", "length": "L", "key": "K"}
_CHECKS = {
    "T": (re.compile(r"[^\n%]{0,100}"), "a title of at most 100 characters on one line"),
    "R": (re.compile(r"[A-Za-z][A-Za-z ]{0,29}"), "a tune type like jig, reel or hornpipe"),
    "M": (re.compile(r"[1-9]\d?/(?:1|2|4|8|16|32|64)|C\|?|none"), "a meter like 6/8, 4/4, C or C|"),
    "L": (re.compile(r"1/(1|2|4|8|16|32|64)"), "a unit note length like 1/8"),
    "K": (re.compile(r"[A-G][#b]?(?:\s?(?i:m|min|minor|maj|major|ion|ionian|dor|dorian|phr|phrygian|lyd|lydian"
                     r"|mix|mixolydian|aeo|aeolian|loc|locrian))?|HP|Hp|none"), "a key like D, Em, Ador or Gmix"),
}
# The meter a tune type is written in when the caller names the type alone (the composer's menu
# offers the same pairs): the network writes its meter before its R: line, so it cannot follow it.
TYPE_METERS = {"jig": "6/8", "double jig": "6/8", "single jig": "6/8", "slip jig": "9/8", "slide": "12/8",
               "reel": "4/4", "hornpipe": "4/4", "strathspey": "4/4", "polka": "2/4", "waltz": "3/4",
               "mazurka": "3/4"}
_K_LINE = re.compile(r"^K:(.*)\n", re.M)


def split_header(abc):
    """(header, body): the leading field lines up to and including the first K: line, then the rest.

    A line that is not a field ends the header early (a tune with no K:), so the body is always
    the music, whatever the header lacks.
    """
    lines = abc.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("K:"):
            return "\n".join(lines[:i + 1]), "\n".join(lines[i + 1:])
        if not FIELD.match(line):
            return "\n".join(lines[:i]), "\n".join(lines[i:])
    return abc, ""


def body_start(abc):
    """Index of the first character after the K: line (None before the K: line is complete).
    Unlike split_header it looks past a garbled header line: text being written is read with it."""
    m = _K_LINE.search(abc)
    return m.end() if m else None


def set_field(abc, key, value):
    """`abc` with its header's first `key:` line saying `value`. A new line goes right after X:
    when it is the title (T:), before K: otherwise, or at the header's end (the top of a text
    with no header).

    set_field("X:1\\nT:Old\\nK:D\\nABc|", "M", "6/8")  ->  "X:1\\nT:Old\\nM:6/8\\nK:D\\nABc|"
    """
    header, _ = split_header(abc)
    lines = header.split("\n") if header else []
    line = f"{key}:{value}"
    at = [i for i, text in enumerate(lines) if text.startswith(key + ":")]
    if at:
        lines[at[0]] = line
    else:
        after_x = [i + 1 for i, text in enumerate(lines) if key == "T" and text.startswith("X:")]
        before_k = [i for i, text in enumerate(lines) if key != "K" and text.startswith("K:")]
        lines.insert((after_x or before_k or [len(lines)])[0], line)
    return "\n".join(lines) + (abc[len(header):] if header else "\n" + abc)


def tune_body(abc):
    return split_header(abc)[1]


def header_field(abc, key):
    """The value of the first `key:` field line of a tune ('' when absent).

    It looks at every line, not only the header: a generated tune whose header holds a garbled
    line still has its T:, M: and K: read.
    """
    m = re.search(rf"^{key}:(.*)$", abc, flags=re.M)
    return m.group(1).strip() if m else ""


def has_full_header(abc):
    """Starts with X: and its header names T, M, L and K."""
    header = split_header(abc)[0]
    present = {m.group(1) for m in map(FIELD.match, header.split("\n")) if m}
    return abc.startswith("X:") and set(REQUIRED_HEADERS) <= present


_KEY = re.compile(r"^\s*([A-Ga-g])([#b]?)\s*([A-Za-z]*)")
_MODES = {"": "", "maj": "", "ion": "", "m": "m", "min": "m", "aeo": "m",
          "dor": "dor", "phr": "phr", "lyd": "lyd", "mix": "mix", "loc": "loc"}
_STEP_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def normalise_key(value):
    """A K: value as tonic + mode: 'G', 'Em', 'Ador', 'Bb'; None for K:none, K:HP and the like."""
    m = _KEY.match(value or "")
    if not m:
        return None
    mode = m.group(3).lower()
    mode = _MODES.get(mode if mode == "m" else mode[:3])
    if mode is None:
        mode = ""  # an unknown word after the tonic (exp, clef=...): the tonic is what we know
    return m.group(1).upper() + m.group(2) + mode


def tonic_pitch_class(key_value):
    """Pitch class (0 = C) of the tonic a K: value names, or None."""
    key = normalise_key(key_value)
    if key is None:
        return None
    pc = _STEP_PC[key[0]] + (1 if key[1:2] == "#" else -1 if key[1:2] == "b" else 0)
    return pc % 12


def normalise_meter(value):
    """An M: value with the symbols spelt out: C -> 4/4, C| -> 2/2."""
    value = (value or "").replace(" ", "")
    return {"C": "4/4", "C|": "2/2"}.get(value, value) or None


@lru_cache(maxsize=None)
def _field_pattern(letters):
    return re.compile(rf"^([{letters}]):(.*)$|\[([{letters}]):([^\]\n]*)\]", re.M)


def fields_in(text, letters):
    """(index, letter, value) of each field of `letters` ("KL") in text, on a line of its own or
    inline ([K:G]), in order; values as written (a bare `K:` gives "")."""
    return [(m.start(), m.group(1) or m.group(3), m.group(2) if m.group(1) else m.group(4))
            for m in _field_pattern(letters).finditer(text)]


def is_meter(value):
    """Whether an M: value is one a reader can count bars by (6/8, C|, none), as the controls check it."""
    return bool(_CHECKS["M"][0].fullmatch(value.strip()))


_NOT_IN_A_KEY = re.compile(r'[|"(){}\[\]!]')  # music: bar lines, chord symbols, slurs, decorations


def is_key(value):
    """Whether a K: value is one a reader can play in: a tonic (a mode, accidentals or a clef may
    follow), HP or none, and no music run into it; a bare `K:` changes nothing, so it is one too."""
    value = value.strip()
    known = not value or value in ("HP", "Hp", "none") or normalise_key(value) is not None
    return known and not _NOT_IN_A_KEY.search(value)


def tonic_letter(abc):
    """The letter of the tonic that the tune's K: line names ('G' for K:Gmix), or None."""
    key = normalise_key(header_field(abc, "K"))
    return key[0] if key else None


def check_field(field, value):
    """A header control's value, trimmed, or a CharrnnError naming the control and what it expects."""
    pattern, what = _CHECKS[field]
    if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
        name = {v: k for k, v in HEADER_ARGS.items()}[field]
        raise CharrnnError(f"{name} {value!r}: expected {what}")
    return value.strip()


def header_controls(**fields):
    """{field letter: value} of the header controls given (title, type, meter, length, key; None:
    not given), each checked; a known tune type without a meter gets its meter (TYPE_METERS)."""
    unknown = set(fields) - set(HEADER_ARGS)
    if unknown:
        raise CharrnnError(f"unknown header control(s) {sorted(unknown)}; use {', '.join(HEADER_ARGS)}")
    given = {HEADER_ARGS[k]: check_field(HEADER_ARGS[k], v) for k, v in fields.items() if v is not None}
    if "R" in given and "M" not in given and given["R"].lower() in TYPE_METERS:
        given["M"] = TYPE_METERS[given["R"].lower()]
    return given


def with_header(abc, sample_title=None, **fields):
    """`abc` with header fields set from title/type/meter/length/key (None: left alone).

    A text without a header (empty, or opening bars only) gets X:1, T:, R:, M:, L:, K: as given;
    its title comes from `sample_title()` when none is given and L: defaults to 1/8.
    Opening bars need a key (K: fixes how the notes read)."""
    given = header_controls(**fields)
    abc = abc or ""
    header, body = split_header(abc)  # a header still being written has no K: line yet
    if header:
        for f in FIELD_ORDER:
            if f in given:
                abc = set_field(abc, f, given[f])
        if given and not body and not abc.endswith("\n"):
            abc += "\n"  # the model goes on with a new field line
        return abc
    if body.strip() and "K" not in given:
        raise CharrnnError("opening bars need a key: pass key= (K:) or write the header first")
    if not given and not body.strip():
        return "X:1\n"
    if body.strip() or "K" in given:
        given.setdefault("L", "1/8")
    if "T" not in given:
        given["T"] = sample_title() if sample_title else ""
    lines = ["X:1"] + [f"{f}:{given[f]}" for f in FIELD_ORDER if f in given]
    return "\n".join(lines) + "\n" + body.lstrip("\n")
