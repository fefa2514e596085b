"""charrnn evaluate: the report from a stand-in model with known tunes, and the CLI end to end."""
import json
import math
import shutil

import pytest

import charrnn
from charrnn import cli
from charrnn.errors import CharrnnError
from charrnn.evaluation.evaluate import evaluate, parse_temperatures

JUNK = "X:1\nT:junk\nM:4/4\nL:1/8\nK:G\n(((]][[ 9/8/7 !!\n"


class StandIn:
    """A 'model' whose tunes we know: every other one a copy of a training tune, the rest junk."""

    name = "stand-in"

    def __init__(self, train_tunes):
        self.train_tunes = train_tunes
        self.calls = []

    def generate(self, seed="X:", n=1, temperature=1.0, top_k=None, top_p=None, max_chars=2000,
                 random_seed=None, drafts=1):
        self.calls.append((seed, n, temperature, random_seed))
        return [charrnn.Tune(self.train_tunes[i] if i % 2 == 0 else JUNK) for i in range(n)]

    def evaluate_bpc(self, text):
        return {"loss": 1.0, "accuracy": 0.7, "bits_per_char": 1.0 / math.log(2)}


def test_parse_temperatures():
    assert parse_temperatures("0.7, 0.9,1.0,1.2") == (0.7, 0.9, 1.0, 1.2)
    for bad in ("", "0.7,x", "0,1", "-1"):
        with pytest.raises(CharrnnError):
            parse_temperatures(bad)


def test_report_of_known_tunes(tmp_path, tiny_corpus):
    corpus = charrnn.load_corpus(tiny_corpus)
    model = StandIn(corpus.train_tunes)
    out = tmp_path / "report"
    evaluate(model, data=tiny_corpus, out=out, n=6, temperatures=(0.8, 1.2), random_seed=3,
             kn_orders=(3,))
    assert [c[1:] for c in model.calls] == [(6, 0.8, 3), (6, 1.2, 3)]

    saved = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert saved["likelihood"]["model"]["bits_per_char"] == pytest.approx(1 / math.log(2))
    assert set(saved["likelihood"]["baselines"]) == {"xz", "kn3"}
    assert saved["human_tunes"] == len(corpus.valid_tunes)
    for sample in saved["samples"]:
        s = sample["summary"]
        assert s["tunes"] == 6
        assert s["parse_rate"] == pytest.approx(0.5)  # the junk does not parse
        assert s["near_copy_rate"] == pytest.approx(0.5)  # the copies are flagged
        assert s["nearest_score"]["above_rate"] == pytest.approx(0.5) and s["nearest_score"]["max"] == 1.0
        assert s["longest_run_share"]["p90"] == pytest.approx(1.0)
        copies = [t for t in sample["tunes"] if t["index"] % 2 == 0]
        assert all(t["longest_run_share"] == 1.0 for t in copies)
        assert sample["detectability"] is None  # 3 parsable tunes: too few for 5 folds
        for name in sample["figures"].values():
            assert (out / name).stat().st_size > 1000
        assert (out / sample["tunes_file"]).read_text(encoding="utf-8").count("X:") == 6
    assert (out / "sweep.png").is_file()

    md = (out / "report.md").read_text(encoding="utf-8")
    for heading in ("## At a glance", "## 1. Likelihood", "## Generated tunes at T = 0.8",
                    "### Novelty", "### Musical statistics", "### Detectability", "## Temperature sweep"):
        assert heading in md
    assert "| T = 0.8 | T = 1.2 |" in md
    assert r"with repeat signs \|: :\|" in md  # pipes inside a table cell are escaped
    assert "the tune closest to a training tune" in md
    assert "nearest training tune by ear" in md
    assert saved["human"]["summary"]["nearest_score"]["n"] == len(corpus.valid_tunes)


def test_evaluate_rejects_bad_input(tmp_path, tiny_corpus):
    model = StandIn([JUNK])
    with pytest.raises(CharrnnError, match="no train.abc"):
        evaluate(model, data=tmp_path / "nothing", out=tmp_path / "r", n=2)
    with pytest.raises(CharrnnError, match="-n must be"):
        evaluate(model, data=tiny_corpus, out=tmp_path / "r", n=0)


def test_model_that_cannot_score_is_reported(tmp_path, tiny_corpus):
    class Unscoring(StandIn):
        def evaluate_bpc(self, text):
            raise ValueError("text of 12 characters is too short")

    model = Unscoring(charrnn.load_corpus(tiny_corpus).train_tunes)
    report = evaluate(model, data=tiny_corpus, out=tmp_path, n=2, kn_orders=(2,), plots=False)
    assert report["likelihood"]["model"] is None
    assert "too short" in report["likelihood"]["model_error"]
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "could not score the held-out text: text of 12" in md


def test_cli_evaluate_tiny_run(tmp_path, tiny_run, tiny_corpus, capsys):
    # The tiny corpus holds out only 5 tunes, fewer characters than the model's evaluation lanes
    # (16 x 128) need; hold out 15 more of its tunes (same characters, same vocabulary).
    data = tmp_path / "data"
    shutil.copytree(tiny_corpus, data)
    corpus = charrnn.load_corpus(tiny_corpus)
    (data / "valid.abc").write_text("\n".join(corpus.valid_tunes + corpus.train_tunes[:15]), encoding="utf-8")
    out = tmp_path / "card"
    code = cli.main(["evaluate", "--model", str(tiny_run), "--data", str(data), "-n", "3",
                     "--max-chars", "300", "--random-seed", "1", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    bpc = report["likelihood"]["model"]["bits_per_char"]
    assert 0 < bpc < 10
    assert len(report["samples"][0]["tunes"]) == 3
    assert (out / "report.md").is_file()
    assert "held-out bits per character: model" in capsys.readouterr().out


def test_cli_errors_exit_2(tmp_path, capsys):
    assert cli.main(["evaluate", "--data", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    assert "charrnn: error:" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cli.main(["evaluate", "--temperatures", "hot", "--out", str(tmp_path / "r")])
    assert e.value.code == 2
