"""Sheet music of one tune: abcm2ps engraves the ABC faithfully (titles, meter, key, ornaments);
Ghostscript turns its PostScript into PNG or PDF; MusicXML comes from music21.

Debian tools: abcm2ps (SVG/PNG/PDF), ghostscript (PNG/PDF).
"""
import shutil
import tempfile
from pathlib import Path

from ..abc.header import header_field
from ..errors import CharrnnError
from .perform import out_path
from .score import parse
from .tools import find_tool, run_tool

PNG_DPI = 110
SCORE_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".musicxml": "musicxml", ".xml": "musicxml"}


def write_score(abc, path, fmt=None, parsed=None, annotate=False, bar_numbers=False):
    """Engrave one tune: SVG (abcm2ps), PNG or PDF (abcm2ps + Ghostscript), MusicXML (music21).

    abcm2ps reads the text; MusicXML comes from music21's parse, `parsed()` (a Tune's cached
    one), else parsed here. annotate: an SVG whose notes carry their place in the text
    (abcm2ps -A; charrnn.music.scorebars reads them). bar_numbers: a number over every bar, as
    musicians count them (abcm2ps -j 1: a pickup is not bar 1)."""
    path = Path(path)
    fmt = fmt or SCORE_FORMATS.get(path.suffix.lower())
    if fmt not in SCORE_FORMATS.values():
        raise CharrnnError(f"{path}: cannot tell the score format; use .svg, .png, .pdf or .musicxml")
    path = out_path(path)
    if fmt == "musicxml":
        (parsed() if parsed is not None else parse(abc)).write("musicxml", fp=str(path))
        return path
    abcm2ps = find_tool("abcm2ps")
    gs = find_tool("gs") if fmt in ("png", "pdf") else None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "tune.abc"
        src.write_text(abc.rstrip("\n") + "\n", encoding="utf-8")
        # abcm2ps: -g one SVG per tune, -E one EPS per tune (cropped to the music), else a PS page.
        flag, ext = {"svg": ("-g", "svg"), "png": ("-E", "eps"), "pdf": (None, "ps")}[fmt]
        flags = [flag] if flag else []
        if annotate and fmt == "svg":
            flags.append("-A")
        if bar_numbers:
            flags += ["-j", "1"]
        # abcm2ps exits 1 on what it only warns about (a "Bad tie" between different pitches)
        # and still engraves; only a missing output file is a failure.
        _, errors = run_tool([abcm2ps, "-q", *flags, "-O", tmp / f"out.{ext}", src],
                             "abcm2ps", check=False)
        made = sorted(tmp.glob(f"out*.{ext}"))
        if not made:
            raise CharrnnError(f"abcm2ps cannot engrave {header_field(abc, 'T')!r}: "
                               f"{errors[-1] if errors else 'no output'}")
        if fmt == "svg":
            shutil.move(made[0], path)
        else:
            device = ["-dEPSCrop", "-sDEVICE=png16m", f"-r{PNG_DPI}", "-dTextAlphaBits=4",
                      "-dGraphicsAlphaBits=4"] if fmt == "png" else ["-sDEVICE=pdfwrite"]
            run_tool([gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", *device, f"-sOutputFile={path}", made[0]],
                     "ghostscript")
    return path
