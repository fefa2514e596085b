"""abc2midi's check of one tune: the errors and warnings it prints (it exits 0 even on errors)."""
import re
import tempfile
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

from ..errors import CharrnnError
from .tools import ToolTimeout, find_tool, run_tool

_ABC2MIDI_LINE = re.compile(r"^(Error|Warning) in line-char [0-9-]+ : (.*)$", re.M)


def abc2midi_counts(abc, workdir=None, timeout=20):
    """{'errors': n, 'warnings': n, 'messages': {kind: n}} from abc2midi; None without abc2midi.

    abc2midi exits 0 even on errors, so we count its 'Error in line-char' and
    'Warning in line-char' lines. It runs in check-only mode (-c): no MIDI file is written.
    A message kind is its text with numbers as '#' ('Track # Bar # has #/# time units ...').
    """
    try:
        exe = find_tool("abc2midi")
    except CharrnnError:
        return None
    with tempfile.TemporaryDirectory() if workdir is None else nullcontext(workdir) as folder:
        path = Path(folder) / "tune.abc"
        path.write_text(abc, encoding="utf-8")
        try:
            proc, _ = run_tool([exe, path, "-c"], "abc2midi", timeout=timeout, check=False, cwd=folder)
        except ToolTimeout:
            return {"errors": 1, "warnings": 0, "messages": {"Error: abc2midi timed out": 1}}
    found = _ABC2MIDI_LINE.findall(proc.stdout + proc.stderr)
    kinds = Counter(f"{level}: {re.sub(r'[0-9]+', '#', text.strip())}" for level, text in found)
    return {"errors": sum(level == "Error" for level, _ in found),
            "warnings": sum(level == "Warning" for level, _ in found),
            "messages": dict(kinds)}
