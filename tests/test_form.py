"""Form: bar starts read from the text, the bar-copy mixture's bits, EM, and the sampler's copies
and cadences."""
import dataclasses
import math

import numpy as np
import pytest

from charrnn.abc.bars import closes_part, last_note_letter, leaves_home
from charrnn.abc.header import tonic_letter
from charrnn.form.bars import PART_END, RUN, bar_starts
from charrnn.errors import CharrnnError
from charrnn.evaluation.measure import analyse_tune
from charrnn.generator import load
from charrnn.abc.bars import repeated_bar_share
from charrnn.form.command import COPY_SCALES, calibrate_copies
from charrnn.form.sampler import lane_hook
from charrnn.form.config import CAP, FormConfig, offer_weights
from charrnn.form.fit import char_log_probs, fit_weights, gain_nats, tune_rows
from charrnn.nn.sampling import sample_tunes
from charrnn.nn.vocab import Vocabulary

TUNE = "X:1\nT:t\nM:4/4\nL:1/8\nK:G\nd|GABc dBAG|GABc d2B2:|\n|:g2 fg a2|GABc dBAG|F2A2 d2B2|]"


def test_bar_starts_cores_places_and_part_ends():
    starts = bar_starts(TUNE)
    body = TUNE.index("d|")
    assert [i - body for i, _, _ in starts] == [2, 12, 26, 35, 45]
    assert [pos for _, pos, _ in starts] == [0, 1, 0, 1, 2]  # the B part starts again at 0
    offers = dict(starts[3][2])
    assert offers[0] == "g2 fg a2" and offers[1] == "GABc d2B2" and offers[PART_END] == "GABc d2B2"
    # '|1', a line continuation or a field do not start a bar
    assert bar_starts("X:1\nK:D\nAB|1 cd :|2 de|]") == []


def test_a_phrase_coming_back_is_offered_in_run_columns():
    """Bar 4 may go on the run bar 3 began (bar 3 repeated bar 1, so bar 4 may repeat bar 2):
    that copy has weights of its own, apart from a lone bar 2 bars back."""
    tune = "X:1\nK:G\n|GABc dBAG|B2G2 A4|GABc dBAG|B2G2 A4|]"
    starts = bar_starts(tune)
    assert starts[2][2] == [(0, "B2G2 A4"), (1, "GABc dBAG")]  # bar 2 repeated nothing
    assert starts[3][2] == [(0, "GABc dBAG"), (1 + RUN, "B2G2 A4"), (2, "GABc dBAG")]


def test_bars_holding_an_ending_or_an_inline_field_are_not_offered():
    """They belong where they stand: a copied `[1` or `[V:2]` breaks the tune's structure."""
    tune = "X:1\nK:G\n|:GABc dBAG|B2 [1 A2 G4:|[V:2] d4 z4|GABc d4|B2G2 A4|GABc dBAG|]"
    offered = {core for _, _, offers in bar_starts(tune) for _, core in offers}
    assert offered == {"GABc dBAG", "GABc d4", "B2G2 A4"}


def test_cadence_retries_choose_how_a_part_ends_not_where(shipped):
    """A closing bar written again must close its part too; without that rule every try that
    ended on a plain bar line let the part run on, and these tunes grew 16% longer."""
    no_copies = tuple(tuple(0.0 for _ in range(17)) for _ in range(12))
    tunes = {tries: sample_tunes(shipped.net, shipped.vocab, "X:", 200, np.random.default_rng(1),
                                 hook=lane_hook(FormConfig(weights=no_copies, cadence_tries=tries), shipped.vocab),
                                 start=shipped.start)
             for tries in (0, 3)}
    assert _tonic_endings(tunes[3]) > _tonic_endings(tunes[0]) + 0.2
    assert np.mean([len(t) for t in tunes[3]]) < 1.1 * np.mean([len(t) for t in tunes[0]])


def test_tonic_and_last_note_letters():
    assert tonic_letter("X:1\nK:Ador\n") == "A" and tonic_letter("X:1\nK:F#m\n") == "F"
    assert tonic_letter("X:1\nK:none\n") is None
    assert last_note_letter('GA"Em"B{c}d !trill!e2 [K:D]') == "E"
    assert closes_part("ab c2 :|") and closes_part("ab|]") and not closes_part("ab |")
    assert leaves_home("ABc d2:|", "G") and not leaves_home("ABc g2:|", "G")
    assert not leaves_home("|1 ABc d2:|", "G")  # a first ending leads back: never held to the tonic


class UniformNet:
    """A network that gives every character the same probability (so bits can be worked by hand)."""

    def __init__(self, vocab_size):
        self.v = vocab_size

    def initial_state(self, lanes):
        return [[np.zeros((lanes, 2), np.float32)]]  # one layer's h

    def step(self, ids, state):
        return np.zeros((len(ids), self.v), np.float32)


def test_mixture_bits_worked_by_hand():
    tune = "X:1\nK:G\nd|GABc|GABc|]"
    vocab = Vocabulary.from_text(tune + "\n")
    net, v = UniformNet(len(vocab)), len(vocab)
    rows, bits, same, chars = tune_rows(net, vocab, [tune], lanes=1)
    assert chars == len(tune) + 1 and bits == same == pytest.approx(chars * math.log2(v))
    # bar starts: 'G' after 'd|' (nothing to copy), 'G' after 'GABc|' (may copy 'GABc', 1 back)
    assert [(r[0], r[3]) for r in rows] == [(0, []), (1, [0])]
    w = np.zeros((12, 17))
    w[1, 0] = 0.25
    note_share = sum(c in "ABCDEFGabcdefgzx^=_({\"~." for c in vocab.chars) / v
    model = v ** -4  # 'GABc' by the network
    copy = note_share  # the copy replaces the first note; nothing of the bar is left to the network
    expected = math.log((0.75 * model + 0.25 * copy) / model)
    assert gain_nats(w, rows) == pytest.approx(expected)


def test_em_recovers_a_known_copy_rate():
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(2000):
        if rng.random() < 0.3:  # a copy: the network alone finds the bar unlikely
            rows.append((0, math.log(0.001), [(3, math.log(0.5))], [3]))
        else:
            rows.append((0, math.log(0.2), [], [3]))
    w = fit_weights(rows, prior=0.0)
    assert w[0, 3] == pytest.approx(0.3, abs=0.03)


def test_form_config_round_trip_and_bad_files(tmp_path):
    w = np.full((12, 17), 0.01)
    w[0] = 0.04
    form = FormConfig(weights=tuple(map(tuple, w.tolist())), cadence_tries=1, fitted_on="x", copy_scale=1.5)
    form.save(tmp_path / "form.json")
    assert FormConfig.load(tmp_path / "form.json") == form
    # The sampler's weights: the fitted ones, those that start a run times copy_scale. 17 columns
    # (fitted before phrase runs had columns of their own) serve both kinds of offer.
    sampled = form.sampling_array()
    assert np.allclose(sampled, np.hstack([1.5 * w, w]))
    # What one bar is offered is capped at CAP together (17 x 0.06 -> 0.8), below it kept as it is.
    assert np.isclose(offer_weights(sampled, 0, list(range(17))).sum(), CAP)
    assert np.allclose(offer_weights(sampled, 1, list(range(17))), 0.015)
    assert np.array_equal(FormConfig(weights=form.weights).sampling_array(), np.hstack([w, w]))
    (tmp_path / "bad.json").write_text('{"weights": [[0.9, 0.9]]}')
    with pytest.raises(CharrnnError, match="bad.json"):
        FormConfig.load(tmp_path / "bad.json")


def test_phrase_repetition_measured_on_notes_and_durations():
    abc = "X:1\nT:t\nM:4/4\nL:1/8\nK:G\nGABc dBAG|GABc d2B2|G2AB c2BA|E2E2 G4|GABc dBAG|F2F2 A4|GABc dBAG|G8|]\n"
    r = analyse_tune(abc)
    # bars 1, 5, 7 are the same notes and durations; bar 3 has the same notes, other durations
    assert (r["bars_measured"], r["bars_repeated"]) == (8, 3)
    assert (r["bars_plus4"], r["bars_plus4_equal"]) == (4, 1)
    assert r["ends_on_tonic"] is True


@pytest.fixture(scope="module")
def shipped():
    return load()


def _copied_bar_share(texts):
    copied = total = 0
    for t in texts:
        for _, _, offers in bar_starts(t):
            total += 1
        cores = [t[i:] for i, _, _ in bar_starts(t)]
        copied += sum(any(c.startswith(core) for _, core in offers) for (i, _, offers), c in zip(bar_starts(t), cores))
    return copied / max(total, 1)


def _tonic_endings(texts):
    return np.mean([last_note_letter(t.split("K:", 1)[-1].split("\n", 1)[-1]) == tonic_letter(t) for t in texts])


def test_repeated_bar_share_reads_notes_from_the_text():
    # Bars 1, 5 and 7 repeat (a chord symbol and a slur do not make a bar new); bars 2-4 and 6 do not.
    abc = ('X:1\nT:t\nM:4/4\nL:1/8\nK:G\n"G"GABc dBAG|GABc d2B2|G2AB c2BA|E2E2 G4|(GA)Bc dBAG|'
           'F2F2 A4|GABc dBAG|G8|]\n')
    assert repeated_bar_share([abc]) == pytest.approx(3 / 7)  # G8 has fewer than 3 notes: not a bar
    assert repeated_bar_share([abc, "X:1\nK:G\nABcd|efga|\n"]) == pytest.approx(3 / 9)
    assert repeated_bar_share([]) == 0.0


def test_copy_scale_is_calibrated_to_the_human_repetition(shipped):
    w = np.zeros((12, 17))
    w[:, 3] = 0.1  # the bar 4 back, rarely
    form = FormConfig(weights=tuple(map(tuple, w.tolist())), cadence_tries=0)
    scale, tried = calibrate_copies(shipped, form, target=0.0, n=12)
    assert (scale, len(tried)) == (1.0, 1)  # already there: the fitted weights as they are
    scale, tried = calibrate_copies(shipped, form, target=0.3, n=12)
    assert [s for s, _ in tried] == list(COPY_SCALES[:len(tried)]) and scale > 1.0
    assert dict(tried)[scale] > tried[0][1]  # more copies than the fitted weights give
    closest = min(abs(share - 0.3) for _, share in tried)
    assert scale == next(s for s, share in tried if abs(share - 0.3) <= closest + 0.01)


def test_sampler_copies_bars_and_comes_home(shipped):
    w = np.zeros((12, 17))
    w[:, 3] = 0.5  # copy the bar 4 back half the time
    form = FormConfig(weights=tuple(map(tuple, w.tolist())), cadence_tries=3)
    plain = sample_tunes(shipped.net, shipped.vocab, "X:", 24, np.random.default_rng(1))
    formed = sample_tunes(shipped.net, shipped.vocab, "X:", 24, np.random.default_rng(1), hook=lane_hook(form, shipped.vocab))
    assert _copied_bar_share(formed) > _copied_bar_share(plain) + 0.2
    assert _tonic_endings(formed) > _tonic_endings(plain) + 0.2
    # without form, the sampler writes exactly what it wrote before form existed (same draws)
    again = sample_tunes(shipped.net, shipped.vocab, "X:", 24, np.random.default_rng(1))
    assert again == plain


def test_char_log_probs_cover_every_lane_but_its_first_character():
    vocab = Vocabulary.from_text("abc")
    lp, lp_start, covered, network = char_log_probs(UniformNet(3), vocab, "abcabcabca", lanes=3)
    assert np.array_equal(lp, network)  # no cache: the network's own
    assert covered.sum() == 9 and not covered[0]  # (10 - 1) // 3 = 3 per lane; only the first has no past
    assert np.allclose(lp[covered], -math.log(3))


def test_an_opening_s_bars_can_come_back(shipped):
    """A composer's opening is part of the tune: its bars are on offer to the bars written after it."""
    from charrnn.form.sampler import FormSampler

    w = np.zeros((12, 17))
    w[:, 0] = 0.79  # copy the bar just before, most of the time
    form = FormConfig(weights=tuple(map(tuple, w.tolist())), cadence_tries=0)
    opening = "X:1\nT:t\nM:6/8\nL:1/8\nK:D\n|:A|d2e fed|cBA B2A|"
    hook = FormSampler(form, shipped.vocab, opening, 2, np.random.default_rng(0))
    assert len(hook.cursor.bars[0].starts) == 3  # the pickup 'A', 'd2e fed' and 'cBA B2A' have started
    tunes = shipped.continue_tune(opening, n=6, random_seed=0, form=form, drafts=1)
    after = [t.abc[len(opening):] for t in tunes]
    assert sum(a.startswith("cBA B2A") for a in after) >= 3


def test_form_fit_command_calibrates_copies_and_can_add_a_cache(tmp_path, tiny_run, tiny_corpus, capsys):
    import shutil

    from charrnn.cli import main

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    (run / "form.json").write_text('{"weights": [[0.5]]}')  # unreadable: the fit replaces it
    assert main(["form", "fit", "--model", str(run), "--data", str(tiny_corpus)]) == 0
    out = capsys.readouterr().out
    form = FormConfig.load(run / "form.json")
    assert form.copy_scale in COPY_SCALES and form.cache() is None
    assert "copy_scale 1:" in out and f"-> {form.copy_scale:g}" in out
    assert main(["form", "fit", "--model", str(run), "--data", str(tiny_corpus), "--cache", "--copy-scale", "1.25"]) == 0
    form = FormConfig.load(run / "form.json")
    assert form.copy_scale == 1.25 and form.cache() is not None and "character cache: theta" in capsys.readouterr().out
    assert main(["form", "fit", "--model", str(run), "--data", str(tiny_corpus), "--copy-scale", "0"]) == 2


def test_copies_do_not_make_loops(shipped):
    """Copying the bar just before, most of the time: without the loop rules whole tunes go round
    one bar; with them a bar written LOOP_COUNT times is rarely copied again and a run of repeating
    bars stops at max_run."""
    from collections import Counter

    from charrnn.form.bars import bar_starts
    from charrnn.form.config import LOOP_COUNT
    from charrnn.form.rules import repeat_run

    w = np.zeros((12, 34))
    w[:, [0, RUN]] = 0.79  # the bar just before, whether or not it repeated one itself
    base = FormConfig(weights=tuple(map(tuple, w.tolist())), cadence_tries=0, notation_tries=0)

    def loops(form):
        tunes = sample_tunes(shipped.net, shipped.vocab, "X:", 24, np.random.default_rng(2),
                             hook=lane_hook(form, shipped.vocab), start=shipped.start, max_chars=500)
        cores = []
        for abc in tunes:
            starts = [i for i, _, _ in bar_starts(abc)] + [len(abc)]
            cores.append([abc[a:b].split("|")[0].strip() for a, b in zip(starts, starts[1:])])
        most = [max(Counter(c).values(), default=0) for c in cores]
        runs = [max((repeat_run(c[:k]) for k in range(len(c) + 1)), default=0) for c in cores]
        return np.mean([m > LOOP_COUNT for m in most]), max(runs)

    free = loops(dataclasses.replace(base, loop_weight=1.0, max_run=0))
    held = loops(dataclasses.replace(base, loop_weight=0.0, max_run=3))
    assert free[0] > 0.5 and held[0] < free[0] / 3
    assert free[1] > 6 and held[1] <= 5  # a run may grow by the bars the network writes again itself


def test_a_lane_sent_back_too_often_writes_on():
    """A rule that refuses every bar would hold a lane (and its whole batch) until the steps run
    out; after MAX_REWINDS times back the lane writes on without retries and ends its tune."""
    from charrnn.form.rules import Rule
    from charrnn.form.sampler import MAX_REWINDS, FormSampler

    class RefusesEveryBar(Rule):
        passes = 1000

        def refuses_bar(self, lane, lanes, upto):
            return lanes.has_bar(lane)  # every bar after the first is written again

    class ZeroStart:
        def take(self, n, rng=None):
            return [[np.zeros((n, 2), np.float32)]]

    vocab = Vocabulary.from_text("X:1\nK:G\nAB|")

    class NoNewlines(UniformNet):  # so no lane ends its tune before its characters run out
        def step(self, ids, state):
            logits = super().step(ids, state)
            logits[:, vocab.char_to_idx["\n"]] = -50
            return logits

    hooks = []

    def hook(prime, n, rng):
        hooks.append(FormSampler(None, vocab, prime, n, rng))
        hooks[-1].rules.append(RefusesEveryBar())
        return hooks[-1]

    prime = "X:1\nK:G\n"
    tunes = sample_tunes(NoNewlines(len(vocab)), vocab, prime, 8, np.random.default_rng(0), hook=hook,
                         start=ZeroStart(), max_chars=400)
    assert list(hooks[0].rewound) == [MAX_REWINDS] * 8  # every lane was sent back that often, no more
    assert [len(t) for t in tunes] == [400] * 8  # and then wrote on to the most characters a tune may have
