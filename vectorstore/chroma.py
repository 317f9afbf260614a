"""Chroma storage: one collection of passages (with embeddings) and one manifest of articles.

The manifest is what makes ingestion atomic per article: an article counts as stored only once its
manifest record says `complete`, and records left `pending` by a crash are rolled back on the next write.
It lives in Chroma too, so several processes sharing one Chroma server share one archive.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

SCHEMA_VERSION = 1
_META_ID = "__newsrag__"
# The manifest needs no similarity search, but Chroma wants a vector per record: a constant one.
_NO_VECTOR = [1.0]


# Manifest records read per get() call. With pages of 5,000, embedded chromadb 1.5.9 kept about 130 MB more
# after every full read of a 2,953-article manifest (a process that rereads it as other writers change the
# store grew without bound); pages of 500-2,000 hold 75-140 MB once and no more, at the same speed.
_MANIFEST_PAGE = 1000

# The metadata key that holds a passage's text (stores written before it hold the text as the document).
_TEXT = "text"


def _passage(document: str | None, metadata: dict | None) -> dict:
    """A passage's text and its metadata (without the text), from either way of storing the text."""
    meta = dict(metadata or {})
    text = meta.pop(_TEXT, None)
    return {"text": text if text is not None else (document or ""), "metadata": meta}


# The fields of the store's own record in the articles collection (written in _check_schema and bump_version).
_META_FIELDS = frozenset({"kind", "schema", "embedding", "version", "outlets", "outlets_version"})


# Operators that match only records holding the field (Chroma's $ne and $nin also match records without it).
_POSITIVE = frozenset({"$eq", "$in", "$gt", "$gte", "$lt", "$lte"})


def _needs_field(where: dict) -> bool:
    """Whether every record `where` matches must hold a field the store's own record lacks."""
    for key, value in where.items():
        if key in ("$and", "$or"):
            if not all(_needs_field(clause) for clause in value):
                return False
        elif key in _META_FIELDS or (isinstance(value, dict) and not set(value) <= _POSITIVE):
            return False
    return True


def _article_where(where: dict | None) -> dict:
    """`where` over the manifest records alone. A positive filter on fields the store's own record does
    not carry (story, status) cannot match it, and the second clause that leaves it out costs Chroma more
    than the filter itself: a story's ids took 0.12-0.19 s with it on the 1M store's 59,453 articles,
    0.01-0.08 s without."""
    if where is None:
        return {"kind": "article"}
    return where if _needs_field(where) else {"$and": [{"kind": "article"}, where]}


class StoreError(RuntimeError):
    """A store problem a user can act on; the message is one sentence saying what to do."""


class StoreUnavailable(StoreError):
    pass


class StoreVersionError(StoreError):
    pass


class ChromaStore:
    """Embedded (PersistentClient under `path`) or server (HttpClient to `url`) Chroma."""

    def __init__(
        self,
        *,
        path: Path | None = None,
        url: str | None = None,
        name: str = "newsrag",
        embedding_name: str = "",
        hnsw: dict | None = None,
    ):
        if not path and not url:
            raise ValueError("ChromaStore needs a path (embedded) or a url (server)")
        self.path = Path(path) if path else None
        self.url = url
        self.name = name
        self.embedding_name = embedding_name
        self.hnsw = {"space": "cosine", "ef_construction": 200, "ef_search": 200, "max_neighbors": 16, **(hnsw or {})}
        self._client = None
        self._collections = None  # (passages, articles), set and cleared as one value
        self._lock = threading.Lock()
        self._own_versions: set[str] = set()  # versions this process wrote
        self._bumped_from: dict[str, str] = {}  # each version this object set -> the version it replaced

    @property
    def location(self) -> str:
        return self.url or str(self.path)

    # --- connection ------------------------------------------------------------------------------

    def _connect(self):
        """The (passages, articles) collections, opened on first use. Callers keep this pair rather than
        re-reading the attributes, which `refresh()` or a reopen may clear from another thread meanwhile."""
        opened = self._collections
        if opened is not None:
            return opened
        with self._lock:
            if self._collections is not None:
                return self._collections
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            settings = ChromaSettings(anonymized_telemetry=False)
            try:
                if self.url:
                    parsed = urlparse(self.url)
                    client = chromadb.HttpClient(
                        host=parsed.hostname or "127.0.0.1",
                        port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                        ssl=parsed.scheme == "https",
                        settings=settings,
                    )
                    client.heartbeat()
                else:
                    self.path.mkdir(parents=True, exist_ok=True)
                    client = chromadb.PersistentClient(path=str(self.path), settings=settings)
                passages = client.get_or_create_collection(
                    f"{self.name}-passages", embedding_function=None, configuration={"hnsw": self.hnsw}
                )
                if self._raise_ef_search(passages) and not self.url:
                    # Embedded Chroma reads ef_search when it loads the index: open it anew to apply it.
                    from chromadb.api.shared_system_client import SharedSystemClient

                    SharedSystemClient.clear_system_cache()
                    client = chromadb.PersistentClient(path=str(self.path), settings=settings)
                    passages = client.get_collection(f"{self.name}-passages", embedding_function=None)
                articles = client.get_or_create_collection(f"{self.name}-articles", embedding_function=None)
            except Exception as exc:
                raise self._unavailable(exc) from exc
            self._check_schema(articles, passages)
            self._client, self._collections = client, (passages, articles)
            return self._collections

    def _raise_ef_search(self, passages) -> bool:
        """Give a store made with a smaller HNSW ef_search this version's value; True when it changed.

        Chroma keeps a collection's HNSW settings from its creation, and ef_search is the one that can
        change later: it trades query time for recall (README, Benchmarks).
        """
        current = ((passages.configuration or {}).get("hnsw") or {}).get("ef_search")
        if current is None or current >= self.hnsw["ef_search"]:
            return False
        passages.modify(configuration={"hnsw": {"ef_search": self.hnsw["ef_search"]}})
        return True

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        if self.url:
            return StoreUnavailable(
                f"The Chroma server at {self.url} is not reachable ({exc.__class__.__name__}); "
                "start it or unset NEWSRAG_CHROMA_URL to use the embedded store."
            )
        return StoreUnavailable(f"The Chroma store at {self.path} cannot be opened: {exc}.")

    def _check_schema(self, articles, passages) -> None:
        found = articles.get(ids=[_META_ID], include=["metadatas"])
        if not found["ids"] and (articles.count() or passages.count()):
            # Records but no marker: not written by any newsrag version we know; reading it could give wrong answers.
            raise StoreVersionError(
                f"The store at {self.location} holds data without a newsrag schema marker; {self._fresh_store_advice()}."
            )
        if not found["ids"]:
            articles.upsert(
                ids=[_META_ID],
                embeddings=[_NO_VECTOR],
                documents=[""],
                metadatas=[
                    {
                        "kind": "meta",
                        "schema": SCHEMA_VERSION,
                        "embedding": self.embedding_name,
                        "version": uuid.uuid4().hex,
                    }
                ],
            )
            return
        meta = found["metadatas"][0]
        if meta.get("schema") != SCHEMA_VERSION:
            raise StoreVersionError(
                f"The store at {self.location} was written by another newsrag version "
                f"(schema {meta.get('schema')}, this version reads {SCHEMA_VERSION}); {self._fresh_store_advice()}."
            )
        if self.embedding_name and meta.get("embedding") not in ("", self.embedding_name):
            raise StoreVersionError(
                f"The store at {self.location} was built with the '{meta.get('embedding')}' embedding, "
                f"not '{self.embedding_name}'; set NEWSRAG_EMBEDDING={meta.get('embedding')} or use a new NEWSRAG_DATA_DIR."
            )

    def _fresh_store_advice(self) -> str:
        if self.url:
            return "re-ingest under a new NEWSRAG_COLLECTION name"
        return "re-ingest into a new NEWSRAG_DATA_DIR"

    def _call(self, collection: str, method: str, _reopened: bool = False, **kwargs):
        """Run `method` on the "passages" or "articles" collection; connection failures become StoreUnavailable."""
        passages, articles = self._connect()
        try:
            return getattr(passages if collection == "passages" else articles, method)(**kwargs)
        except StoreError:
            raise
        except (ConnectionError, OSError) as exc:
            raise self._unavailable(exc) from exc
        except Exception as exc:
            if "connect" in str(exc).lower() or exc.__class__.__name__ in ("ConnectError", "ReadTimeout"):
                raise self._unavailable(exc) from exc
            if exc.__class__.__name__ == "NotFoundError" and not _reopened:
                # Our collection objects are stale: a Chroma server restarted on other data, or another
                # process dropped the collections. Open them anew (once) instead of failing every request.
                self._forget(passages)
                return self._call(collection, method, _reopened=True, **kwargs)
            raise

    def _forget(self, passages) -> None:
        """Drop the cached client and collections, unless another thread has already replaced them."""
        with self._lock:
            if self._collections is not None and self._collections[0] is passages:
                self._client = self._collections = None

    def ping(self) -> bool:
        self._connect()
        if self.url:
            try:
                self._client.heartbeat()
            except Exception as exc:
                raise self._unavailable(exc) from exc
        return True

    # --- passages --------------------------------------------------------------------------------

    def add_passages(self, ids: list[str], texts: list[str], embeddings: list[list[float]], metadatas: list[dict]):
        # The text goes in the metadata, not in Chroma's document: chromadb builds a trigram full-text index
        # of every document (it ignores a schema that leaves it out), about a third of a passage upsert's
        # time on its own and a fifth of the store's write time in an ingest of real news; newsrag keeps
        # its own keyword index.
        if ids:
            self._call("passages", "upsert", ids=ids, embeddings=embeddings,
                       metadatas=[{**meta, _TEXT: text} for meta, text in zip(metadatas, texts)])

    def delete_passages(self, article_id: str) -> None:
        # Delete by id, not by `where`: after a writer was killed, Chroma's delete-by-where missed
        # records that get-by-where still returned (seen with chromadb 1.5.9, embedded).
        previous: list[str] = []
        while True:
            ids = self._call("passages", "get", where={"article_id": article_id}, include=[], limit=5000)["ids"]
            if not ids:
                return
            if ids == previous:
                raise StoreError(f"Chroma did not delete the passages of article '{article_id}'; the store may be damaged.")
            self._call("passages", "delete", ids=ids)
            previous = ids

    def count_passages(self) -> int:
        return self._call("passages", "count")

    def article_ids(self, where: dict | None = None) -> list[str]:
        """The ids of the manifest records matching `where`, in one call: ids alone take 0.2 s for 59,000
        articles, where their metadata read page by page takes 22 s (each page re-runs the filter)."""
        return self._call("articles", "get", where=_article_where(where), include=[])["ids"]

    def query(self, embedding: list[float], n: int, where: dict | None = None) -> list[dict]:
        """Nearest passages: [{id, text, metadata, distance}], closest first."""
        result = self._call("passages", "query",
            query_embeddings=[embedding],
            n_results=n,  # Chroma returns what there is when the store holds fewer (no count(): 5 ms at 100k)
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            {"id": i, **_passage(t, m), "distance": d}
            for i, t, m, d in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]
            )
        ]

    def nearest(self, embeddings: list[list[float]], n: int) -> list[list[tuple[str, float]]]:
        """For each embedding, the ids and distances of its `n` nearest passages, in one query call."""
        if not embeddings:
            return []
        result = self._call("passages", "query", query_embeddings=embeddings, n_results=n, include=["distances"])
        return [list(zip(ids, distances)) for ids, distances in zip(result["ids"], result["distances"])]

    def get_passages(self, ids: list[str]) -> list[dict]:
        if not ids:
            return []
        result = self._call("passages", "get", ids=ids, include=["documents", "metadatas"])
        return [{"id": i, **_passage(t, m)} for i, t, m in zip(result["ids"], result["documents"], result["metadatas"])]

    def iter_passages(self, batch: int = 5000, where: dict | None = None) -> Iterator[list[dict]]:
        """All passages in pages of `batch`, without embeddings (memory stays bounded)."""
        for result in self._pages("passages", ["documents", "metadatas"], where, batch):
            yield [
                {"id": i, **_passage(t, m)}
                for i, t, m in zip(result["ids"], result["documents"], result["metadatas"])
            ]

    def iter_embeddings(self, batch: int = 5000) -> Iterator[tuple[list[str], "np.ndarray"]]:
        """All passage ids with their vectors, in pages of `batch` (benchmarks compare HNSW with exact search)."""
        import numpy as np

        for result in self._pages("passages", ["embeddings"], None, batch):
            yield list(result["ids"]), np.asarray(result["embeddings"], dtype=np.float32)

    # --- article manifest ------------------------------------------------------------------------

    def put_article(self, article_id: str, metadata: dict, text: str = "", raw_text: str = "") -> None:
        self.put_articles([(article_id, metadata, text, raw_text)])

    def put_articles(self, records: list[tuple[str, dict, str, str]]) -> None:
        """Upsert manifest records (id, metadata, text, raw_text) in one call."""
        if not records:
            return
        self._call(
            "articles",
            "upsert",
            ids=[r[0] for r in records],
            embeddings=[_NO_VECTOR] * len(records),
            documents=[json.dumps({"text": r[2], "raw_text": r[3]}, ensure_ascii=False) for r in records],
            metadatas=[{**r[1], "kind": "article"} for r in records],
        )

    def update_article_metadata(self, metadatas: dict[str, dict]) -> None:
        """Set metadata fields of existing manifest records (fields not given are kept), leaving their text as it is."""
        if not metadatas:
            return
        ids = [i for i in metadatas if i != _META_ID]
        self._call("articles", "update", ids=ids, metadatas=[{**metadatas[i], "kind": "article"} for i in ids])

    def delete_article(self, article_id: str) -> None:
        self._call("articles", "delete", ids=[article_id])

    def articles(self, ids: list[str] | None = None, where: dict | None = None, with_text: bool = False) -> dict[str, dict]:
        """Manifest records by id: their metadata, plus `text` and `raw_text` when asked."""
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        batch = _MANIFEST_PAGE
        if ids is not None:
            # By id alone: a `where` beside the ids makes Chroma scan the whole collection's metadata
            # (60 ms at 9,000 articles against 2 ms); the store's own record is left out here instead.
            ids = [i for i in ids if i != _META_ID]
            pages = (self._call("articles", "get", ids=ids[low : low + batch], where=where, include=include)
                     for low in range(0, len(ids), batch))
        else:
            pages = self._pages("articles", include, _article_where(where), batch)
        found: dict[str, dict] = {}
        for result in pages:
            for index, article_id in enumerate(result["ids"]):
                record = dict(result["metadatas"][index])
                record.pop("kind", None)
                if with_text:
                    record.update(json.loads(result["documents"][index] or "{}"))
                found[article_id] = record
        return found

    def _pages(self, collection: str, include: list[str], where: dict | None, batch: int) -> Iterator[dict]:
        """Chroma get() results page by page (memory stays bounded)."""
        offset = 0
        while True:
            result = self._call(collection, "get", where=where, include=include, limit=batch, offset=offset)
            if result["ids"]:
                yield result
            if len(result["ids"]) < batch:
                return
            offset += batch

    # --- store-wide state ------------------------------------------------------------------------

    def _meta(self) -> dict:
        """The store's own record (version, outlets), or {} when there is none."""
        found = self._call("articles", "get", ids=[_META_ID], include=["metadatas"])["metadatas"]
        return found[0] if found else {}

    def version(self) -> str:
        """Changes whenever the set of stored articles changes; derived indexes compare against it."""
        return self._meta().get("version", "")

    def bump_version(self, outlets: list[str] | None = None) -> str:
        """A new version; `outlets`, when given, are the stored articles' outlets as of this version (see
        outlets())."""
        version = uuid.uuid4().hex
        self._own_versions.add(version)
        meta = self._call("articles", "get", ids=[_META_ID], include=["metadatas"])["metadatas"][0]
        update = {**meta, "version": version}
        if outlets is not None:
            update.update(outlets=json.dumps(sorted(outlets), ensure_ascii=False), outlets_version=version)
        self._call("articles", "update", ids=[_META_ID], metadatas=[update])
        self._bumped_from[version] = meta.get("version", "")
        return version

    def outlets(self) -> list[str] | None:
        """The outlets a writer recorded with the current version, or None when the version changed without
        them (a removal, a writer on a Chroma server, an older newsrag): the caller reads the manifest then.
        Readers need the list for each question, and the manifest takes 21 s to read at 59,453 articles."""
        meta = self._meta()
        if not meta.get("version") or meta.get("outlets_version") != meta["version"]:
            return None
        return json.loads(meta.get("outlets") or "[]")

    def only_own_changes(self, since: str, version: str) -> bool:
        """True when every version change from `since` to `version` was made by this object, as far as
        it can tell: each of its bumps replaced the version the one before it set. (Two writers bumping
        at the same instant on a server could both believe so; a caller relying on this should do so
        only where one writer at a time is the rule, as on an embedded store.)"""
        seen = 0
        while version != since:
            if version not in self._bumped_from or seen > len(self._bumped_from):
                return False
            version, seen = self._bumped_from[version], seen + 1
        return True

    def written_elsewhere(self, version: str) -> bool:
        """True when `version` was set by another process (or another store object)."""
        return version not in self._own_versions

    def refresh(self) -> None:
        """Re-open an embedded store so that writes by another process become visible.

        Embedded Chroma keeps its vector index in memory per process: another process's additions reach
        SQLite (get() sees them) but not this process's index until the client is created anew.
        A Chroma server needs nothing of the kind.
        """
        if self.url:
            return
        from chromadb.api.shared_system_client import SharedSystemClient

        with self._lock:
            SharedSystemClient.clear_system_cache()
            self._client = self._collections = None

    def drop(self) -> None:
        """Delete both collections (tests and throw-away eval stores)."""
        self._connect()
        for collection in (f"{self.name}-passages", f"{self.name}-articles"):
            try:
                self._client.delete_collection(collection)
            except Exception:
                pass
        self._collections = None
