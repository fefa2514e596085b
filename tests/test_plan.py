"""Planned form: a tune's parts x bars read from its text, the structure notation, the corpus's
plans by meter and type, and the sampler holding tunes to a plan."""
import dataclasses

import numpy as np
import pytest

from charrnn.abc.plan import parse_structure, plan_so_far, structure_text, tune_plan
from charrnn.cli import main
from charrnn.errors import CharrnnError
from charrnn.form.config import FormConfig
from charrnn.form.plans import count_plans, draw_plan, read_plans
from charrnn.generator import load

HEAD = "X:1\nT:t\nM:6/8\nL:1/8\nR:jig\nK:D\n"
A = "|:A|d2e fed|cBA B2c|d2e fed|cBA d2:|\n"  # a pickup, then 4 bars, repeated
B = "|:f|a2b agf|e2f gfe|a2b agf|1 efe d2:|2 efe dcB||\n"  # 4 bars with 1st and 2nd endings


@pytest.fixture(scope="module")
def shipped():
    return load()


def test_parts_are_counted_as_musicians_count_them():
    assert tune_plan(HEAD + A + B) == ((4, True), (4, True))  # no pickup; the 2nd ending stands for the 1st
    assert tune_plan(HEAD + "d2e fed|cBA B2c||d2e fed|cBA d3|]") == ((2, False), (2, False))
    assert tune_plan(HEAD + "A|d2e fed|cBA B2c|d2e fed|cBA d2") == ((4, False),)  # an unclosed tune: one part
    # A B part that begins with a rest is a pickup too; in M:none nothing is.
    assert tune_plan(HEAD + A + "||z|a2b agf|e2f gfe|]") == ((4, True), (2, False))
    assert tune_plan(HEAD.replace("6/8", "none") + A) == ((5, True),)
    assert tune_plan("X:1\nT:t\n") == ()


def test_a_tune_being_written_reads_its_place_in_the_plan():
    assert plan_so_far("X:1\nT:") == (0, -1, False, False, None)  # -1: its first bar (a pickup?) to come
    closed, bars, in_music, has_note, begins = plan_so_far(HEAD + A + "|:f|a2b ag")
    assert (closed, bars, in_music, has_note) == (1, 0, True, True)  # the pickup f is not a bar
    assert (HEAD + A + "|:f|a2b ag")[begins:] == "a2b ag"
    assert plan_so_far(HEAD + A + "\n")[:4] == (1, -1, False, False)


@pytest.mark.parametrize("text, plan", [
    ("AABB:8", ((8, True), (8, True))), ("AB:8,16", ((8, False), (16, False))),
    ("AAB:4,8", ((4, True), (8, False))), ("AABB", ((None, True), (None, True))), (" A A B B : 8 ", ((8, True), (8, True))),
])
def test_structure_notation_reads_and_writes(text, plan):
    assert parse_structure(text) == plan
    assert parse_structure(structure_text(plan)) == plan


@pytest.mark.parametrize("bad, why", [
    ("", "expected parts as letters"), ("aabb", "expected parts as letters"), ("ABA", "in order"),
    ("AAAB", "in order"), ("BA", "in order"), ("AABB:8,8,8", "2 parts but 3 bar counts"),
    ("AABB:1", "2 to 32 bars"), ("AB:99", "2 to 32 bars"), ("AABB:x", "after the colon"), ("ABCDEFGHI", "at most 8"),
])
def test_bad_structures_are_named(bad, why):
    with pytest.raises(CharrnnError, match=why):
        parse_structure(bad)


def test_plans_are_counted_by_meter_and_type_and_drawn_by_their_counts():
    slide = HEAD.replace("R:jig", "R:slide") + A + A.replace(":|", "||")
    rows = count_plans([HEAD + A + B] * 3 + [slide, HEAD.replace("M:6/8", "M:C") + A + B, HEAD + A])
    assert rows[0] == ("6/8", "jig", "AABB:4", 3)
    assert ("4/4", "jig", "AABB:4", 1) in rows  # M:C spelt out
    assert len(rows) == 3  # a tune of 4 bars is left out: no tune that short is valid
    table = read_plans(rows)
    rng = np.random.default_rng(0)
    assert draw_plan(table, "6/8", "jig", rng) == ((4, True), (4, True))
    assert draw_plan(table, "6/8", "slide", rng) == ((4, True), (4, False))
    assert {draw_plan(table, "6/8", "reel", rng) for _ in range(40)} == {((4, True), (4, True)), ((4, True), (4, False))}  # its meter's
    assert draw_plan(table, "3/4", "", rng) is not None  # any tune's
    # A given plan keeps its parts; bars it leaves open are drawn (or 8 where no tune shows its parts).
    assert draw_plan(table, "6/8", "jig", rng, parse_structure("AABB")) == ((4, True), (4, True))
    assert draw_plan(table, "6/8", "jig", rng, parse_structure("ABC")) == ((8, False),) * 3
    assert draw_plan((), "6/8", "jig", rng) is None


def test_form_json_keeps_plans_and_names_a_bad_one(tmp_path, shipped):
    form = dataclasses.replace(shipped.form, plans=(("6/8", "jig", "AABB:8", 5),))
    form.save(tmp_path / "form.json")
    assert FormConfig.load(tmp_path / "form.json").plans == form.plans
    text = (tmp_path / "form.json").read_text().replace("AABB:8", "ABBA")
    (tmp_path / "form.json").write_text(text)
    with pytest.raises(CharrnnError, match="form.json.*ABBA"):
        FormConfig.load(tmp_path / "form.json")


def test_tunes_keep_the_plan_they_are_given(shipped):
    for structure in ("AABB:8", "AB:4,6"):
        tunes = shipped.generate(n=20, random_seed=5, structure=structure)
        kept = [structure_text(tune_plan(t.abc)) == structure for t in tunes]
        assert sum(kept) >= 18, [t.abc for t, k in zip(tunes, kept) if not k][:2]
    jigs = shipped.generate(n=10, random_seed=1, structure="AAB", type="jig")
    assert all([r for _, r in tune_plan(t.abc)] == [True, False] for t in jigs)


def test_tunes_draw_plans_like_the_corpus_s(shipped):
    assert shipped.form.plans, "the shipped form.json has the corpus's plans"
    tunes = shipped.generate(n=60, random_seed=2)
    bars = [sum(b for b, _ in tune_plan(t.abc)) for t in tunes]
    assert 13 <= np.mean(bars) <= 20  # human tunes: 16.5 bars (written), 90% at most 24
    assert np.percentile(bars, 90) <= 32
    assert len({structure_text(tune_plan(t.abc)) for t in tunes}) >= 4  # drawn, not one plan for all


def test_continue_tune_counts_the_opening_s_parts(shipped):
    opening = HEAD + A + "|:f|a2b agf|"
    tunes = shipped.continue_tune(opening, n=6, random_seed=3, structure="AABB:4")
    assert all(t.abc.startswith(opening) for t in tunes)
    assert sum(tune_plan(t.abc) == ((4, True), (4, True)) for t in tunes) >= 5


def test_generate_cli_takes_a_structure(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["generate", "-n", "2", "--structure", "AABB:8", "--random-seed", "1", "--out", str(out)]) == 0
    assert all(tune_plan(p.read_text()) == ((8, True), (8, True)) for p in out.glob("tune_*.abc"))
    assert main(["generate", "--structure", "ABA", "--out", str(tmp_path / "x")]) == 2
    assert "structure 'ABA'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_continue_tune_keeps_the_critic_s_best_draft(shipped):
    opening = HEAD + A
    one = shipped.continue_tune(opening, n=3, random_seed=4, structure="AABB:4", drafts=1)
    best = shipped.continue_tune(opening, n=3, random_seed=4, structure="AABB:4", drafts=3)
    assert len(best) == 3 and all(t.abc.startswith(opening) for t in best)
    scores = shipped.critic().human_probability
    assert np.mean(scores([t.abc for t in best])) >= np.mean(scores([t.abc for t in one]))


def test_parts_that_end_alike_are_read_and_written(shipped, tmp_path):
    from charrnn.abc.plan import parts_end_alike

    assert parts_end_alike(HEAD + A + A.replace("|:A|d2e", "|:A|f2e")) is True
    assert parts_end_alike(HEAD + A + B) is False
    assert parts_end_alike(HEAD + A) is None  # one part
    form = dataclasses.replace(shipped.form, part_echo=0.4)
    form.save(tmp_path / "form.json")
    assert FormConfig.load(tmp_path / "form.json").part_echo == 0.4
    with pytest.raises(CharrnnError, match="part_echo"):
        dataclasses.replace(form, part_echo=1.5).array()
    share = {}
    for echo in (0.0, 1.0):
        tunes = shipped.generate(n=24, random_seed=6, structure="AABB:8", form=dataclasses.replace(form, part_echo=echo),
                                 drafts=1)  # the sampler's rule alone, not the critic's choice
        alike = [parts_end_alike(t.abc) for t in tunes]
        share[echo] = sum(a is True for a in alike) / len(tunes)
    assert share[1.0] >= 0.6 and share[1.0] > share[0.0] + 0.2, share  # (0.75 and 0.42 at this seed)
