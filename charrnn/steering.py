"""Steer a trained model bar by bar: continue a tune, vary chosen bars, fill `*` bars.

    import charrnn
    model = charrnn.load()
    tune = model.continue_tune("", type="jig", meter="6/8", key="D", random_seed=7)[0]
    best = model.vary(tune.abc, bars=[5, 6], n=4, random_seed=1)        # 4 new versions, best first
    done = model.fill(tune.abc.replace("|ded", "|*", 1), random_seed=2)[0]

Bars are counted as written in the tune body, 1-based (a pickup before the first bar line is bar 1).
`vary` and `fill` sample `candidates` versions of each run of chosen bars after the text before
it, then rank them by the model's log-likelihood of the bars that follow (up to the next `*` bar);
everything else stays as written. Header controls (title, type R:, meter M:, unit length L:,
key and mode K:) set or replace the tune's header fields before sampling.
"""
import math
import re

import numpy as np

from .abc.bars import bar_spans
from .abc.header import set_field, split_header
from .checks import MAX_LANES, check_sampling, check_whole
from .errors import CharrnnError
from .form.sampler import FormSampler
from .nn.sampling import feed, log_likelihood, sample_lanes, sample_until, tune_limit
from .tune import Tune

FIELD_ORDER = ("T", "R", "M", "L", "K")  # the corpus' header order, after X:
HEADER_ARGS = {"title": "T", "type": "R", "meter": "M", "length": "L", "key": "K"}
_CHECKS = {
    "T": (re.compile(r"[^\n%]{0,100}"), "a title of at most 100 characters on one line"),
    "R": (re.compile(r"[A-Za-z][A-Za-z ]{0,29}"), "a tune type like jig, reel or hornpipe"),
    "M": (re.compile(r"\d{1,2}/\d{1,2}|C\|?|none"), "a meter like 6/8, 4/4, C or C|"),
    "L": (re.compile(r"1/(1|2|4|8|16|32|64)"), "a unit note length like 1/8"),
    "K": (re.compile(r"[A-G][#b]?\s?(?:[A-Za-z]{0,10})|HP|Hp|none"), "a key like D, Em, Ador or Gmix"),
}
BAR_CHARS = 48  # most characters one sampled bar may take before the candidate is dropped
SCORE_CHARS = 400  # most characters of the following text that rank a candidate


# -------------------------------------------------------------------------------------- header

def _check_field(field, value):
    pattern, what = _CHECKS[field]
    if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
        name = {v: k for k, v in HEADER_ARGS.items()}[field]
        raise CharrnnError(f"{name} {value!r}: expected {what}")
    return value.strip()


def with_header(abc, sample_title=None, **fields):
    """`abc` with header fields set from title/type/meter/length/key (None: left alone).

    A text without a header (empty, or opening bars only) gets X:1, T:, R:, M:, L:, K: as given;
    its title comes from `sample_title()` when none is given and L: defaults to 1/8.
    Opening bars need a key (K: fixes how the notes read)."""
    unknown = set(fields) - set(HEADER_ARGS)
    if unknown:
        raise CharrnnError(f"unknown header control(s) {sorted(unknown)}; use {', '.join(HEADER_ARGS)}")
    given = {HEADER_ARGS[k]: _check_field(HEADER_ARGS[k], v) for k, v in fields.items() if v is not None}
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


# ---------------------------------------------------------------------------------------- bars

def _runs(numbers):
    """[5, 6, 9] -> [[5, 6], [9]]"""
    runs = []
    for b in sorted(set(numbers)):
        if runs and b == runs[-1][-1] + 1:
            runs[-1].append(b)
        else:
            runs.append([b])
    return runs


# ------------------------------------------------------------------------------------ sampling

class _BarCounter:
    """Reads sampled characters; says when `bars` bars are written (at the next bar line)."""

    def __init__(self, bars):
        self.bars, self.done, self.in_line, self.content, self.last = bars, 0, False, False, ""
        self.quote = self.deco = self.bracket = False

    def verdict(self, ch):
        """1: `ch` starts the bar line after the last bar (stop before it); -1: an empty bar
        (give up on this lane); 0: `ch` taken in."""
        if self.quote:
            self.quote = ch != '"'
        elif self.deco:
            self.deco = ch != "!"
        elif self.bracket:  # a chord or inline field; `[1` is an ending
            self.bracket = ch != "]" and not (ch.isdigit() and self.last == "[")
        elif ch in "|:":
            if not self.in_line:
                if not self.content:
                    return -1
                if self.done == self.bars - 1:
                    return 1
            self.in_line = True
        elif self.in_line and (ch == "]" or ch.isspace() or (ch.isdigit() and self.last in "|[")):
            pass  # still the bar line: `|]`, `|1`, or `|` at a line's end and `|` starting the next
        else:
            if self.in_line:
                self.done, self.in_line, self.content = self.done + 1, False, False
            self.quote, self.deco, self.bracket = ch == '"', ch == "!", ch == "["
            self.content = self.content or not ch.isspace()
        self.last = ch
        return 0


def _sample_title(model, rng, temperature, top_k, top_p):
    net, vocab = model.net, model.vocab
    state = model.start.take(1, rng)
    logits = feed(net, state, "X:1\nT:", vocab, 1)
    texts, ok, _, _ = sample_until(net, vocab, state, logits, lambda lane, ch, text: ch == "\n", rng,
                                    temperature, top_k, top_p, limit=60)
    title = texts[0].strip().replace("%", "")
    return title if ok[0] else title[:40]


# ----------------------------------------------------------------------------------- public API

def continue_tune(model, abc="", n=1, temperature=1.0, top_k=None, top_p=None, random_seed=None,
                  max_new_chars=1500, form=True, **header):
    """n tunes that keep `abc` (a header, or a header and bars, possibly ending mid-bar) and
    write on to the tune's end; header controls (title/type/meter/length/key) set fields first.
    `form=True` writes with the model's form.json when it has one (bars of the tune, the opening's
    included, come back; parts close on the tonic), as generate does."""
    check_sampling(temperature, top_k, top_p, random_seed)
    check_whole("n", n, 1, MAX_LANES)
    rng = np.random.default_rng(random_seed)
    prefix = with_header(abc, lambda: _sample_title(model, rng, temperature, top_k, top_p), **header)
    prefix = re.sub(r"\n\s*\n[\s\n]*$", "\n", prefix)  # a blank line would end the tune
    model.vocab.encode(prefix, where="tune")  # unknown characters named before any sampling
    if len(prefix) >= tune_limit(model.net, math.inf):  # a transformer's context is full
        raise CharrnnError(f"the tune has {len(prefix)} characters; this model writes tunes of at most "
                           f"{tune_limit(model.net, math.inf)}")
    limit = tune_limit(model.net, len(prefix) + max_new_chars)
    # Every lane starts from one of the model's start states (StartTunes: after a real tune),
    # then reads the prefix and samples to the tune's end.
    state = model.start.take(n, rng)
    logits = feed(model.net, state, prefix, model.vocab, n, where="tune")
    form = getattr(model, "form", None) if form is True else (form or None)
    hook = None if form is None else FormSampler(form, model.vocab, prefix, n, rng)
    out, length, _ = sample_lanes(net=model.net, state=state, logits=logits, prime=prefix,
                                   max_chars=limit, rng=rng, vocab=model.vocab,
                                   temperature=temperature, top_k=top_k, top_p=top_p, form=hook)
    return [Tune((prefix + model.vocab.decode(out[i, :length[i]])).rstrip("\n") + "\n") for i in range(n)]


def _resample_bars(model, abc, numbers, n, candidates, rng, sampling, stop_at_wildcard):
    spans = bar_spans(abc)
    if not spans:
        raise CharrnnError("the tune has no bars (write them after the K: line)")
    bad = [b for b in numbers if not isinstance(b, (int, np.integer)) or not 1 <= b <= len(spans)]
    if bad:
        raise CharrnnError(f"bars {bad} out of range: the tune has bars 1-{len(spans)}")
    check_whole("n", n, 1, MAX_LANES)
    check_whole("candidates", candidates, n, MAX_LANES)
    net, vocab = model.net, model.vocab
    wild = [i + 1 for i, (s, e) in enumerate(spans) if abc[s:e].strip() == "*"] if stop_at_wildcard else []
    texts, shifts = [abc] * n, [0] * n  # variant v's offsets moved by shifts[v] after each run
    for run in _runs(numbers):
        first, last = spans[run[0] - 1][0], spans[run[-1] - 1][1]
        start, end = first + shifts[0], last + shifts[0]
        base = texts[0]  # each run is sampled after the best version of the runs before it
        later = [spans[w - 1][0] + shifts[0] for w in wild if w > run[-1]]
        following = base[end:later[0] if later else len(base)][:SCORE_CHARS]
        follow_ids = vocab.encode(following, where="tune") if following else []
        state = model.start.take(candidates, rng)
        logits = feed(net, state, base[:start], vocab, candidates, where="tune")
        counters = [_BarCounter(len(run)) for _ in range(candidates)]

        def stop(lane, ch, text):
            if ch == "\n" and text.endswith("\n"):  # a blank line: the tune ended too soon
                return -1
            return counters[lane].verdict(ch)

        got, ok, ends, end_logits = sample_until(net, vocab, state, logits, stop, rng, **sampling,
                                                  limit=BAR_CHARS * len(run))
        got = [g.strip() for g in got]
        scores = log_likelihood(net, ends, end_logits, follow_ids) if len(follow_ids) else np.zeros(candidates)
        original = " ".join(base[start:end].split())
        ranked, seen = [], set()
        for lane in np.argsort(-scores, kind="stable"):
            text = got[lane]
            if ok[lane] and "*" not in text and text not in seen and len(bar_spans("K:C\n" + text)) == len(run):
                seen.add(text)
                ranked.append(text)
        fresh = [t for t in ranked if " ".join(t.split()) != original] or ranked
        if not fresh:
            raise CharrnnError(f"no usable candidate for bars {run[0]}-{run[-1]} in {candidates} tries; "
                               "try again or with more candidates")
        for v in range(n):
            new = fresh[min(v, len(fresh) - 1)]
            a, b = first + shifts[v], last + shifts[v]
            texts[v] = texts[v][:a] + new + texts[v][b:]
            shifts[v] += len(new) - (b - a)
    return [Tune(t) for t in texts]


def _prepare(model, abc, header, temperature, top_k, top_p, random_seed):
    check_sampling(temperature, top_k, top_p, random_seed)
    if not abc or not abc.strip():
        raise CharrnnError("no tune given (abc is empty)")
    abc = with_header(abc, None, **header)
    model.vocab.encode(abc.replace("*", ""), where="tune")
    return abc


def vary(model, abc, bars, n=1, candidates=8, temperature=1.0, top_k=None, top_p=None, random_seed=None,
         **header):
    """n new versions of the tune (best first) with the chosen bars (1-based) written anew:
    `candidates` samples after the text before them, ranked by the likelihood of what follows."""
    if isinstance(bars, (int, np.integer)):
        bars = [bars]
    if not bars:
        raise CharrnnError("choose at least one bar to vary")
    abc = _prepare(model, abc, header, temperature, top_k, top_p, random_seed)
    sampling = dict(temperature=temperature, top_k=top_k, top_p=top_p)
    return _resample_bars(model, abc, list(bars), n, max(candidates, n), np.random.default_rng(random_seed),
                          sampling, stop_at_wildcard=False)


def fill(model, abc, n=1, candidates=8, temperature=1.0, top_k=None, top_p=None, random_seed=None,
         **header):
    """n versions of the tune with each bar written as `*` filled in, as `vary` does."""
    abc = _prepare(model, abc, header, temperature, top_k, top_p, random_seed)
    wild = [i + 1 for i, (s, e) in enumerate(bar_spans(abc)) if abc[s:e].strip() == "*"]
    if not wild:
        raise CharrnnError("no bars written as * to fill (write a bar as | * |)")
    sampling = dict(temperature=temperature, top_k=top_k, top_p=top_p)
    return _resample_bars(model, abc, wild, n, max(candidates, n), np.random.default_rng(random_seed),
                          sampling, stop_at_wildcard=True)
