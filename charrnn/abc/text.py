"""ABC files as text: read them (whole, or in pieces for big files), cut them into tunes, join
tunes back into one text."""
import codecs
import math
import re

from ..errors import CharrnnError
from .header import set_field


def normalise_newlines(text):
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_abc_text(path):
    """Read an ABC file as text: UTF-8, else Latin-1 (old tune books; abc_encoding); newlines made '\\n'."""
    return "".join(piece for piece, _ in read_abc_pieces(path, size=math.inf))


def abc_encoding(path, block=1 << 20):
    """'utf-8-sig' when the whole file is UTF-8, else 'latin-1' (old tune books: every byte is a
    Latin-1 character, so that cannot fail), read in blocks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(block):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except OSError as e:
        raise CharrnnError(f"{path}: cannot read file ({e.strerror or e})") from None
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8-sig"


def read_abc_pieces(path, size=1 << 20):
    """read_abc_text in pieces of about `size` characters, each cut just before a blank line or an
    'X:' line: split_tunes finds the same tunes in the pieces as in the whole file, and a big file
    is never all in memory. Yields (piece, characters read so far)."""
    encoding = abc_encoding(path)
    lines, length, done = [], 0, 0
    try:
        with open(path, encoding=encoding, newline=None) as f:  # newline=None: \r\n and \r read as \n
            for line in f:
                if length >= size and (line.startswith("X:") or not line.strip()):
                    yield "".join(lines), done
                    lines, length = [], 0
                lines.append(line)
                length += len(line)
                done += len(line)
    except OSError as e:
        raise CharrnnError(f"{path}: cannot read file ({e.strerror or e})") from None
    if lines:
        yield "".join(lines), done


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
    """Tunes as one ABC text, one blank line between them (as a corpus's train.abc holds them)."""
    return "".join(t.strip("\n") + "\n\n" for t in texts)


def tunebook(tunes, first=1):
    """Tunes as one ABC file, numbered X:first, X:first+1, ... in order (so `abc2midi book.abc 3`
    or `abcm2ps -e 3` finds tune 3), a blank line between tunes."""
    return "\n\n".join(set_field(abc, "X", i).strip("\n") for i, abc in enumerate(tunes, first)) + "\n"
