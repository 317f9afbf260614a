"""BM25 keyword index (bm25s) over passages, persisted on disk and tagged with the store version it mirrors.

The index is derived data: it is rebuilt from Chroma whenever the store's version differs from the one
it was built for, so a crash can leave it stale but never wrong for long. Each build is written to a new
folder and published by atomically replacing the CURRENT pointer file.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vectorstore.filters import PassageFilter


@dataclass
class KeywordHit:
    index: int
    id: str
    score: float


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class KeywordIndex:
    """`normalise` rewrites each text before tokenising (rag passes its abbreviation expansion: the
    store knows nothing of news text)."""

    def __init__(self, path: Path, normalise: Callable[[str], str] | None = None):
        self.path = Path(path)
        self._normalise = normalise
        self.version: str | None = None
        self.ids: list[str] = []
        self._row: dict[str, int] = {}
        self._retriever = None
        self._date_min = self._date_max = self._source_key = np.zeros(0)
        self._stem = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    def _tokens(self, texts: list[str]) -> list[list[str]]:
        import bm25s

        if self._stem is None:
            self._stem = _stemmer()
        if self._normalise is not None:
            texts = [self._normalise(text) for text in texts]
        return bm25s.tokenize(texts, stopwords="en", stemmer=self._stem, return_ids=False, show_progress=False)

    def build(self, passages: Iterable[dict], version: str) -> None:
        """Index passages ({id, text, metadata}) and publish the result on disk for `version`."""
        import bm25s

        ids, tokens, date_min, date_max, source_key = [], [], [], [], []
        pending: list[str] = []
        for passage in passages:
            meta = passage["metadata"]
            ids.append(passage["id"])
            pending.append(passage["text"])
            date_min.append(meta.get("date_min", 0))
            date_max.append(meta.get("date_max", 0))
            source_key.append(meta.get("source_key", ""))
            if len(pending) >= 2000:
                tokens.extend(self._tokens(pending))
                pending = []
        if pending:
            tokens.extend(self._tokens(pending))
        retriever = None
        if ids:
            retriever = bm25s.BM25()
            # An all-stopword passage still needs one token for bm25s to index it.
            retriever.index([t or ["\u2400"] for t in tokens], show_progress=False)
        with self._lock:
            self._retriever = retriever
            self.ids = ids
            self._row = {pid: row for row, pid in enumerate(ids)}
            self._date_min = np.asarray(date_min, dtype=np.int64)
            self._date_max = np.asarray(date_max, dtype=np.int64)
            self._source_key = np.asarray(source_key, dtype=object)
            self.version = version
        self._save()

    def _save(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        folder = self.path / f"index-{uuid.uuid4().hex[:12]}"
        folder.mkdir()
        if self._retriever is not None:
            self._retriever.save(str(folder / "bm25"))
        np.savez(folder / "meta.npz", date_min=self._date_min, date_max=self._date_max)
        (folder / "passages.json").write_text(
            json.dumps({"version": self.version, "ids": self.ids, "source_key": list(self._source_key)})
        )
        pointer = self.path / f"CURRENT.{os.getpid()}.tmp"
        pointer.write_text(folder.name)
        os.replace(pointer, self.path / "CURRENT")
        for old in self.path.glob("index-*"):
            if old.name != folder.name:
                shutil.rmtree(old, ignore_errors=True)

    def load(self) -> bool:
        """Load the published index from disk; False when there is none (or it is unreadable)."""
        import bm25s

        try:
            folder = self.path / (self.path / "CURRENT").read_text().strip()
            info = json.loads((folder / "passages.json").read_text())
            arrays = np.load(folder / "meta.npz")
            retriever = bm25s.BM25.load(str(folder / "bm25")) if info["ids"] else None
        except (OSError, ValueError, KeyError):
            return False
        with self._lock:
            self._retriever = retriever
            self.ids = info["ids"]
            self._row = {pid: row for row, pid in enumerate(self.ids)}
            self._source_key = np.asarray(info["source_key"], dtype=object)
            self._date_min, self._date_max = arrays["date_min"], arrays["date_max"]
            self.version = info["version"]
        return True

    def split_by_filter(self, ids: list[str], where: PassageFilter) -> tuple[list[str], list[str]]:
        """(ids this index holds and the filter keeps, in the given order; ids it does not hold)."""
        with self._lock:
            rows = [self._row.get(pid) for pid in ids]
            known = np.asarray([row for row in rows if row is not None], dtype=np.int64)
            mask = where.mask(self._date_min[known], self._date_max[known], self._source_key[known])
        kept = iter(mask if mask is not None else np.ones(len(known), dtype=bool))
        keep, unknown = [], []
        for pid, row in zip(ids, rows):
            if row is None:
                unknown.append(pid)
            elif next(kept):
                keep.append(pid)
        return keep, unknown

    def search(self, query: str, n: int, where: PassageFilter | None = None) -> list[KeywordHit]:
        """Top `n` passages by BM25 among those the filter keeps; passages sharing no term are left out."""
        with self._lock:
            retriever, ids = self._retriever, self.ids
            mask = where.mask(self._date_min, self._date_max, self._source_key) if where else None
        if retriever is None or n <= 0:
            return []
        query_tokens = [t for t in self._tokens([query])[0] if t in retriever.vocab_dict]
        if not query_tokens:
            return []
        scores = retriever.get_scores(query_tokens)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [KeywordHit(int(i), ids[i], float(scores[i])) for i in top if scores[i] > 0]
