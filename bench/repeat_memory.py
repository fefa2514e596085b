"""Does the model remember that a repeat is open? P(':') at the last barline of a part.

    python bench/repeat_memory.py [--model RUN_DIR] [--data data/abc]

A part that opens with `|:` must close with `:|`: music21 will not play a tune whose part
opens with `|:` and ends with `|]` ("badly formed repeats"). That was the commonest reason a
sampled tune failed the validity test of `bench/quality.py` until the corpus left out the
repeat starts the notation implies (charrnn.abc.repeats); open repeats are rare in it now, so this
bench mostly shows whether the model could have learned the bit. For every end-of-part barline
(`:|`, `::`, `|]`, `||`) in the held-out human tunes, this reads the model's probability that
the character there is ':' (how `:|` starts), given the tune so far from a zero state.
It splits those barlines by whether a `|:` repeat is open there, and by what the human wrote.
A model that tracks the open repeat gives ':' about as much probability as humans close open
repeats with ':|' (their rate is printed beside it), and more than where no repeat is open,
even among barlines where the human wrote ':|' in both cases. It also counts tunes whose repeat signs
leave a `|:` unclosed, in the training tunes and in `n` tunes sampled at `temperature`.
Prints one JSON line.
"""
import argparse
import json

import numpy as np

import charrnn
from charrnn.abc.bars import bar_lines, ends_repeat, is_double, starts_repeat
from charrnn.corpus import load_corpus
from charrnn.nn.sampling import softmax

def part_ends(abc):
    """(position, barline, repeat_open) for each barline that ends a part in one tune's text:
    a repeat end (`:|`, `::`) or a double bar (`||`, `|]`), read with charrnn's bar-line lexer."""
    found, open_repeat = [], False
    for start, _, mark in bar_lines(abc):
        if not (starts_repeat(mark) or ends_repeat(mark) or is_double(mark)):
            continue  # a plain bar line
        if ends_repeat(mark) or is_double(mark):
            found.append((start, mark, open_repeat))
        # music21's reading: '::' closes one repeat and opens the next.
        open_repeat = starts_repeat(mark) or (open_repeat and is_double(mark) and not ends_repeat(mark))
    return found


def leaves_repeat_open(abc):
    """True when the tune's last repeat sign is an unclosed '|:' (or '::')."""
    marks = [mark for _, _, mark in bar_lines(abc) if starts_repeat(mark) or ends_repeat(mark)]
    return bool(marks) and starts_repeat(marks[-1])


def colon_probabilities(model, tunes):
    """For each tune, P(next char is ':') at every position: a list of (len(tune),) arrays."""
    ids = [model.vocab.encode(t) for t in tunes]
    longest = max(len(x) for x in ids)
    padded = np.zeros((len(ids), longest), np.int32)  # (tunes, chars); padding is never read
    for row, x in zip(padded, ids):
        row[: len(x)] = x
    colon = model.vocab.char_to_idx[":"]
    state = model.net.initial_state(len(ids))
    p = np.ones((len(ids), longest), np.float32)  # p[:, 0]: nothing predicts the first char
    for t in range(longest - 1):
        p[:, t + 1] = softmax(model.net.step(padded[:, t], state))[:, colon]
    return [row[: len(x)] for row, x in zip(p, ids)]


def measure(model_dir=None, data="data/abc", n=200, temperature=1.0, random_seed=0):
    model = charrnn.load(model_dir)
    corpus = load_corpus(data)
    rows = []  # (repeat open?, human wrote ':|' or '::'?, model's P(':'))
    for tune, probs in zip(corpus.valid_tunes, colon_probabilities(model, corpus.valid_tunes)):
        rows += [(open_repeat, mark[0] == ":", float(probs[pos])) for pos, mark, open_repeat in part_ends(tune)]
    rows = np.array(rows)

    def mean_p(*conditions):
        keep = np.logical_and.reduce(conditions)
        return round(float(rows[keep, 2].mean()), 3)

    is_open, human_colon = rows[:, 0] == 1, rows[:, 1] == 1
    sampled = [t.abc for t in model.generate(n=n, temperature=temperature, random_seed=random_seed)]
    return {
        "model": str(model.folder),
        "part_ends_repeat_open": int(is_open.sum()), "part_ends_repeat_closed": int((~is_open).sum()),
        "human_colon_rate_repeat_open": round(float(human_colon[is_open].mean()), 3),
        "p_colon_repeat_open": mean_p(is_open),
        "human_colon_rate_repeat_closed": round(float(human_colon[~is_open].mean()), 3),
        "p_colon_repeat_closed": mean_p(~is_open),
        "p_colon_where_human_colon_repeat_open": mean_p(is_open, human_colon),
        "p_colon_where_human_colon_repeat_closed": mean_p(~is_open, human_colon),
        "train_tunes_leaving_repeat_open": round(np.mean([leaves_repeat_open(t) for t in corpus.train_tunes]), 4),
        "sampled_tunes_leaving_repeat_open": round(np.mean([leaves_repeat_open(t) for t in sampled]), 4),
        "sampled": n, "temperature": temperature,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="run folder (default: the pretrained model)")
    ap.add_argument("--data", default="data/abc")
    ap.add_argument("-n", type=int, default=200, help="tunes to sample (default 200)")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--random-seed", type=int, default=0)
    a = ap.parse_args(argv)
    print(json.dumps(measure(a.model, a.data, a.n, a.temperature, a.random_seed)))


if __name__ == "__main__":
    main()
