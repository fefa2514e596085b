"""The header of an ABC tune: the one place that splits header from body and reads its fields.

    split_header("X:1\\nT:Reel\\nK:G\\nGABc|")  ->  ("X:1\\nT:Reel\\nK:G", "GABc|")
    header_field(abc, "T")                    ->  "Reel"
"""
import re

FIELD = re.compile(r"^([A-Za-z]):")  # a field line: one letter and a colon (X:1, T:..., K:G)
REQUIRED_HEADERS = "XTMLK"
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


def tonic_letter(abc):
    """The letter of the tonic that the tune's K: line names ('G' for K:Gmix), or None."""
    m = re.search(r"^K:(.*)$", abc, flags=re.M)
    key = normalise_key(m.group(1)) if m else None
    return key[0] if key else None
