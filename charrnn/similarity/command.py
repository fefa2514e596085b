"""`charrnn similar`: the corpus tunes nearest to each tune of a file.

    charrnn similar my.abc                   # five nearest tunes of data/abc per tune, with scores
    charrnn similar my.abc -k 3 --data mycorpus --json

Each line: the score (0..1), title, collection, source file and X: of a corpus tune, and its bars
that match the tune's ("bars 1-4=9-12": the tune's bars 1 to 4 are bars 9 to 12 there).
"""
import json

from ..abc.header import header_field
from ..abc.melody import melody
from ..abc.text import read_abc_text, split_tunes
from ..checks import check_whole
from ..errors import CharrnnError
from . import default_corpus_dir, nearest


def bar_runs(pairs):
    """'1-4=9-12, 7=3': (query bar, corpus bar) pairs written as runs that step together."""
    runs = []
    for q, c in pairs:
        if runs and q == runs[-1][1] + 1 and c == runs[-1][3] + 1:
            runs[-1][1], runs[-1][3] = q, c
        else:
            runs.append([q, q, c, c])
    span = lambda a, b: f"{a}" if a == b else f"{a}-{b}"  # noqa: E731
    return ", ".join(f"{span(q0, q1)}={span(c0, c1)}" for q0, q1, c0, c1 in runs)


def _similar(args):
    check_whole("-k", args.k, 1)
    tunes = split_tunes(read_abc_text(args.file))
    if not tunes:
        raise CharrnnError(f"{args.file}: no ABC tunes found (a tune starts with an 'X:' line)")
    found = nearest(tunes, k=args.k, corpus=args.data or default_corpus_dir())
    if args.json:
        print(json.dumps([{"title": header_field(t, "T"), "x": header_field(t, "X"),
                           "nearest": [m.as_dict() for m in matches]} for t, matches in zip(tunes, found)],
                         indent=2, ensure_ascii=False))
        return 0
    for tune, matches in zip(tunes, found):
        print(f"X:{header_field(tune, 'X')} {header_field(tune, 'T') or '(untitled)'}")
        if len(melody(tune)) < 2:
            print("  (no notes to compare)")
            continue
        for m in matches:
            where = f"{m.collection + ', ' if m.collection else ''}{m.source_file} X:{m.x}"
            shared = f"  bars {bar_runs(m.bars)}" if m.bars else ""
            print(f"  {m.score:.2f}  {m.title or '(untitled)'} ({where}){shared}")
    return 0


def register_cli(subparsers):
    p = subparsers.add_parser("similar", help="the corpus tunes nearest to each tune of a file (is it new?)")
    p.add_argument("file", metavar="FILE.abc", help="ABC file: every tune in it is looked up")
    p.add_argument("-k", type=int, default=5, help="nearest tunes per tune (default 5)")
    p.add_argument("--data", default=None,
                   help="corpus folder (default: data/abc); its index is built beside it on first use")
    p.add_argument("--json", action="store_true", help="print JSON: per tune, its nearest tunes with scores and bars")
    p.set_defaults(func=_similar)
