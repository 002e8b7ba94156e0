"""The model saver: skops in a forked child, the model through a pipe."""

from __future__ import annotations

import os
import select
import threading
import time
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression
from skops import io as skio

from mlops_actions.errors import TrainingError
from mlops_actions.training import saver as saver_module
from mlops_actions.training.saver import ModelSaver


@pytest.fixture(autouse=True)
def _threads_of_this_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """The saver forks only in a process without other threads. A test worker may still hold
    a thread an earlier test left behind (a server's, a pool's): count only the threads this
    test starts, so each test sees the process the saver would see in `mlops-actions train`."""
    before = set(threading.enumerate()) - {threading.main_thread()}
    monkeypatch.setattr(
        threading,
        "active_count",
        lambda: sum(1 for t in threading.enumerate() if t not in before),
    )


def test_the_child_writes_the_model_skops_reads_back(tmp_path: Path) -> None:
    model = LogisticRegression(C=0.5).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    target = tmp_path / "model.skops"
    with ModelSaver() as saver:
        saver.prepare(target)
        saver.save(model)
    loaded = skio.load(target, trusted=skio.get_untrusted_types(file=target))
    assert loaded.get_params()["C"] == 0.5
    assert list(loaded.predict([[0.0], [3.0]])) == [0, 1]


def test_a_model_skops_cannot_save_is_one_line(tmp_path: Path) -> None:
    with ModelSaver() as saver, pytest.raises(TrainingError) as info:
        saver.prepare(tmp_path / "model.skops")
        saver.save({"lock": threading.Lock()})  # not picklable: the child gets nothing
    assert str(info.value).startswith("the model could not be saved with skops (")


def test_a_failed_training_leaves_no_child_behind(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), ModelSaver() as saver:
        saver.prepare(tmp_path / "model.skops")
        pid = saver.pid
        raise RuntimeError("the fit failed")
    assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped
    assert not (tmp_path / "model.skops").exists()


def _fail(message: str) -> None:
    raise ValueError(message)


def _model() -> LogisticRegression:
    return LogisticRegression(C=0.5).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])


def test_work_handed_over_runs_in_the_child_after_the_model(tmp_path: Path) -> None:
    target = tmp_path / "model.skops"
    with ModelSaver() as saver:
        saver.prepare(target)
        saver.send(_model())
        saver.submit(os.getpid)
        saver.submit(os.path.isfile, target)  # runs once the model is written
        child, model_written = saver.wait()
    assert child != os.getpid() and model_written is True
    loaded = skio.load(target, trusted=skio.get_untrusted_types(file=target))
    assert list(loaded.predict_proba([[1.5]])[0]) == list(_model().predict_proba([[1.5]])[0])


def test_work_that_fails_in_the_child_is_one_line_naming_it(tmp_path: Path) -> None:
    with ModelSaver() as saver, pytest.raises(TrainingError) as info:
        saver.prepare(tmp_path / "model.skops")
        saver.send(_model())
        saver.submit(_fail, "disk full")
        saver.wait()
    assert str(info.value) == ("_fail failed in the model saver process (ValueError: disk full)")
    assert (tmp_path / "model.skops").is_file()  # the model itself was written


def test_without_fork_the_same_work_runs_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "fork")
    target = tmp_path / "model.skops"
    with ModelSaver() as saver:
        saver.prepare(target)
        saver.send(_model())
        saver.submit(os.getpid)
        assert saver.wait() == [os.getpid()]
    assert skio.load(target, trusted=skio.get_untrusted_types(file=target)).predict([[3.0]]) == 1


def _save_in_thread(target: Path, started: threading.Barrier, pids: list[int | None]) -> None:
    with ModelSaver() as saver:
        saver.prepare(target)
        pids.append(saver.pid)
        started.wait(timeout=30)  # both savers prepared while both threads run
        saver.save(_model())


def test_savers_in_threads_save_in_process_and_both_finish(tmp_path: Path) -> None:
    """A sweep's trials run in threads: a fork there could copy another thread's import lock
    (and the other trial's pipe ends) into the child, so the savers write in-process."""
    started = threading.Barrier(2)
    pids: list[int | None] = []
    threads = [
        threading.Thread(target=_save_in_thread, args=(tmp_path / f"{n}.skops", started, pids))
        for n in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert pids == [None, None]  # no child
    for n in range(2):
        target = tmp_path / f"{n}.skops"
        loaded = skio.load(target, trusted=skio.get_untrusted_types(file=target))
        assert list(loaded.predict([[0.0], [3.0]])) == [0, 1]


def test_the_savers_own_writer_thread_does_not_stop_the_next_one_forking(tmp_path: Path) -> None:
    for n in range(2):
        with ModelSaver() as saver:
            saver.prepare(tmp_path / f"{n}.skops")
            assert saver.pid is not None
            saver.send(_model())
            saver.submit(os.getpid)
            assert saver.wait() != [os.getpid()]


def test_the_child_keeps_no_other_descriptor_open(tmp_path: Path) -> None:
    """A pipe the parent opened before the fork ends when the parent closes its write end,
    while the child still waits for the model."""
    read, write = os.pipe()
    try:
        with ModelSaver() as saver:
            saver.prepare(tmp_path / "model.skops")
            os.close(write)
            write = -1
            poll = select.poll()
            poll.register(read, select.POLLIN)
            assert poll.poll(10_000), "the child still holds the write end"
            assert os.read(read, 1) == b""
            saver.save(_model())
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)


def test_a_child_that_does_not_finish_is_stopped_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(saver_module, "WAIT_SECONDS", 1.0)
    with ModelSaver() as saver, pytest.raises(TrainingError) as info:
        saver.prepare(tmp_path / "model.skops")
        pid = saver.pid
        saver.send(_model())
        saver.submit(time.sleep, 60)
        saver.wait()
    assert str(info.value).startswith(
        "the model could not be saved with skops (its process did not finish within 1 s"
    )
    assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # killed and reaped
