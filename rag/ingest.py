"""Incremental, idempotent, per-article-atomic ingestion of files into the store.

Write protocol for one article (see vectorstore/chroma.py for why the manifest exists):
  1. manifest record -> status "pending"  (from here on readers ignore the article)
  2. delete the article's old passages
  3. add the new passages (in batches)
  4. manifest record -> status "complete" with the new content hash
A crash anywhere leaves a pending record, which the next writer rolls back (passages, then record), so
the article is then absent; ingesting the file again completes the job.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.chunking import Passage, split_text, token_encoding
from rag.config import Settings
from rag.documents import Article, LoadError, iter_files, load_file, source_key, stored_outlets
from rag.stories import StoryKeeper
from vectorstore.chroma import ChromaStore
from rag.text import embedding_text

ProgressCallback = Callable[[int, int, str], None]

# A pending record this old is taken as abandoned even if its writer cannot be checked (another host).
_STALE_PENDING_S = 3600
# Neighbours asked for when checking that a new passage is found by its own vector: identical passages
# (repeated text) tie at distance 0, so the passage itself need not come first.
_INDEX_CHECK_NEIGHBOURS = 10
_INDEX_CHECK_ROUNDS = 3


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    duplicates: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    passages: int = 0
    passages_written: int = 0
    passages_reindexed: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    chunk_seconds: float = 0.0
    store_seconds: float = 0.0
    keyword_seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_json(self) -> dict:
        data = asdict(self)
        timings = {key: round(data.pop(key), 3) for key in
                   ("seconds", "embed_seconds", "chunk_seconds", "store_seconds", "keyword_seconds")}
        timings["passages_written"] = data.pop("passages_written")
        timings["passages_reindexed"] = data.pop("passages_reindexed")
        timings["passages_per_s"] = (
            round(timings["passages_written"] / timings["seconds"], 1) if timings["seconds"] else None
        )
        timings["embed_share"] = (
            round(timings["embed_seconds"] / timings["seconds"], 3) if timings["seconds"] else None
        )
        return {**data, "timings": timings}


def passage_metadata(article: Article, passage: Passage, content_hash: str) -> dict:
    meta = {
        "article_id": article.id,
        "chunk": passage.index,
        "title": article.title,
        "date": article.date or "",
        "source": article.source or "",
        "source_key": source_key(article.source),
        "url": article.url or "",
        "start": passage.start,
        "end": passage.end,
        "content_hash": content_hash,
    }
    if article.date_range:
        meta["date_min"], meta["date_max"] = article.date_range
    return meta


def article_metadata(article: Article, status: str, passages: int) -> dict:
    meta = {
        "title": article.title,
        "date": article.date or "",
        "date_source": article.date_source,
        "source": article.source or "",
        "source_key": source_key(article.source),
        "url": article.url or "",
        "author": article.extra.get("author") or "",  # RSS/Atom entries name one
        "origin": article.origin,
        "content_hash": article.content_hash,
        "text_hash": article.text_hash,
        "status": status,
        "passages": passages,
        "writer_host": socket.gethostname(),
        "writer_pid": os.getpid(),
        "written_at": time.time(),
    }
    if article.date_range:
        meta["date_min"], meta["date_max"] = article.date_range
    return meta


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _origin_file(origin: str) -> str:
    """Feed records carry "path (line N)" as origin in errors; the file part is what prune compares."""
    return origin.split(" (", 1)[0]


def _under(origin: str, roots: list[Path]) -> bool:
    path = Path(_origin_file(origin)).resolve()
    return any(path == root or root in path.parents for root in roots)


class Ingestor:
    """Writes articles into a ChromaStore; the keyword index is rebuilt by the caller when `changed`."""

    def __init__(self, store: ChromaStore, embeddings, settings: Settings):
        self.store = store
        self.embeddings = embeddings
        self.settings = settings
        self._story_fields: dict[str, dict] = {}  # article id -> story fields, for the articles of this run
        self._touched: set[str] = set()  # articles written, removed or rolled back since take_touched()
        # The manifest and story index as read at a store version, kept up to date between ingests so that
        # adding one article does not read every record again; trusted only while no other writer has changed
        # the store since (ChromaStore.only_own_changes), otherwise read afresh.
        self._known: tuple[str, dict[str, dict], StoryKeeper] | None = None
        self._stories_backfilled = False  # stored articles were given stories since the last take

    def take_touched(self) -> set[str]:
        """The articles whose passages this ingestor changed since the last call (the keyword index
        updates just these)."""
        touched, self._touched = self._touched, set()
        return touched

    def take_stories_backfilled(self) -> bool:
        """Whether stored articles were given a story they lacked since the last call (readers' story
        members are stale then, though no article was touched)."""
        backfilled, self._stories_backfilled = self._stories_backfilled, False
        return backfilled

    def known_outlets(self) -> list[str] | None:
        """The stored outlets by the kept manifest, when it is still the store's: embedded, and every
        version change since it was read this writer's own. None otherwise."""
        if self._known is None or self.store.url or not self.store.only_own_changes(self._known[0], self.store.version()):
            return None
        return stored_outlets(self._known[1])

    # --- crash recovery --------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Roll back articles left pending by a writer that died; returns their ids."""
        rolled_back = []
        host = socket.gethostname()
        for article_id, record in self.store.articles(where={"status": "pending"}).items():
            mine = record.get("writer_host") == host
            if mine and record.get("writer_pid") == os.getpid():
                continue
            dead = mine and not _pid_alive(int(record.get("writer_pid", 0)))
            stale = time.time() - float(record.get("written_at", 0)) > _STALE_PENDING_S
            if dead or stale:
                self._touched.add(article_id)
                self.store.delete_passages(article_id)
                self.store.delete_article(article_id)
                rolled_back.append(article_id)
        return rolled_back

    # --- ingestion -------------------------------------------------------------------------------

    def ingest(self, paths: Iterable[Path], prune: bool = False, progress: ProgressCallback | None = None) -> IngestReport:
        paths = [Path(p) for p in paths]
        files = list(iter_files(paths, exclude=[self.settings.data_dir]))
        max_bytes = int(self.settings.max_file_mb * 1e6)
        max_record_bytes = int(self.settings.max_record_mb * 1e6)

        def loaded() -> Iterator[Article | LoadError]:
            for number, item in enumerate(files, 1):
                if progress:
                    progress(number - 1, len(files), str(item.path if isinstance(item, LoadError) else item))
                yield from [item] if isinstance(item, LoadError) else load_file(item, max_bytes=max_bytes, max_record_bytes=max_record_bytes)
            if progress:
                progress(len(files), len(files), "")

        return self.ingest_articles(loaded(), prune_roots=[p.resolve() for p in paths] if prune else None)

    def ingest_articles(self, items: Iterable[Article | LoadError], prune_roots: list[Path] | None = None) -> IngestReport:
        """Store articles made elsewhere (files, web pages) with the same hashing, grouping and write protocol;
        `prune_roots` also removes stored articles from under those folders that `items` no longer holds."""
        self.embeddings.warm_up()  # model loading is start-up cost, not ingest throughput
        started = time.perf_counter()
        embed_before = getattr(self.embeddings, "seconds_encoding", 0.0)
        report = IngestReport()
        self._roll_back_dead_writers()
        try:
            return self._ingest_articles(items, prune_roots, report, started, embed_before)
        except BaseException:
            self._known = None  # what was written before the error is not known here: read it next time
            raise

    def _roll_back_dead_writers(self) -> None:
        if self.recover():
            self.store.bump_version()
            self._known = None  # records were rolled back: read the manifest afresh

    def prime(self) -> None:
        """Roll back what dead writers left and read the manifest and story index now, as a server does when
        it starts, so that its first ingest costs what later ones do (reading every record of a large
        archive takes seconds to minutes; a kept manifest makes adding one article cost that article)."""
        self._roll_back_dead_writers()
        _, _, backfilled = self._manifest_and_stories()
        if backfilled:
            self.store.bump_version()  # chained from the version read, so the kept manifest stays trusted
        # First uses that an ingest would otherwise wait for: the tokenizer's vocabulary (0.25 s) and the
        # store's passage count that each report gives (1.5 s the first time at 1M passages, 0.06 s after).
        token_encoding()
        self.store.count_passages()

    def _manifest_and_stories(self) -> tuple[dict[str, dict], StoryKeeper, bool]:
        """The article manifest and story index (kept from the last ingest when no other writer changed the
        store since); True when loading gave stored articles a story they lacked."""
        version = self.store.version()
        if self._known is not None:
            known_version, manifest, stories = self._known
            # On a server another writer's bump could interleave with ours unseen: read afresh there.
            if not self.store.url and self.store.only_own_changes(known_version, version):
                return manifest, stories, False
        manifest = self.store.articles()
        stories = StoryKeeper(self.store, self.settings.duplicates)
        backfilled = stories.load(manifest)
        self._stories_backfilled |= bool(backfilled)
        self._known = (version, manifest, stories)
        return manifest, stories, backfilled

    def _ingest_articles(self, items, prune_roots, report: IngestReport, started: float, embed_before: float) -> IngestReport:
        manifest, stories, stories_backfilled = self._manifest_and_stories()
        left_stories: set[str] = set()  # stories a changed article was in: regrouped after the writes
        by_text_hash = {record["text_hash"]: article_id for article_id, record in manifest.items()}
        seen_ids: dict[str, tuple[str, str]] = {}  # article id -> (origin, content hash), for this run
        failed_files: set[str] = set()
        version_bumped = stories_backfilled
        if version_bumped:
            self.store.bump_version()
        buffer: list[tuple[Article, list[Passage], str]] = []  # (article, passages, "added"|"updated")

        def flush() -> None:
            nonlocal version_bumped
            if not buffer:
                return
            if not version_bumped:
                self.store.bump_version()  # readers' derived indexes are stale from here on
                version_bumped = True
            self._write(buffer, report)
            buffer.clear()

        for result in items:
            if isinstance(result, LoadError):
                report.failed.append({"path": result.path, "error": result.error})
                failed_files.add(_origin_file(result.path))
                continue
            article = result
            content_hash = article.content_hash
            if article.id in seen_ids and seen_ids[article.id][1] == content_hash:
                # The same article twice in one batch (two copies of one feed): a duplicate, not an error.
                report.duplicates.append({"path": article.origin, "id": article.id, "duplicate_of": article.id})
                continue
            if article.id in seen_ids:
                message = (
                    f"{article.origin} has the article id '{article.id}', already used by {seen_ids[article.id][0]} "
                    "in this batch; rename one of them."
                )
                report.failed.append({"path": article.origin, "error": message})
                continue
            seen_ids[article.id] = (article.origin, content_hash)
            existing = manifest.get(article.id)
            if existing and existing.get("content_hash") == content_hash and existing.get("status") == "complete":
                report.unchanged += 1
                continue
            twin = by_text_hash.get(article.text_hash)
            if twin and twin != article.id:
                report.duplicates.append({"path": article.origin, "id": article.id, "duplicate_of": twin})
                continue
            by_text_hash[article.text_hash] = article.id
            self._story_fields[article.id] = stories.place(article.id, article.text, article.text_hash)
            if existing and existing.get("story"):
                left_stories.add(existing["story"])
            chunk_started = time.perf_counter()
            passages = split_text(article.text, self.settings.chunk_tokens, self.settings.chunk_overlap)
            report.chunk_seconds += time.perf_counter() - chunk_started
            buffer.append((article, passages, "updated" if existing else "added"))
            if sum(len(p) for _, p, _ in buffer) >= self.settings.ingest_batch_size:
                flush()
        flush()
        self._story_fields.clear()
        for story in sorted(left_stories):
            stories.regroup(story, manifest)

        if prune_roots is not None:
            for article_id, record in list(manifest.items()):
                origin = record.get("origin", "")
                if article_id in seen_ids or not origin or not _under(origin, prune_roots):
                    continue
                if _origin_file(origin) in failed_files:
                    continue  # its file is still there but unreadable now: keep what we have
                if not version_bumped:
                    self.store.bump_version()
                    version_bumped = True
                self.remove(article_id)
                report.removed += 1

        if version_bumped:
            # A second bump: a reader that indexed mid-run sees it is stale. With it go the outlets, which
            # readers would otherwise read the whole manifest for, when this writer's manifest is the store's.
            self.store.bump_version(outlets=self.known_outlets())
        report.passages = self.store.count_passages()
        report.seconds = time.perf_counter() - started
        report.embed_seconds = getattr(self.embeddings, "seconds_encoding", 0.0) - embed_before
        return report

    def _write(self, buffer: list[tuple[Article, list[Passage], str]], report: IngestReport) -> None:
        """Embed the buffered articles' passages in one go, then store them with the pending/complete
        protocol applied to the whole buffer at once (fewer, larger Chroma calls; still atomic per article)."""
        texts = [embedding_text(passage.text) for _, passages, _ in buffer for passage in passages]
        vectors = self.embeddings.embed_documents(texts)
        store_started = time.perf_counter()
        self._touched.update(article.id for article, _, _ in buffer)
        self.store.put_articles(
            [(article.id, article_metadata(article, "pending", len(passages)), "", "") for article, passages, _ in buffer]
        )
        for article, _, outcome in buffer:
            if outcome == "updated":  # new articles have no passages: none exist without a manifest record
                self.store.delete_passages(article.id)
        rows = []
        for article, passages, _ in buffer:
            content_hash = article.content_hash  # hashes the whole article (raw text too): once, not per passage
            rows.extend((f"{article.id}#{p.index}", p.text, passage_metadata(article, p, content_hash)) for p in passages)
        batch = self.settings.ingest_batch_size
        for low in range(0, len(rows), batch):
            part = rows[low : low + batch]
            self.store.add_passages(
                ids=[row[0] for row in part],
                texts=[row[1] for row in part],
                embeddings=vectors[low : low + len(part)],
                metadatas=[row[2] for row in part],
            )
        report.passages_reindexed += self._ensure_indexed(rows, vectors)
        records = [
            (article.id, {**article_metadata(article, "complete", len(passages)), **self._story_fields.get(article.id, {})},
             article.text, article.raw_text)
            for article, passages, _ in buffer
        ]
        self.store.put_articles(records)
        if self._known is not None:
            self._known[1].update((article_id, metadata) for article_id, metadata, _, _ in records)
        for article, passages, outcome in buffer:
            report.passages_written += len(passages)
            if outcome == "added":
                report.added += 1
            else:
                report.updated += 1
        report.store_seconds += time.perf_counter() - store_started

    def _ensure_indexed(self, rows: list[tuple[str, str, dict]], vectors: list[list[float]]) -> int:
        """Re-upsert new passages that a vector query by their own embedding does not return; how many.

        chromadb 1.5.9 embedded sometimes leaves a freshly upserted record out of query() results while
        get() returns it (seen in about 2 of 14 fresh processes), so an article would be stored yet never
        found by dense search. One batched query per write batch finds them; upserting again fixes them.
        """
        reindexed = 0
        pending = list(range(len(rows)))
        batch = self.settings.ingest_batch_size
        for _ in range(_INDEX_CHECK_ROUNDS):
            missing = []
            for low in range(0, len(pending), batch):
                part = pending[low : low + batch]
                found = self.store.nearest([vectors[i] for i in part], _INDEX_CHECK_NEIGHBOURS)
                for i, neighbours in zip(part, found):
                    ids = {pid for pid, _ in neighbours}
                    # A full list of exact duplicates may crowd the passage out without anything being wrong.
                    crowded = len(neighbours) == _INDEX_CHECK_NEIGHBOURS and neighbours[-1][1] <= 1e-6
                    if rows[i][0] not in ids and not crowded:
                        missing.append(i)
            if not missing:
                break
            self.store.add_passages(
                ids=[rows[i][0] for i in missing],
                texts=[rows[i][1] for i in missing],
                embeddings=[vectors[i] for i in missing],
                metadatas=[rows[i][2] for i in missing],
            )
            reindexed += len(missing)
            pending = missing
        return reindexed

    def remove(self, article_id: str) -> None:
        """Delete one article: pending first, so a crash mid-way is rolled back, never half-deleted."""
        record = self.store.articles(ids=[article_id]).get(article_id)
        if record is None:
            return
        self._touched.add(article_id)
        record.update(status="pending", writer_host=socket.gethostname(), writer_pid=os.getpid(), written_at=time.time())
        self.store.put_article(article_id, record)
        self.store.delete_passages(article_id)
        self.store.delete_article(article_id)
        manifest, stories = (self._known[1], self._known[2]) if self._known else ({}, None)
        manifest.pop(article_id, None)
        if stories is not None:
            stories.index.remove(article_id)
        if record.get("story"):  # it may have linked the rest of its story together
            (stories or StoryKeeper(self.store, self.settings.duplicates)).regroup(record["story"], manifest)
