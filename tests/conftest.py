"""Shared fixtures: a tiny real corpus (one O'Neill's file from music21) and a tiny trained run."""
import signal
import subprocess
import time

import pytest

import charrnn
from charrnn.sources import music21_collection_dir
from charrnn.nn.runstate import read_log


@pytest.fixture(scope="session", autouse=True)
def no_default_corpus(tmp_path_factory):
    """No test reads or indexes the repository's data/abc by default (charrnn.similarity): a
    test that wants nearest tunes names its corpus."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHARRNN_DATA", str(tmp_path_factory.mktemp("none") / "no-corpus"))
        yield


@pytest.fixture(scope="session")
def oneills_file():
    """A real 50-tune ABC file that music21 ships (O'Neill's 1850, tunes 1-50)."""
    return music21_collection_dir("oneills1850") / "0001-0050.abc"


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory, oneills_file):
    out = tmp_path_factory.mktemp("corpus")
    charrnn.build_corpus([str(oneills_file)], out=out)
    return out


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, tiny_corpus):
    """A run folder of a small 2-layer LSTM trained for 2 epochs (a few seconds)."""
    out = tmp_path_factory.mktemp("run")
    charrnn.train(data=tiny_corpus, out=out, epochs=2, batch_size=8, seq_len=32,
                  layers=2, units=32, embedding=16, verbose=False)
    return out


@pytest.fixture
def kill_after_epochs():
    """kill(cmd, run, epochs): start a training command, SIGKILL it once run/log.csv holds
    `epochs` epochs (a hard kill, as from the OOM killer or a closed laptop); returns the epochs
    it had logged."""
    def kill(cmd, run, epochs=2, timeout=180):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline and len(read_log(run / "log.csv")) < epochs:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return len(read_log(run / "log.csv"))
    return kill
