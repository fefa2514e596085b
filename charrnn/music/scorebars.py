"""Where each bar of a tune sits in abcm2ps's SVG, so a click on the score can select a bar.

    write_score(abc, "score.svg", annotate=True)   # abcm2ps -A: an <abc row= col= x= y= width= height=> per symbol
    bar_boxes(Path("score.svg").read_text(), abc)  # -> [[x, y, width, height] or None, ...], one per bar_spans bar
    score_size(svg_text)                           # -> (width, height) in the SVG's px

abcm2ps names each note and rest by its line (1-based) and column (0-based) in the text it read;
those give a character offset, and bar_spans (charrnn.abc.bars, what /api/bars answers) the bar.
"""
import bisect
import re

from ..abc.bars import bar_spans

_ANNOTATION = re.compile(r'<abc type="([A-Za-z])" row="(\d+)" col="(\d+)" x="([-\d.]+)" y="([-\d.]+)" '
                         r'width="([-\d.]+)" height="([-\d.]+)"')
_SIZE = re.compile(r'<svg[^>]*?\swidth="([\d.]+)px"\s+height="([\d.]+)px"', re.S)
SYMBOLS = "NR"  # notes and rests: what a bar is made of on the page
PAD = 3.0  # px either side, so a click between two notes of a bar still lands in it


def score_size(svg):
    """(width, height) of an abcm2ps SVG in px, or None."""
    m = _SIZE.search(svg)
    return (float(m.group(1)), float(m.group(2))) if m else None


def bar_boxes(svg, abc):
    """[x, y, width, height] around the notes and rests of each bar of `abc` (as bar_spans counts
    them) in an `abcm2ps -A` SVG of that same text; None for a bar with nothing drawn."""
    line_starts = [0]
    for line in abc.split("\n"):
        line_starts.append(line_starts[-1] + len(line) + 1)
    spans = bar_spans(abc)
    boxes = [None] * len(spans)
    starts = [start for start, _ in spans]
    for kind, row, col, x, y, w, h in _ANNOTATION.findall(svg):
        row, col = int(row), int(col)
        if kind not in SYMBOLS or row > len(line_starts) - 1:
            continue
        offset = line_starts[row - 1] + col
        i = _bar_at(starts, spans, offset)
        if i is None:
            continue
        x, y, w, h = float(x), float(y), float(w), float(h)
        box = [x - PAD, y, x + w + PAD, y + h]
        old = boxes[i]
        boxes[i] = box if old is None else [min(old[0], box[0]), min(old[1], box[1]),
                                            max(old[2], box[2]), max(old[3], box[3])]
    return [None if b is None else [round(b[0], 1), round(b[1], 1), round(b[2] - b[0], 1), round(b[3] - b[1], 1)]
            for b in boxes]


def _bar_at(starts, spans, offset):
    i = bisect.bisect_right(starts, offset) - 1
    return i if i >= 0 and offset < spans[i][1] else None
