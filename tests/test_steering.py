"""Steering (charrnn.steering): header controls, bars as written, continue / vary / fill on a tiny model."""
import pytest

import charrnn
from charrnn.errors import CharrnnError
from charrnn.abc.bars import bar_spans
from charrnn.abc.header import set_field
from charrnn.steering import with_header

DECORATED = ("X:1\nT:Test\nM:6/8\nL:1/8\nK:D\n"
             "A|DFA dfa|gfe dcB|\"G\"AFD DFA|BAG FED|\nDFA dfa|gfe dcB|AFD !trill!EFE|D3 D2:|\n")
TUNE = DECORATED.replace('"G"', "").replace("!trill!", "")  # the tiny model knows neither " nor !


@pytest.fixture(scope="module")
def model(tiny_run):
    return charrnn.load(tiny_run)


def bars_of(abc):
    return [abc[a:b] for a, b in bar_spans(abc)]


def test_bars_as_written_pickup_quotes_and_decorations():
    bars = bars_of(DECORATED)
    assert bars[:3] == ["A", "DFA dfa", "gfe dcB"]
    assert bars[3] == '"G"AFD DFA' and bars[7] == "AFD !trill!EFE" and len(bars) == 9
    assert bars_of("X:1\nK:D\n|:DFA dfa|\\\ngfe dcB:|") == ["DFA dfa", "gfe dcB"]


def test_set_field_replaces_or_places_a_header_line():
    assert set_field("X:1\nT:Old\nK:D\nABc|", "M", "6/8") == "X:1\nT:Old\nM:6/8\nK:D\nABc|"
    assert set_field("X:1\nM:6/8\nK:D\nABc|", "T", "New") == "X:1\nT:New\nM:6/8\nK:D\nABc|"
    assert set_field("X:1\nT:A\nK:D\nT:Part B|", "T", "B") == "X:1\nT:B\nK:D\nT:Part B|"  # header only
    assert set_field("ABc|", "K", "D") == "K:D\nABc|"


def test_header_controls_build_replace_and_check():
    built = with_header("", type="jig", meter="6/8", key="D", title="New")
    assert built == "X:1\nT:New\nR:jig\nM:6/8\nL:1/8\nK:D\n"
    assert with_header("") == "X:1\n"  # nothing given: the model writes the header
    assert with_header("|:DFA dfa|", key="Ador", title="T").endswith("K:Ador\n|:DFA dfa|")
    assert with_header(TUNE, key="G", type="jig").startswith("X:1\nT:Test\nM:6/8\nL:1/8\nR:jig\nK:G\n")
    with pytest.raises(CharrnnError, match="meter '7': expected a meter"):
        with_header("", meter="7")
    with pytest.raises(CharrnnError, match="opening bars need a key"):
        with_header("|:DFA dfa|")
    with pytest.raises(CharrnnError, match="key 'H#': expected a key"):
        with_header("", key="H#")


def test_continue_keeps_the_text_and_repeats_with_a_seed(model):
    start = "X:1\nT:Test\nM:6/8\nL:1/8\nK:D\n|:DF"
    tunes = model.continue_tune(start, n=2, random_seed=3, max_new_chars=300)
    assert len(tunes) == 2 and all(t.abc.startswith(start) for t in tunes)
    again = model.continue_tune(start, n=2, random_seed=3, max_new_chars=300)
    assert [t.abc for t in again] == [t.abc for t in tunes]
    made = model.continue_tune("", meter="6/8", key="D", type="reel", random_seed=1, max_new_chars=200)[0]
    assert made.abc.startswith("X:1\nT:") and "\nR:reel\nM:6/8\nL:1/8\nK:D\n" in made.abc


def test_sampling_checks_are_generates(model):
    for kwargs, message in [({"temperature": 0}, "temperature must be"), ({"top_p": 1.5}, "top_p"),
                            ({"top_k": 0}, "top_k"), ({"random_seed": -1}, "random_seed")]:
        with pytest.raises(CharrnnError, match=message):
            model.continue_tune(TUNE, **kwargs)
        with pytest.raises(CharrnnError, match=message):
            model.vary(TUNE, [2], **kwargs)
    with pytest.raises(CharrnnError, match="not in the model's vocabulary: '\u2603'"):
        model.continue_tune(TUNE + "\u2603")


def test_vary_rewrites_only_the_chosen_bars(model):
    tunes = model.vary(TUNE, bars=[3, 4], n=3, candidates=16, random_seed=5)
    assert len(tunes) == 3
    before = bars_of(TUNE)
    for tune in tunes:
        after = bars_of(tune.abc)
        assert len(after) == len(before)
        assert after[:2] == before[:2] and after[4:] == before[4:]
        assert tune.abc.startswith(TUNE[:TUNE.index("gfe")])
    assert bars_of(tunes[0].abc)[2:4] != before[2:4]
    assert [t.abc for t in model.vary(TUNE, bars=[3, 4], n=3, candidates=16, random_seed=5)] == [t.abc for t in tunes]


def test_vary_errors(model):
    with pytest.raises(CharrnnError, match=r"bars \[10\] out of range: the tune has bars 1-9"):
        model.vary(TUNE, bars=[10])
    with pytest.raises(CharrnnError, match="at least one bar"):
        model.vary(TUNE, bars=[])
    with pytest.raises(CharrnnError, match="no bars"):
        model.vary("X:1\nK:D\n", bars=[1])


def test_fill_replaces_every_wildcard_bar(model):
    holes = TUNE.replace("gfe dcB|\"G\"", "*|\"G\"", 1).replace("BAG FED", "*")
    tune = model.fill(holes, candidates=16, random_seed=2)[0]
    assert "*" not in tune.abc and len(bars_of(tune.abc)) == len(bars_of(TUNE))
    assert bars_of(tune.abc)[3] == "AFD DFA"
    with pytest.raises(CharrnnError, match=r"no bars written as \*"):
        model.fill(TUNE)


def test_titles_may_hold_letters_the_model_never_saw(model):
    """Irish titles: the network reads the nearest text it knows, and every tune keeps its title
    as written (continue, vary, fill and generate alike)."""
    title = "Ríl an Bhóthair \u2603"
    assert "í" not in model.vocab.char_to_idx and "\u2603" not in model.vocab.char_to_idx
    made = model.continue_tune("", title=title, meter="6/8", key="D", random_seed=1, max_new_chars=200)[0]
    assert made.title == title
    tune = TUNE.replace("T:", f"T:{title}\nT:", 1) if "T:" in TUNE else TUNE
    assert model.vary(tune, [2], random_seed=2)[0].title == title
    assert charrnn.generate(title=title, key="D", random_seed=3, max_chars=300, model=model)[0].title == title
    with pytest.raises(CharrnnError, match="'\u2603'"):  # in the music it is still an error
        model.continue_tune(TUNE + "\u2603")
