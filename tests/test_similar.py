"""The similarity index on tunes whose answers are known: a tune moved to another key with a bar
changed finds its original, an unrelated tune scores low, and bad input is one line, exit 2."""
import csv
import json
import os

import numpy as np
import pytest

import charrnn
from charrnn.abc.melody import key_signature, melody
from charrnn.cli import main
from charrnn.errors import CharrnnError
from charrnn.similarity import INDEX_FILES, similar
from charrnn.similarity.command import bar_runs
from charrnn.similarity.index import SimilarityIndex, load_index
from charrnn.similarity.profile import symbols

REEL = """X:1
T:Drowsy Maggie
M:4/4
L:1/8
K:Edor
|:E2BE dEBE|E2BE AFDF|E2BE dEBE|BABc dAFD:|
|:d2fd c2ec|defg afge|d2fd c2ec|BABc dAFD:|"""

# The reel a tone up (F#dor), with grace notes, a roll, chord symbols, its second bar changed,
# written as 2/2 with L:1/16 and doubled lengths: a listener hears the same tune.
DISGUISED = """X:7
T:Sleepy Maggie
M:2/2
L:1/16
K:F#dor
|:"F#m"F4c2F2 {g}e2F2c2F2|g4f2e2 d2c2B2A2|F4c2F2 e2F2c2F2|c2B2c2d2 ~e2B2G2E2:|
|:"A"e4g2e2 d4f2d2|e2f2g2a2 b2g2a2f2|e4g2e2 d4f2d2|c2B2c2d2 e2B2G2E2:|"""

JIG = """X:2
T:The Kesh
M:6/8
L:1/8
K:G
|:GAG GAB|ABA ABd|edd gdd|edB dBA|GAG GAB|ABA ABd|edd gdB|AGF G3:|
|:BAB dBd|ege dBA|BAB dBG|ABA AGA|BAB dBd|ege dBd|gfg aga|bgf g3:|"""

HORNPIPE = """X:3
T:The Harvest Home
M:4/4
L:1/8
K:D
|:AF|DAFA DAFA|defe dcBA|eAfA gAfA|(3efe (3dcB A2AF|
DAFA DAFA|defe dcBA|eAfA gAfe|d2f2d2:|"""

SLIDE = """X:4
T:Merrily Kissed the Quaker
M:6/8
L:1/8
K:G
|:GBd gdB|ege dBA|GBd gdB|cBA BGE|GBd gdB|ege dBA|BAG AGE|DED DGA:|"""

AIR = """X:5
T:Slow Air
M:3/4
L:1/8
K:Am
A4 c2|e4 a2|g3 e d2|e6|c4 B2|A3 B c2|B3 A G2|A6|
e4 a2|g3 e c2|d3 c B2|G6|A4 c2|e3 d c2|B3 G E2|A6|]"""

TUNES = [REEL, JIG, HORNPIPE, SLIDE]


def make_corpus(folder, train=TUNES, valid=(AIR,)):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.abc").write_text("\n\n".join(train) + "\n")
    (folder / "valid.abc").write_text("\n\n".join(valid) + "\n")
    with open(folder / "provenance.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["split", "collection", "source_file", "x", "title"])
        for split, tunes in (("train", train), ("valid", valid)):
            for i, t in enumerate(tunes):
                w.writerow([split, "testbook", f"{split}.abc", i + 10, t.split("T:")[1].split("\n")[0]])
    return folder


@pytest.fixture
def corpus(tmp_path):
    return make_corpus(tmp_path / "corpus")


def test_key_signature_and_melody_read_the_text():
    assert key_signature("F#dor") == {"F": 1, "C": 1, "G": 1, "D": 1}
    assert key_signature("Bb") == {"B": -1, "E": -1} and key_signature("none") == {}
    # F is sharp in D; =F cancels it for the rest of the bar only; {g} and ~ are not notes; > dots.
    notes = melody("X:1\nL:1/8\nK:D\n{g}F ~=F>F | F2 [DA]2|")
    assert [n.pitch for n in notes] == [66, 65, 65, 66, 69]
    assert [n.length for n in notes] == [0.125, 0.1875, 0.0625, 0.25, 0.25]
    assert [n.bar for n in notes] == [0, 0, 0, 1, 1]
    # A triplet takes two notes' time; a repeat is read as written; x and z rests are not notes.
    assert [n.length for n in melody("X:1\nL:1/8\nK:G\n|:(3GAB z c2:|x")] == [1 / 12] * 3 + [0.25]
    # A bare K: or L: line (the network writes them) changes nothing.
    assert [n.pitch for n in melody("X:1\nL:1/8\nK:D\nF2|\nK:\nL:\nF2|")] == [66, 66]


def test_transposed_rewritten_tune_has_the_same_symbols():
    # The same notes in another key, lengths and bar lines but for bar 2 (bar index 1).
    def after_bar_2(abc):
        notes = melody(abc)
        first = next(i for i, n in enumerate(notes) if n.bar == 2)
        joint, interval = symbols(notes)
        return joint[first:], interval[first:], joint[:first - 1 - sum(n.bar == 1 for n in notes)]

    a, b = after_bar_2(REEL), after_bar_2(DISGUISED)
    assert len(a[0]) > 40 and all((x == y).all() for x, y in zip(a, b))


def test_disguised_copy_finds_its_original_and_unrelated_tune_scores_low(corpus):
    found = similar(DISGUISED, k=3, corpus=corpus)
    assert found[0].title == "Drowsy Maggie" and found[0].collection == "testbook"
    assert (found[0].source_file, found[0].x, found[0].split) == ("train.abc", "10", "train")
    assert found[0].score > 0.6 > 0.2 > found[1].score
    assert (2, 2) not in found[0].bars  # the changed bar
    assert {(1, 1), (3, 3), (5, 5), (8, 8)} <= set(found[0].bars)
    assert 0 <= found[-1].score <= found[0].score <= 1
    unrelated = similar(AIR, k=1, corpus=corpus, split="train")
    assert unrelated[0].score < 0.3
    assert similar(JIG, k=1, corpus=corpus)[0].score == pytest.approx(1.0)
    assert charrnn.Tune(DISGUISED).nearest(1, corpus=corpus)[0].title == "Drowsy Maggie"
    assert charrnn.similar is similar


def test_index_is_stored_reused_and_rebuilt_when_the_corpus_changes(corpus, capsys):
    first = load_index(corpus)
    assert "building the similarity index" in capsys.readouterr().err
    assert all((corpus / name).is_file() for name in INDEX_FILES)
    meta = json.loads((corpus / "similar.json").read_text())
    assert len(meta["rows"]) == 5 and meta["rows"][0]["title"] == "Drowsy Maggie"
    again = load_index(corpus, build=False)  # read back: no build
    assert (again.terms == first.terms).all() and np.allclose(again.matrix.toarray(), first.matrix.toarray())
    make_corpus(corpus, train=[JIG, SLIDE])
    assert SimilarityIndex.read(corpus) is None
    with pytest.raises(CharrnnError, match="no similarity index"):
        load_index(corpus, build=False)
    assert [r["title"] for r in load_index(corpus).rows] == ["The Kesh", "Merrily Kissed the Quaker", "Slow Air"]


def test_cli_prints_nearest_tunes_and_json(corpus, tmp_path, capsys):
    query = tmp_path / "q.abc"
    query.write_text(DISGUISED + "\n\n" + HORNPIPE + "\n")
    assert main(["similar", str(query), "--data", str(corpus), "-k", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "X:7 Sleepy Maggie" and out[1].startswith("  0.") and "Drowsy Maggie (testbook, train.abc X:10)" in out[1]
    assert main(["similar", str(query), "--data", str(corpus), "--json", "-k", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["nearest"][0]["title"] for d in data] == ["Drowsy Maggie", "The Harvest Home"]
    assert data[1]["nearest"][0]["score"] == 1.0 and data[1]["nearest"][0]["bars"][0] == [1, 1]


def test_bar_runs():
    assert bar_runs([(1, 1), (2, 2), (3, 3), (5, 9), (6, 10), (8, 3)]) == "1-3=1-3, 5-6=9-10, 8=3"


@pytest.mark.parametrize("case", ["missing", "no tunes", "no corpus", "bad k"])
def test_bad_input_is_one_line_exit_2(case, corpus, tmp_path, capsys):
    query = tmp_path / "q.abc"
    query.write_text(REEL + "\n")
    data = corpus
    args = []
    if case == "missing":
        query = tmp_path / "nope.abc"
    elif case == "no tunes":
        query.write_text("just some words\n")
    elif case == "no corpus":
        data = tmp_path / "empty"
        data.mkdir()
    else:
        args = ["-k", "0"]
    assert main(["similar", str(query), "--data", str(data), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("charrnn: error: ")
    assert (str(query) in err[0]) or (str(data) in err[0]) or "-k" in err[0]


def test_similar_refuses_a_tune_without_notes(corpus):
    with pytest.raises(CharrnnError, match="no notes"):
        similar("X:1\nT:Empty\nK:G\n", corpus=corpus)


def test_read_only_corpus_folder_is_indexed_in_memory(corpus, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    corpus.chmod(0o555)
    try:
        assert load_index(corpus).matrix.shape[0] == 5
        assert "not saved" in capsys.readouterr().err
    finally:
        corpus.chmod(0o755)


def test_generate_summary_names_nearest_tunes_and_max_similarity_drops(tmp_path, tiny_run, tiny_corpus, capsys):
    out = tmp_path / "samples"
    args = ["generate", "-n", "3", "--model", str(tiny_run), "--out", str(out), "--max-chars", "300",
            "--random-seed", "3", "--data", str(tiny_corpus)]
    assert main(args) == 0
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["file"] for r in rows] == ["tune_001", "tune_002", "tune_003"]
    scores = [float(r["nearest_score"]) for r in rows]
    assert all(0 <= s <= 1 for s in scores) and all(r["nearest"] and r["nearest_x"] for r in rows)
    capsys.readouterr()
    # A limit below the scores drops those tunes, and says so (exit 1: fewer tunes than asked); a
    # tune that shares nothing with the corpus scores 0 and is never above a limit.
    limit = max(scores) / 2
    assert main(args[:-4] + ["--random-seed", "3", "--max-similarity", str(limit),
                             "--data", str(tiny_corpus), "--out", str(tmp_path / "none")]) == 1
    assert capsys.readouterr().out.count("above --max-similarity") == sum(s > limit for s in scores) >= 1
    assert main(args + ["--max-similarity", "1.5"]) == 2


def test_composer_answers_name_the_closest_tune(tmp_path, tiny_run, tiny_corpus):
    from fastapi.testclient import TestClient

    from charrnn.composer.app import create_app

    app = create_app(charrnn.load(tiny_run), tmp_path / "book.sqlite", media_folder=tmp_path / "media",
                     corpus=tiny_corpus)
    with TestClient(app) as client:
        r = client.post("/api/compose", json={"type": "reel", "meter": "6/8", "key": "D", "seed": "|:DFA dfa|", "random_seed": 3})
    assert r.status_code == 200, r.text
    closest = r.json()["closest"]
    assert closest["label"] == f"closest: {closest['title']} ({closest['collection']}), {closest['score']:.2f}"
    assert 0 <= closest["score"] <= 1 and closest["x"]


def test_composer_compares_a_tune_with_its_closest_side_by_side(tmp_path, tiny_run, tiny_corpus):
    from fastapi.testclient import TestClient

    from charrnn.composer.app import create_app
    from charrnn.corpus import split_tunes

    corpus_tune = split_tunes((tiny_corpus / "train.abc").read_text(encoding="utf-8"))[0]
    model = charrnn.load(tiny_run)
    app = create_app(model, tmp_path / "book.sqlite", media_folder=tmp_path / "media", corpus=tiny_corpus)
    with TestClient(app) as client:
        r = client.post("/api/compare", json={"abc": corpus_tune})
        assert r.status_code == 200, r.text
        tune, closest = r.json()["tune"], r.json()["closest"]
        # The corpus tune itself is its own closest tune: same title, score 1, its first bars shared.
        assert closest["title"] == charrnn.Tune(corpus_tune).title == tune["title"]
        assert closest["score"] > 0.99 and [1, 1] in closest["bars"] and "K:" in closest["abc"]
        assert closest["label"].startswith(closest["title"])
        for url in (tune["score"], closest["image"]):
            image = client.get(url)
            assert image.status_code == 200 and image.headers["content-type"].startswith("image/svg+xml")
            assert "<svg" in image.text
        assert tune["audio"] is None  # a score to look at: no audio rendered
        # Bad input: a tune with no notes, a body without abc.
        for body in ({"abc": "X:1\nT:Nothing\n"}, {}):
            bad = client.post("/api/compare", json=body)
            assert 400 <= bad.status_code < 500 and bad.json()["error"] and "\n" not in bad.json()["error"]
    # No corpus: one line naming the folder.
    app = create_app(model, tmp_path / "book2.sqlite", media_folder=tmp_path / "media2", corpus=tmp_path / "nowhere")
    with TestClient(app) as client:
        r = client.post("/api/compare", json={"abc": corpus_tune})
    assert r.status_code == 400 and "nowhere" in r.json()["error"]
