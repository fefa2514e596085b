"""The composer's error messages in a musician's words: the one place that turns a request's
field errors (pydantic) and the library's one-line CharrnnErrors into a sentence that names the
field and says what to do.

    field_message([{"type": "less_than_equal", "loc": ("body", "temperature"), "input": 99, "ctx": {"le": 5}}])
    # -> "Temperature must be between 0.05 and 5 (you gave 99)."
    for_people("opening bars need a key: pass key= (K:) or write the header first")
    # -> "Opening bars need a key: choose one under Key, or write a K: line above the bars."

The JSON API answers {"error": one of these}; the page shows it beside the control that failed
(its "field" names the control: the same key as the request's).
"""
import re

# Request fields as the page labels them.
FIELDS = {"temperature": "Temperature", "top_p": "Top-p", "top_k": "Top-k", "random_seed": "Seed",
          "seed": "Opening bars", "title": "Title", "abc": "The ABC text", "bars": "The selected bars",
          "candidates": "Candidates", "tempo": "Tempo", "program": "Instrument", "chords": "Play chords",
          "meter": "Meter", "key": "Key", "type": "Tune type", "settings": "Settings", "tune_id": "Tune number",
          "structure": "Parts", "drafts": "Drafts"}
# The ranges the page's fields allow, said as one range rather than one bound.
RANGES = {"temperature": "0.05 and 5", "top_p": "0.01 and 1", "tempo": "1 and 400 beats a minute",
          "candidates": "1 and 64", "random_seed": "0 and 4294967295", "top_k": "1 and the vocabulary size",
          "drafts": "1 and 4"}
# Library messages (charrnn.errors.CharrnnError) that speak to a programmer: pattern -> words.
REWRITES = [
    (r"^opening bars need a key.*", "Opening bars need a key: choose one under Key, or write a K: line above the bars."),
    (r"^(\w+): characters not in the model's vocabulary: (.*)",
     r"The \1 holds characters the model cannot read: \2. Remove them (a title may hold any letter)."),
    (r"^no bars written as \* to fill.*", "No bar is written as * yet: replace a bar's notes with * "
     "(as in | * |), then Fill."),
    (r"^bars \[(.*)\] out of range: the tune has bars 1-(\d+)",
     r"Bar \1 is not in the tune (it has \2 bars): select the bars again."),
    (r"^structure '(.*)': (.*)", r"Parts '\1': \2."),
    (r"^(meter|key|type) '(.*)': expected an? [\w ]+? (like .*)",
     lambda m: f"{FIELDS[m.group(1)]} '{m.group(2)}' is not one the composer can use: choose one {m.group(3)}."),
]


def _shown(value):
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 30 else text[:27] + "..."


def field_of(error):
    """The request field a pydantic error is about ('temperature'), or ''."""
    names = [str(p) for p in error.get("loc", ()) if p not in ("body", "path", "query")]
    return names[0] if names else ""


def field_message(errors):
    """One sentence for the first of pydantic's errors (RequestValidationError.errors())."""
    first = errors[0]
    kind, field, ctx = first.get("type", ""), field_of(first), first.get("ctx") or {}
    name, given = FIELDS.get(field, field or "The request"), first.get("input")
    if kind == "json_invalid":
        return "The request is not valid JSON."
    if kind == "missing":
        return f"{name} is missing: fill it in."
    if kind == "extra_forbidden":
        return f"'{field}' is not a setting the composer knows; leave it out."
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        if field in RANGES:
            return f"{name} must be between {RANGES[field]} (you gave {_shown(given)})."
        bound = next(iter(ctx.values()), "")
        return f"{name} must be {'at least' if kind.startswith('greater') else 'at most'} {bound} (you gave {_shown(given)})."
    if kind.endswith(("_parsing", "_type")) and kind.split("_")[0] in ("float", "int", "bool"):
        what = "on or off" if kind.startswith("bool") else "a whole number" if kind.startswith("int") else "a number"
        return f"{name} must be {what} (you gave {_shown(given)})."
    if kind == "string_too_short" or (kind == "too_short" and field == "bars"):
        return {"abc": "The ABC text is empty: compose a tune or write one first.",
                "bars": "Select one or more bars first (click them on the score or below it).",
                "title": "The title is blank: write a name."}.get(field, f"{name} is empty: fill it in.")
    if kind in ("string_too_long", "too_long"):
        return f"{name} is too long: at most {ctx.get('max_length', '?')} {'characters' if kind.startswith('string') else 'items'}."
    if kind == "string_pattern_mismatch":
        return f"{name} must be one line."
    if kind == "int_from_float":
        return f"{name} must be a whole number (you gave {_shown(given)})."
    return f"{name}: {first.get('msg', 'not valid')}."


def for_people(message):
    """A library message rewritten in a musician's words where it speaks to a programmer."""
    message = " ".join(str(message).split())
    for pattern, words in REWRITES:
        new, count = re.subn(pattern, words, message, count=1)
        if count:
            return new
    return message[:1].upper() + message[1:]
