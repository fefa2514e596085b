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
import unicodedata

import numpy as np

from .abc.bars import bar_spans, bars_so_far, mask
from .abc.header import with_header
from .abc.plan import parse_structure
from .checks import MAX_LANES, check_sampling, check_whole, drafts_for
from .errors import CharrnnError
from .form.sampler import FormSampler
from .nn.sampling import feed, log_likelihood, sample_lanes, sample_until, tune_limit
from .tune import Tune

BAR_CHARS = 48  # most characters one sampled bar may take before the candidate is dropped
SCORE_CHARS = 400  # most characters of the following text that rank a candidate


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

_FIELD_OPENS = re.compile(r"\[[A-Za-z]$")  # `[V` then `:`: an inline field, not yet closed


def bar_verdict(text, ch, bars):
    """Sampling a run of `bars` bars, char by char: 1 when `ch` starts the bar line after the last
    of them (stop before it), -1 when it starts a bar line after an empty bar (give up on this
    lane), 0 to take it in. The bars are read by charrnn.abc.bars; a `:` or `|` outside quoted text,
    decorations and fields starts a bar line."""
    if ch not in "|:" or mask(text + ch)[-1] == " " or (ch == ":" and _FIELD_OPENS.search(text)):
        return 0
    done, open_bar = bars_so_far(text)
    if not open_bar:  # still the bar line (`||`, `:|`, `|` ending a line and `|` starting the next)
        return 0 if done else -1
    return 1 if done == bars else 0


def _sample_title(model, rng, temperature, top_k, top_p, cancelled=None):
    net, vocab = model.net, model.vocab
    state = model.start.take(1, rng)
    logits = feed(net, state, "X:1\nT:", vocab, 1)
    texts, ok, _, _ = sample_until(net, vocab, state, logits, lambda lane, ch, text: ch == "\n", rng,
                                    temperature, top_k, top_p, limit=60, cancelled=cancelled)
    title = texts[0].strip().replace("%", "")
    return title if ok[0] else title[:40]


_TITLE_LINE = re.compile(r"^T:.*$", re.M)


def readable_titles(abc, vocab):
    """(abc with the characters of its T: lines that the vocabulary lacks read as their plain
    letter (í -> i) or a space, [(line as read, line as written)]): a title may hold any letter;
    the network reads the nearest text it knows, and put_titles_back restores the title."""
    pairs = []

    def readable(m):
        line = m.group()
        plain = "".join(c if c in vocab.char_to_idx else next(
            (b for b in unicodedata.normalize("NFKD", c) if b in vocab.char_to_idx), " ") for c in line)
        if plain != line:
            pairs.append((plain, line))
        return plain

    return _TITLE_LINE.sub(readable, abc), pairs


def put_titles_back(text, pairs):
    for plain, line in pairs:
        text = text.replace(plain, line, 1)
    return text


# ----------------------------------------------------------------------------------- public API

def continue_tune(model, abc="", n=1, temperature=1.0, top_k=None, top_p=None, random_seed=None,
                  max_new_chars=1500, form=True, structure=None, drafts=None, cancelled=None, **header):
    """n tunes that keep `abc` (a header, or a header and bars, possibly ending mid-bar) and
    write on to the tune's end; header controls (title/type/meter/length/key) set fields first.
    `form=True` writes with the model's form.json when it has one (bars of the tune, the opening's
    included, come back; parts close on the tonic; each tune draws a plan of parts), as generate
    does; `structure` ("AABB:8", charrnn.abc.plan) is the plan, the opening's parts and bars counted;
    `drafts` > 1 keeps the one of that many drafts per tune the model's critic finds most human
    (None: the model's default_drafts).
    `cancelled` (a function of no arguments, asked between steps; True ends the work with
    charrnn.errors.Stopped): the composer's way to stop a request nobody waits for. vary and fill
    take it too."""
    check_sampling(temperature, top_k, top_p, random_seed)
    plan = None if structure is None else parse_structure(structure)
    check_whole("n", n, 1, MAX_LANES)
    drafts = drafts_for(model, drafts)
    critic = model.critic() if drafts > 1 else None
    n, tunes = n * drafts, n  # lanes k * drafts ... (k + 1) * drafts - 1 are tune k's drafts
    rng = np.random.default_rng(random_seed)
    prefix = with_header(abc, lambda: _sample_title(model, rng, temperature, top_k, top_p, cancelled), **header)
    prefix = re.sub(r"\n\s*\n[\s\n]*$", "\n", prefix)  # a blank line would end the tune
    prefix, titles = readable_titles(prefix, model.vocab)
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
    hook = None if form is None and plan is None else FormSampler(form, model.vocab, prefix, n, rng, structure=plan)
    out, length, _ = sample_lanes(net=model.net, state=state, logits=logits, prime=prefix,
                                   max_chars=limit, rng=rng, vocab=model.vocab,
                                   temperature=temperature, top_k=top_k, top_p=top_p, hook=hook,
                                   cancelled=cancelled)
    texts = [(prefix + model.vocab.decode(out[i, :length[i]])).rstrip("\n") + "\n" for i in range(n)]
    if critic is not None:
        texts = critic.best_drafts(texts, drafts)
    return [Tune(put_titles_back(t, titles)) for t in texts[:tunes]]


def _resample_bars(model, abc, numbers, n, candidates, rng, sampling, stop_at_wildcard, cancelled=None):
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

        def stop(lane, ch, text):
            if ch == "\n" and text.endswith("\n"):  # a blank line: the tune ended too soon
                return -1
            return bar_verdict(text, ch, len(run))

        got, ok, ends, end_logits = sample_until(net, vocab, state, logits, stop, rng, **sampling,
                                                  limit=BAR_CHARS * len(run), cancelled=cancelled)
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
    abc, titles = readable_titles(with_header(abc, None, **header), model.vocab)
    model.vocab.encode(abc.replace("*", ""), where="tune")
    return abc, titles


def vary(model, abc, bars, n=1, candidates=8, temperature=1.0, top_k=None, top_p=None, random_seed=None,
         cancelled=None, **header):
    """n new versions of the tune (best first) with the chosen bars (1-based) written anew:
    `candidates` samples after the text before them, ranked by the likelihood of what follows."""
    if isinstance(bars, (int, np.integer)):
        bars = [bars]
    if not bars:
        raise CharrnnError("choose at least one bar to vary")
    abc, titles = _prepare(model, abc, header, temperature, top_k, top_p, random_seed)
    sampling = dict(temperature=temperature, top_k=top_k, top_p=top_p)
    tunes = _resample_bars(model, abc, list(bars), n, max(candidates, n), np.random.default_rng(random_seed),
                          sampling, stop_at_wildcard=False, cancelled=cancelled)
    return [Tune(put_titles_back(t.abc, titles)) for t in tunes]


def fill(model, abc, n=1, candidates=8, temperature=1.0, top_k=None, top_p=None, random_seed=None,
         cancelled=None, **header):
    """n versions of the tune with each bar written as `*` filled in, as `vary` does."""
    abc, titles = _prepare(model, abc, header, temperature, top_k, top_p, random_seed)
    wild = [i + 1 for i, (s, e) in enumerate(bar_spans(abc)) if abc[s:e].strip() == "*"]
    if not wild:
        raise CharrnnError("no bars written as * to fill (write a bar as | * |)")
    sampling = dict(temperature=temperature, top_k=top_k, top_p=top_p)
    tunes = _resample_bars(model, abc, wild, n, max(candidates, n), np.random.default_rng(random_seed),
                          sampling, stop_at_wildcard=True, cancelled=cancelled)
    return [Tune(put_titles_back(t.abc, titles)) for t in tunes]
