"""abcMIDI's abc2abc: transpose tunes by semitones (charrnn.augment splices its pitches into the tunes)."""
import tempfile
from pathlib import Path

from ..abc.text import join_tunes, split_tunes
from ..errors import CharrnnError
from .tools import find_tool, run_tool


def transpose_tunes(tunes, semitones, timeout=None):
    """abc2abc's text of each tune transposed by `semitones`, in order (one run for all of them).

    A CharrnnError when abc2abc is missing, fails, runs past `timeout` (default: 60 s plus a second
    per 100 tunes) or gives back another number of tunes."""
    exe = find_tool("abc2abc")
    timeout = timeout or 60 + len(tunes) / 100
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tunes.abc"
        path.write_text(join_tunes(tunes), encoding="utf-8")
        # -e: no error reports in the text (abc2abc writes them into the tunes otherwise)
        done, _ = run_tool([exe, path, "-e", "-t", str(int(semitones))], f"abc2abc -t {semitones}",
                           timeout=timeout, cwd=folder)
    out = split_tunes(done.stdout)
    if len(out) != len(tunes):
        raise CharrnnError(f"abc2abc -t {semitones} gave back {len(out)} tunes for {len(tunes)}")
    return out
