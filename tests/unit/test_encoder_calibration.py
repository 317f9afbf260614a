"""The int8 encoder's threads and batch size, measured on the machine on first use and kept
(vectorstore/machine.py, vectorstore/embeddings.py), with a fake onnxruntime whose speed is set by the test."""

from __future__ import annotations

import json
import sys
import time
import types

import numpy as np
import pytest

from tests.fakes import FakeClock

from vectorstore import embeddings as E
from vectorstore import machine as M


def test_calibrate_takes_the_fastest_setting_and_keeps_every_rate():
    speed = {(1, 16): 100.0, (1, 32): 120.0, (2, 16): 150.0, (2, 32): 140.0}
    seen: list[tuple[int, int]] = []

    def measure(threads, batch):
        seen.append((threads, batch))
        return speed[(threads, batch)]

    result = M.calibrate(measure, [1, 2], [16, 32], rounds=1)
    assert (result["threads"], result["batch_size"]) == (2, 16)
    assert sorted(seen) == sorted(speed)
    assert result["rates"] == {"1 threads, batch 16": 100.0, "1 threads, batch 32": 120.0,
                               "2 threads, batch 16": 150.0, "2 threads, batch 32": 140.0}


def test_each_setting_keeps_its_best_round_and_the_rounds_interleave():
    calls: list[tuple[int, int]] = []
    slow_first = {(1, 16): [10.0, 90.0], (2, 16): [80.0, 20.0]}  # other work slowed one setting in each round

    def measure(threads, batch):
        calls.append((threads, batch))
        return slow_first[(threads, batch)][calls.count((threads, batch)) - 1]

    result = M.calibrate(measure, [1, 2], [16])
    assert calls == [(1, 16), (2, 16), (1, 16), (2, 16)]
    assert result["rates"] == {"1 threads, batch 16": 90.0, "2 threads, batch 16": 80.0}
    assert result["threads"] == 1


def test_a_tie_goes_to_more_threads_and_the_smaller_batch():
    result = M.calibrate(lambda threads, batch: 50.0, [1, 2], [16, 64])
    assert (result["threads"], result["batch_size"]) == (2, 16)


@pytest.mark.parametrize("cpus, expected", [(1, [1]), (2, [1, 2]), (8, [4, 8]), (None, None)])
def test_thread_options_are_all_cores_and_half(cpus, expected, monkeypatch):
    if cpus is None:
        monkeypatch.setattr(M.os, "cpu_count", lambda: None)
        assert M.thread_options() == [1]
    else:
        assert M.thread_options(cpus) == expected


def test_a_kept_calibration_is_read_back_and_not_measured_again(tmp_path):
    path = tmp_path / "calibration" / "encoder.json"
    runs: list[int] = []

    def run():
        runs.append(1)
        return {"threads": 2, "batch_size": 32, "rates": {}}

    assert M.load_or_calibrate(path, run)["batch_size"] == 32
    assert M.load_or_calibrate(path, run)["batch_size"] == 32
    assert len(runs) == 1 and json.loads(path.read_text())["threads"] == 2
    assert not list(path.parent.glob("*.tmp"))  # written whole, through a temporary file


@pytest.mark.parametrize("content", ["{not json", '{"threads": "two", "batch_size": 32}', "[1, 2]", '{"threads": 2}'])
def test_a_broken_calibration_file_is_measured_again(tmp_path, content):
    path = tmp_path / "encoder.json"
    path.write_text(content)
    result = M.load_or_calibrate(path, lambda: {"threads": 1, "batch_size": 16, "rates": {}})
    assert (result["threads"], result["batch_size"]) == (1, 16)
    assert json.loads(path.read_text())["batch_size"] == 16


def test_a_calibration_that_cannot_be_kept_is_still_used(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = M.load_or_calibrate(blocker / "calibration.json", lambda: {"threads": 1, "batch_size": 64, "rates": {}})
    assert result["batch_size"] == 64
    assert "Could not keep the calibration" in caplog.text


def test_calibration_texts_are_passage_sized_and_distinct():
    texts = E._calibration_texts()
    assert len(set(texts)) == len(texts) == 96
    assert all(80 <= len(text.split()) <= 101 for text in texts)


_Clock = FakeClock()  # only the fakes' runs move it


class _FakeSession:
    """onnxruntime.InferenceSession stand-in: slower with one thread than with two, and with a fixed cost per
    call, so larger batches win: the calibration has a right answer."""

    created: list[int | None] = []

    def __init__(self, path, options, providers):
        self.threads = options.intra_op_num_threads
        _FakeSession.created.append(self.threads)

    def run(self, outputs, feeds):
        ids = feeds["input_ids"]
        _Clock.now += (0.002 if self.threads == 1 else 0.001) + 0.0001 * ids.shape[0]
        return [np.ones((ids.shape[0], ids.shape[1], E.OnnxMiniLMEmbeddings.dimension), dtype=np.float32)]


@pytest.fixture
def fake_onnxruntime(monkeypatch, tmp_path):
    module = types.SimpleNamespace(__version__="0.0-test", InferenceSession=_FakeSession,
                                   SessionOptions=lambda: types.SimpleNamespace(log_severity_level=0, intra_op_num_threads=0))
    monkeypatch.setitem(sys.modules, "onnxruntime", module)
    model = tmp_path / "models" / "minilm-test" / "model.onnx"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"")
    monkeypatch.setattr(E.OnnxMiniLMEmbeddings, "model_file", lambda self: model)
    monkeypatch.setattr(M, "thread_options", lambda cpus=None: [1, 2])
    monkeypatch.setattr(E, "time", types.SimpleNamespace(perf_counter=_Clock.perf_counter, strftime=time.strftime))
    _FakeSession.created = []
    return tmp_path


def test_unset_threads_and_batch_are_measured_once_per_machine(fake_onnxruntime):
    encoder = E.OnnxMiniLMEmbeddings(cache_dir=fake_onnxruntime)
    encoder.warm_up()
    assert (encoder.threads, encoder.batch_size) == (2, 64)
    assert set(encoder.calibration["rates"]) == {f"{t} threads, batch {b}" for t in (1, 2) for b in E.BATCH_OPTIONS}
    kept = list((fake_onnxruntime / "calibration").glob("minilm-test-ort0.0-test-*-t1-2-b16-32-64.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text())["batch_size"] == 64
    assert len(encoder.embed_documents(["a passage", "another passage"])) == 2

    _FakeSession.created = []
    again = E.OnnxMiniLMEmbeddings(cache_dir=fake_onnxruntime)
    again.warm_up()
    assert (again.threads, again.batch_size) == (2, 64)
    assert _FakeSession.created == [2]  # read back: only the session it runs with was made


def test_explicit_threads_and_batch_size_are_not_measured(fake_onnxruntime):
    encoder = E.OnnxMiniLMEmbeddings(cache_dir=fake_onnxruntime, threads=1, batch_size=8)
    encoder.warm_up()
    assert (encoder.threads, encoder.batch_size, encoder.calibration) == (1, 8, None)
    assert _FakeSession.created == [1]
    assert not (fake_onnxruntime / "calibration").exists()


def test_an_explicit_batch_size_still_measures_the_threads(fake_onnxruntime):
    encoder = E.OnnxMiniLMEmbeddings(cache_dir=fake_onnxruntime, batch_size=16)
    encoder.warm_up()
    assert (encoder.threads, encoder.batch_size) == (2, 16)
    assert set(encoder.calibration["rates"]) == {"1 threads, batch 16", "2 threads, batch 16"}
