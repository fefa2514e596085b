"""StepNet's BLAS thread setting: $CHARRNN_SAMPLING_THREADS is obeyed, and restored afterwards."""
import pytest

from charrnn.nn.stepnet import blas_threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_thread_counts():
    return [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]


def test_sampling_threads_setting_is_obeyed_and_restored(monkeypatch):
    import numpy  # noqa: F401 (loads the BLAS that threadpoolctl reports)

    before = blas_thread_counts()
    monkeypatch.setenv("CHARRNN_SAMPLING_THREADS", "1")
    with blas_threads():
        assert set(blas_thread_counts()) <= {1}
    assert blas_thread_counts() == before
    monkeypatch.setenv("CHARRNN_SAMPLING_THREADS", "auto")
    with blas_threads():  # one thread or all of them, by the load; never an error
        pass
