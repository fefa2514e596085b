"""ABC files as text: read them, cut them into tunes, join tunes back into one text."""
import re
from pathlib import Path

from ..errors import CharrnnError


def normalise_newlines(text):
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_abc_text(path):
    """Read an ABC file as text: UTF-8, else Latin-1 (old tune books); newlines made '\\n'."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise CharrnnError(f"{path}: cannot read file ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # every byte is a Latin-1 character, so this cannot fail
    return normalise_newlines(text)


def strip_comment(line):
    """Drop a '%' comment (but not an escaped '\\%'); '%%' directives go too."""
    m = re.search(r"(?<!\\)%", line)
    return (line[: m.start()] if m else line).rstrip()


def split_tunes(text):
    """Cut ABC text into tunes: each starts at an 'X:' line, ends at a blank line or the next 'X:'.

    Free text between tunes and the file header before the first 'X:' are dropped.
    Returns the raw tune texts (lines joined with '\\n', comments kept).
    """
    return [tune for _, tune in tunes_with_lines(text)]


def tunes_with_lines(text):
    """(line number of the X: line, 1-based; tune text) for each tune split_tunes finds."""
    tunes, current, start = [], None, 0
    for number, line in enumerate(normalise_newlines(text).split("\n"), 1):
        if line.startswith("X:"):
            if current:
                tunes.append((start, "\n".join(current)))
            current, start = [line], number
        elif current is not None:
            if line.strip() == "":
                tunes.append((start, "\n".join(current)))
                current = None
            else:
                current.append(line)
    if current:
        tunes.append((start, "\n".join(current)))
    return tunes


def join_tunes(texts):
    """Tunes as one ABC text, one blank line between them."""
    return "\n".join(texts)
