"""The wheel carries its model: built from a copy of the checkout, it holds the pretrained model's
run-time files and the package, and nothing else (no tests, runs, corpus, logs or reports)."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILES = ("best.weights.h5", "config.json", "char_to_idx.json", "form.json", "critic.json", "start.abc",
               "train_args.json")
MAX_WHEEL_BYTES = 10_000_000  # the weights are 7.7 MB; anything much larger took in what it should not


def test_wheel_carries_the_pretrained_model_and_nothing_else(tmp_path):
    source = tmp_path / "src"  # a copy, so the build writes nothing into the checkout
    shutil.copytree(ROOT / "charrnn", source / "charrnn", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-q", "-w", str(tmp_path / "dist"), str(source)], check=True, timeout=300)
    [wheel] = (tmp_path / "dist").glob("charrnn-*.whl")
    names = zipfile.ZipFile(wheel).namelist()

    assert {f"charrnn/pretrained/{name}" for name in MODEL_FILES} <= set(names)
    assert "charrnn/__init__.py" in names and "charrnn/composer/static/index.html" in names
    tops = {name.split("/")[0] for name in names}
    assert tops == {"charrnn", wheel.name.split("-py3")[0] + ".dist-info"}, tops  # no tests/, runs/, data/
    pretrained = {name for name in names if name.startswith("charrnn/pretrained/")}
    assert pretrained == {f"charrnn/pretrained/{name}" for name in MODEL_FILES}  # card, logs, report stay out
    assert wheel.stat().st_size < MAX_WHEEL_BYTES
