"""The critic: text features that agree with the report's music21 measures, critic.json scored in
NumPy as scikit-learn scores it, drafts chosen by it, and `charrnn critic fit` end to end."""
import json
import shutil

import numpy as np
import pytest

import charrnn
from charrnn import cli
from charrnn.checks import MAX_DRAFTS, check_generate
from charrnn.corpus import HALVES
from charrnn.critic import CRITIC_FILE, FEATURE_NAMES, Critic, feature_vector, text_record
from charrnn.critic.fit import _logistic, _trees, _vectors, fit_critic
from charrnn.critic.scorer import is_sound
from charrnn.errors import CharrnnError
from charrnn.evaluation.evaluate import evaluate, parse_drafts
from charrnn.evaluation.measure import analyse_tune

LOOPED = ("X:1\nT:t\nM:4/4\nL:1/8\nK:D\n|:DFAd fdAF|DFAd fdAF|DFAd fdAF|=c2B2 A4:|\n"
          "|:DFAd fdAF|GABc dcBA|DFAd fdAF|GFED D4:|\n")


def test_text_features_match_the_music21_record_of_a_known_tune():
    text, measured = text_record(LOOPED), analyse_tune(LOOPED)
    for key in ("bars", "parts", "bar_most", "bars_repeated", "bars_plus4_equal", "pitches", "lengths",
                "notes_per_bar", "ends_on_tonic"):
        assert text[key] == measured[key], key
    assert text["outside_key"] == pytest.approx(1 / 56)  # the C natural
    assert feature_vector(text) == pytest.approx(feature_vector(measured))
    assert len(feature_vector(text)) == len(FEATURE_NAMES)


def test_text_features_agree_with_music21_on_real_tunes(tiny_corpus):
    tunes = charrnn.load_corpus(tiny_corpus).train_tunes[:8]
    pairs = [(text_record(abc), analyse_tune(abc)) for abc in tunes]
    assert all(t["parts"] == m["parts"] for t, m in pairs)
    # music21 may count a pickup apart, and an empty bar where a line ends `|` and the next starts `|`.
    assert sum(abs(t["bars"] - m["bars"]) <= 1 for t, m in pairs) >= 7
    # Ties: music21 keeps tied notes apart, the text hears one note; the pitches heard are the same.
    assert all(set(t["pitches"]) == set(m["pitches"]) for t, m in pairs)
    assert sum(t["ends_on_tonic"] == m["ends_on_tonic"] for t, m in pairs) >= 7


def test_a_tune_without_notes_gets_no_vector_and_a_bad_length_no_crash():
    assert feature_vector(text_record("X:1\nT:t\nK:D\n")) is None
    assert text_record("X:1\nK:D\nA/0 B|c2|\n")["pitches"] == [69, 71, 73]  # A/0 (the network writes it) read as A


def _set(tunes, shift):
    """Tunes with every note letter moved `shift` steps up: another melody, the same shape."""
    letters = "CDEFGABcdefgab"
    table = str.maketrans(letters, letters[shift:] + letters[:shift])
    return [abc.split("K:", 1)[0] + "K:" + abc.split("K:", 1)[1].translate(table) for abc in tunes]


@pytest.mark.parametrize("kind", ["logistic", "trees"])
def test_critic_json_scores_as_scikit_learn_does(tmp_path, tiny_corpus, kind):
    tunes = charrnn.load_corpus(tiny_corpus).train_tunes[:30]
    human, machine = tunes, _set(tunes, 3)
    critic = fit_critic(human, machine, random_seed=0, fitted_on={"model": "test"}, kind=kind)
    critic.save(tmp_path / CRITIC_FILE)
    loaded = Critic.load(tmp_path / CRITIC_FILE)
    assert loaded == critic and loaded.fitted_on["human_tunes"] == 30 and loaded.settings["kind"] == kind
    assert bool(loaded.trees) == (kind == "trees") and bool(loaded.coef) == (kind == "logistic")

    x = np.vstack(_vectors(human) + _vectors(machine))
    y = np.r_[np.ones(30), np.zeros(30)]
    sklearn = _logistic(critic.settings.get("C")) if kind == "logistic" else _trees(0)
    sklearn_p = sklearn.fit(x, y).predict_proba(x)[:, 1]
    assert loaded.human_probability(human + machine) == pytest.approx(sklearn_p, abs=1e-9)
    assert loaded.human_probability(["X:1\nK:D\n"]).tolist() == [0.0]  # no notes: surely not human


def test_a_broken_critic_file_is_named(tmp_path):
    path = tmp_path / CRITIC_FILE
    path.write_text("{}")
    with pytest.raises(CharrnnError, match="critic.json: not a valid critic file"):
        Critic.load(path)
    data = {"format": "charrnn critic 1", "mean": [0], "scale": [1], "coef": [0], "intercept": 0,
            "features": ["pitch_class C"]}
    path.write_text(json.dumps(data))
    with pytest.raises(CharrnnError, match="other features"):
        Critic.load(path)
    loop = {"feature": [0, 0], "threshold": [0.5, 0.0], "left": [1, 0], "right": [1, -1], "value": [0, 1]}
    path.write_text(json.dumps(dict(data, features=FEATURE_NAMES, mean=[], scale=[], coef=[], trees=[loop])))
    with pytest.raises(CharrnnError, match="a tree points outside itself"):  # node 1 leads back to 0
        Critic.load(path)


def _stub_critic(folder, feature="bars"):
    """A critic that prefers the tunes with most `feature`: human probability rises with it."""
    coef = [0.0] * len(FEATURE_NAMES)
    coef[FEATURE_NAMES.index(feature)] = 1.0
    critic = Critic(mean=(0.0,) * len(coef), scale=(1.0,) * len(coef), coef=tuple(coef), intercept=0.0)
    critic.save(folder / CRITIC_FILE)
    return Critic.load(folder / CRITIC_FILE)


@pytest.fixture
def run_copy(tmp_path, tiny_run):
    folder = tmp_path / "run"
    shutil.copytree(tiny_run, folder)
    return folder


def test_drafts_keep_the_draft_the_critic_scores_highest(run_copy):
    critic = _stub_critic(run_copy)
    model = charrnn.load(run_copy)
    # n tunes of d drafts are one sampling call of n * d lanes, tune k's drafts side by side.
    every = [t.abc for t in model.generate(n=6, random_seed=4, max_chars=300)]
    best = [t.abc for t in model.generate(n=2, drafts=3, random_seed=4, max_chars=300)]
    scores = (critic.human_probability(every) + 2 * np.array([is_sound(t) for t in every])).reshape(2, 3)
    assert best == [every[3 * k + int(np.argmax(scores[k]))] for k in range(2)]
    assert [t.abc for t in charrnn.generate(n=2, drafts=3, random_seed=4, max_chars=300, model=run_copy)] == best


class FixedCritic(Critic):
    """Scores the drafts as told, whatever they are."""

    def human_probability(self, abcs):
        return np.array(self.settings["scores"], dtype=float)


def test_a_sound_draft_beats_a_more_human_looking_faulty_one():
    closed_by_double_bar = LOOPED.replace("A4:|", "A4||", 1)  # |: ... || : a notation error
    short = "X:1\nT:t\nM:4/4\nL:1/8\nK:D\n|:DFAd fdAF|GFED D4:|\n"  # 2 bars
    assert is_sound(LOOPED) and not is_sound(closed_by_double_bar) and not is_sound(short)
    critic = FixedCritic(intercept=0.0, settings={"scores": [0.99, 1.0, 0.2, 0.9, 0.3, 0.4]})
    drafts = [closed_by_double_bar, short, LOOPED, short, closed_by_double_bar, short]
    # Tune 1: the sound draft, though the critic likes it least; tune 2: none is sound, so the best.
    assert critic.best_drafts(drafts, 3) == [LOOPED, short]


def test_without_drafts_named_the_model_keeps_its_critics_number(run_copy, tmp_path):
    model = charrnn.load(run_copy)
    assert model.default_drafts() == 1  # no critic.json: one draft, the tunes as they always were
    assert ([t.abc for t in model.generate(n=2, random_seed=4, max_chars=300)]
            == [t.abc for t in model.generate(n=2, random_seed=4, max_chars=300, drafts=1)])
    _stub_critic(run_copy)
    data = json.loads((run_copy / CRITIC_FILE).read_text())
    (run_copy / CRITIC_FILE).write_text(json.dumps(dict(data, drafts=3)))
    model = charrnn.load(run_copy)
    assert model.default_drafts() == 3
    three = [t.abc for t in model.generate(n=2, random_seed=4, max_chars=300, drafts=3)]
    assert [t.abc for t in model.generate(n=2, random_seed=4, max_chars=300)] == three
    assert [t.abc for t in model.continue_tune("X:1\nT:t\nM:4/4\nL:1/8\nK:D\n", n=2, random_seed=4,
                                               max_new_chars=200)] == \
        [t.abc for t in model.continue_tune("X:1\nT:t\nM:4/4\nL:1/8\nK:D\n", n=2, random_seed=4,
                                            max_new_chars=200, drafts=3)]
    for bad in (0, 99):
        (run_copy / CRITIC_FILE).write_text(json.dumps(dict(data, drafts=bad)))
        with pytest.raises(CharrnnError, match="drafts"):
            Critic.load(run_copy / CRITIC_FILE)


def test_one_draft_is_todays_tunes_and_reads_no_critic(run_copy):
    before = [t.abc for t in charrnn.load(run_copy).generate(n=3, random_seed=9, max_chars=300)]
    (run_copy / CRITIC_FILE).write_text("not json")  # one draft never reads it
    assert [t.abc for t in charrnn.load(run_copy).generate(n=3, random_seed=9, max_chars=300, drafts=1)] == before


def test_drafts_without_a_critic_say_how_to_fit_one(run_copy):
    with pytest.raises(CharrnnError, match=f"no critic.json.*charrnn critic fit --model {run_copy}"):
        charrnn.load(run_copy).generate(n=1, drafts=2)


@pytest.mark.parametrize("bad", [0, -1, "x", 1.5, True, None, MAX_DRAFTS + 1])
def test_drafts_must_be_a_whole_number_in_range(bad):
    with pytest.raises(CharrnnError, match="drafts must be a whole number"):
        check_generate("X:", 1, 1.0, None, None, 100, None, drafts=bad)


def test_evaluate_parses_lists_of_drafts():
    assert parse_drafts("1, 4") == (1, 4)
    for bad in ("", "x", "0", "1,99"):
        with pytest.raises(CharrnnError):
            parse_drafts(bad)


def test_cli_critic_fit_then_generate_with_drafts(tmp_path, run_copy, tiny_corpus, capsys):
    # The tiny corpus holds out only 5 tunes; hold out 40 more of its tunes so each half has 20.
    data = tmp_path / "data"
    shutil.copytree(tiny_corpus, data)
    corpus = charrnn.load_corpus(tiny_corpus)
    (data / "valid.abc").write_text("\n".join(corpus.valid_tunes + corpus.train_tunes[:40]), encoding="utf-8")
    assert cli.main(["critic", "fit", "--model", str(run_copy), "--data", str(data), "-n", "30",
                     "--drafts", "3"]) == 0
    assert "cross-validated AUC" in capsys.readouterr().out
    critic = Critic.load(run_copy / CRITIC_FILE)
    assert critic.drafts == 3 and charrnn.load(run_copy).default_drafts() == 3
    human = f"{len(corpus.train_tunes)} training tunes and {HALVES[0]}: 23 of 45"
    assert critic.fitted_on["human"] == human and critic.fitted_on["weights"]
    out = tmp_path / "samples"
    assert cli.main(["generate", "-n", "2", "--drafts", "3", "--max-chars", "300", "--model", str(run_copy),
                     "--out", str(out)]) == 0
    assert len(list(out.glob("tune_*.abc"))) == 2
    assert cli.main(["generate", "--drafts", "0", "--model", str(run_copy), "--out", str(out)]) == 2


class Drafter:
    """A stand-in model that writes training tunes and remembers the drafts it was asked for."""

    name = "drafter"

    def __init__(self, tunes):
        self.tunes, self.drafts = tunes, []

    def generate(self, seed="X:", n=1, temperature=1.0, max_chars=2000, random_seed=None, drafts=1):
        self.drafts.append(drafts)
        return [charrnn.Tune(self.tunes[i % len(self.tunes)]) for i in range(n)]

    def evaluate_bpc(self, text):
        return {"loss": 1.0, "accuracy": 0.5, "bits_per_char": 1.4}


def test_evaluate_with_drafts_judges_against_the_half_the_critic_never_saw(tmp_path, tiny_corpus):
    model = Drafter(charrnn.load_corpus(tiny_corpus).train_tunes)
    report = evaluate(model, data=tiny_corpus, out=tmp_path, n=3, kn_orders=(2,), plots=False, drafts=(1, 2))
    assert model.drafts == [1, 2]
    assert [(s["drafts"], s["tunes_file"]) for s in report["samples"]] == [(1, "tunes_t1.abc"), (2, "tunes_t1_d2.abc")]
    assert report["detectability_human"] == f"{HALVES[1]}, 2 tunes the critic was not fitted on"  # of 5
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| T = 1 | T = 1, best of 2 drafts |" in md and "2 tunes the critic was not fitted on" in md
    plain = evaluate(model, data=tiny_corpus, out=tmp_path / "one", n=3, kn_orders=(2,), plots=False)
    assert plain["detectability_human"] == "all held-out tunes"


def test_bench_drafts_draws_in_proportion_to_the_odds():
    """bench/drafts.py's choice: the best draft, and one drawn with probability proportional to the
    critic's odds of human (log odds 0 and log 3: the second three times as often)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("bench_drafts", Path(__file__).parents[1] / "bench" / "drafts.py")
    drafts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(drafts)
    margins = np.tile([0.0, np.log(3.0)], (4000, 1))
    best, drawn = drafts.choices(margins, 2, np.random.default_rng(0))
    assert (best == 1).all()
    assert abs(drawn.mean() - 0.75) < 0.03
