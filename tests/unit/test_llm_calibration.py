"""The embedded model's threads and prompt batch: measured on this CPU when it first loads and kept
(rag/llm.py), with a fake llama_cpp whose speed is set by the test and no model loaded."""

from __future__ import annotations

import json
import sys
import types

import pytest

from tests.fakes import FakeClock

from rag import llm as L
from vectorstore import machine


_Clock = FakeClock()  # only the fakes' runs move it


class _FakeLlama:
    """llama_cpp.Llama stand-in: two threads write faster than one, a batch of 512 reads faster than 256."""

    made: list[tuple[int, int]] = []

    def __init__(self, model_path, n_ctx, n_batch, n_threads, verbose):
        self.n_batch, self.n_threads = n_batch, n_threads
        _FakeLlama.made.append((n_threads, n_batch))

    def create_completion(self, prompt, max_tokens, temperature, top_k):
        assert len(prompt.split()) > 300 and max_tokens == 16  # a prompt about the answer prompt's size
        _Clock.now += (1.0 if self.n_threads == 1 else 0.6) + (0.2 if self.n_batch == 256 else 0.1)
        return {"choices": [{"text": "soon"}]}

    def close(self):
        pass


@pytest.fixture
def fake_llama(monkeypatch, tmp_path, fake_settings):
    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=_FakeLlama))
    monkeypatch.setattr(L, "time", types.SimpleNamespace(perf_counter=_Clock.perf_counter, strftime=lambda f: "2026-12-02"))
    monkeypatch.setattr(machine, "thread_options", lambda cpus=None: [1, 2])
    _FakeLlama.made = []
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    return model, fake_settings.model_copy(update={"model_cache_dir": tmp_path / "cache", "llm_threads": None,
                                                   "llm_batch": None})


def test_unset_threads_and_batch_are_measured_once_and_kept(fake_llama):
    model, settings = fake_llama
    threads, batch, calibration = L.llamacpp_threads_and_batch(model, settings)
    assert (threads, batch) == (2, 512)
    assert set(calibration["rates"]) == {f"{t} threads, batch {b}" for t in (1, 2) for b in L.LLM_BATCH_OPTIONS}
    assert len(_FakeLlama.made) == 4  # 2 threads x 2 batches, one pass
    [kept] = (settings.model_cache_dir / "calibration").glob("llm-tiny-llamacpp*-t1-2-b256-512.json")
    assert json.loads(kept.read_text())["threads"] == 2

    _FakeLlama.made = []
    assert L.llamacpp_threads_and_batch(model, settings)[:2] == (2, 512)
    assert _FakeLlama.made == []  # read back, not measured again


def test_explicit_settings_are_used_as_given(fake_llama):
    model, settings = fake_llama
    fixed = settings.model_copy(update={"llm_threads": 1, "llm_batch": 64})
    assert L.llamacpp_threads_and_batch(model, fixed) == (1, 64, None)
    assert _FakeLlama.made == []


def test_an_explicit_thread_count_still_measures_the_batch(fake_llama):
    model, settings = fake_llama
    threads, batch, calibration = L.llamacpp_threads_and_batch(model, settings.model_copy(update={"llm_threads": 1}))
    assert (threads, batch) == (1, 512)
    assert {t for t, _ in _FakeLlama.made} == {1}


def test_the_chat_model_is_built_with_the_measured_settings(fake_llama, monkeypatch):
    import langchain_community.chat_models as chat_models

    model, settings = fake_llama
    built: list[dict] = []
    monkeypatch.setattr(chat_models, "ChatLlamaCpp", lambda **kwargs: built.append(kwargs) or object())
    monkeypatch.setattr(L, "_llamacpp_cache", {})
    monkeypatch.setattr(L.importlib.util, "find_spec", lambda name: object())
    L._llamacpp(settings.model_copy(update={"llm_model": str(model)}))
    assert (built[0]["n_threads"], built[0]["n_batch"]) == (2, 512)
