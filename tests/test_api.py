"""The public API: one signature per function, header controls in generate, lazy top-level names."""
import inspect
import subprocess
import sys

import pytest

import charrnn
from charrnn.cli import main
from charrnn.errors import CharrnnError
from charrnn.generator import CharModel


def test_top_level_names_are_the_real_ones_and_import_is_light():
    assert charrnn.generate is charrnn.generator.generate and charrnn.CharModel is CharModel
    assert charrnn.load is charrnn.generator.load and charrnn.train is charrnn.training.train
    code = "import sys, charrnn; print('tensorflow' in sys.modules, 'charrnn.generator' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == ["False",
                                                                                                         "False"]
    with pytest.raises(AttributeError):
        charrnn.no_such_name


def test_generate_takes_every_argument_of_the_method_and_documents_it():
    method = list(inspect.signature(CharModel.generate).parameters)[1:]
    function = list(inspect.signature(charrnn.generate).parameters)
    assert function == method + ["model"]
    for name in method:
        assert f"{name}" in charrnn.generate.__doc__, name


def test_header_controls_give_each_tune_its_own_title(tiny_run):
    # max_chars leaves room for a garbled title or header line of a tiny model (the given fields are
    # written at line starts: with a 300-character cap a CI run once ended a tune before its K: line).
    tunes = charrnn.generate(n=4, type="reel", meter="6/8", key="D", random_seed=3, max_chars=1200, model=tiny_run,
                             form=False)
    for t in tunes:  # (a tiny model's header lines may be garbled; the given ones are there, in order)
        lines = t.abc.split("\n")
        assert lines[0] == "X:1" and lines[1].startswith("T:"), t.abc
        assert "K:D" in lines, t.abc
        k = lines.index("K:D")
        assert {"R:reel", "M:6/8"} <= set(lines[:k]) and not any(line[:2] in ("R:", "M:", "K:") for line in lines[2:k]
                                                               if line not in ("R:reel", "M:6/8")), t.abc
    assert len({t.title for t in tunes}) == 4  # each tune wrote its own title
    given = charrnn.generate(seed="X:1\nT:Mine\n", meter="3/4", key="G", random_seed=3, max_chars=300,
                             model=tiny_run)[0]
    assert given.abc.startswith("X:1\nT:Mine\nM:3/4\nK:G\n")
    with pytest.raises(CharrnnError, match="meter '6/0x'"):
        charrnn.generate(meter="6/0x", model=tiny_run)


def test_cli_header_controls(tmp_path, tiny_run, capsys):
    out = tmp_path / "jigs"
    assert main(["generate", "-n", "2", "--type", "reel", "--meter", "6/8", "--key", "Ador", "--model", str(tiny_run),
                 "--out", str(out), "--max-chars", "300", "--random-seed", "1"]) == 0
    for p in out.glob("tune_*.abc"):
        lines = p.read_text().split("\n")
        assert {"R:reel", "M:6/8"} <= set(lines[:lines.index("K:Ador")])
    assert main(["generate", "--key", "H#", "--model", str(tiny_run), "--out", str(tmp_path / "x")]) == 2
    assert "key 'H#'" in capsys.readouterr().err and not (tmp_path / "x").exists()
