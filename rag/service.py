"""RagService: the one facade every front end (CLI, API, UI, eval) calls."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import BinaryIO

from rag.answer import Answer, AnswerEngine
from rag.config import Settings
from rag.dates import parse_as_of
from rag.ingest import IngestReport, Ingestor, ProgressCallback
from rag.retrieval import HybridSearcher, Mode, SearchHit, build_filter
from rag.text import expand_abbreviations
from rag.uploads import Refusal, UploadResult, content_refusal, limit_bytes, safe_filename, type_refusal
from rag.verify import ClaimVerifier
from vectorstore.chroma import ChromaStore
from vectorstore.keyword import KeywordIndex


def make_embeddings(settings: Settings):
    """The embedding backend named by settings; constructing it loads no model."""
    match settings.embedding:
        case "minilm":
            from vectorstore.embeddings import MiniLMEmbeddings

            return MiniLMEmbeddings(batch_size=settings.embedding_batch_size or 64)
        case "minilm-int8":
            from vectorstore.embeddings import OnnxMiniLMEmbeddings

            return OnnxMiniLMEmbeddings(batch_size=settings.embedding_batch_size, cache_dir=settings.model_cache_dir,
                                        threads=settings.embedding_threads)
        case "fake":
            from vectorstore.embeddings import HashingFakeEmbeddings

            return HashingFakeEmbeddings()
        case other:  # pragma: no cover - pydantic rejects other values first
            raise ValueError(f"Unknown embedding backend '{other}'; use 'minilm', 'minilm-int8' or 'fake'.")


def make_verifier(settings: Settings | None = None) -> ClaimVerifier:
    """The claim verifier answers use: the settings' policy over the settings' embedding model."""
    settings = settings or Settings()
    return ClaimVerifier(settings.verifier, make_embeddings(settings))


class RagService:
    """Ingestion, search and the article list over one store. Creating it is cheap: nothing loads until used."""

    def __init__(self, settings: Settings | None = None, llm=None):
        self.settings = settings or Settings()
        self.embeddings = make_embeddings(self.settings)
        data_dir = Path(self.settings.data_dir)
        self.store = ChromaStore(
            path=None if self.settings.chroma_url else data_dir / "chroma",
            url=self.settings.chroma_url,
            name=self.settings.collection,
            embedding_name=self.settings.embedding,
        )
        # One keyword index per store: server stores get their own folder name so they never mix.
        index_name = self.settings.collection if not self.settings.chroma_url else (
            f"{self.settings.collection}@{self.settings.chroma_url.split('://')[-1].replace(':', '_').strip('/')}"
        )
        self.keyword = KeywordIndex(data_dir / "keyword" / index_name, normalise=expand_abbreviations)
        self.searcher = HybridSearcher(self.store, self.keyword, self.embeddings, self.settings)
        self._ingestor = Ingestor(self.store, self.embeddings, self.settings)
        self.answers = AnswerEngine(self.searcher, self.embeddings, self.settings, llm=llm)
        self._write_lock = threading.Lock()
        self._article_count: tuple[str, int] | None = None  # (store version, complete articles)

    def warm_up(self) -> None:
        """Load the embedding model and the keyword index now rather than on the first request."""
        self.embeddings.warm_up()
        self.keyword.load()
        self.searcher.sync_keyword_index()

    def prime_writer(self) -> float:
        """Ready the writer for ingests (Ingestor.prime) under the write lock; an ingest asked for meanwhile
        waits for it and then starts from what it read. Returns the seconds it took."""
        started = time.perf_counter()
        with self._write_lock:
            self._ingestor.prime()
            touched = self._ingestor.take_touched()
            if touched:  # a dead writer's articles were rolled back: out of the keyword index too
                self.searcher.sync_keyword_index(touched=touched)
            if self._ingestor.take_stories_backfilled():
                self.searcher.forget_stories()
        return time.perf_counter() - started

    # --- writing ---------------------------------------------------------------------------------

    def ingest(self, paths: Iterable[Path | str], prune: bool = False, progress: ProgressCallback | None = None) -> IngestReport:
        with self._write_lock:
            return self._reindexed(self._ingestor.ingest([Path(p) for p in paths], prune=prune, progress=progress))

    def _reindexed(self, report: IngestReport) -> IngestReport:
        if report.changed:
            started = time.perf_counter()
            self.searcher.sync_keyword_index(touched=self._ingestor.take_touched())
            if self._ingestor.take_stories_backfilled():
                self.searcher.forget_stories()
            report.keyword_seconds = time.perf_counter() - started
            report.seconds += report.keyword_seconds
        return report

    # --- web sources (rag/sources.py); nothing here opens a connection unless NEWSRAG_ALLOW_NETWORK is on --------

    def add_source(self, url: str, kind: str | None = None):
        """Register a feed, page or sitemap URL (its kind detected from what it serves unless given)."""
        from rag.sources import SourceRegistry, add_source

        return add_source(SourceRegistry(self.settings.data_dir), self.settings, url, kind)

    def sources(self) -> list[dict]:
        """The web sources with what their last sync gave, and how many stored articles came from each."""
        from dataclasses import asdict

        from rag.sources import SourceRegistry

        registry = SourceRegistry(self.settings.data_dir)
        stored = set(self.store.articles(where={"status": "complete"}))
        counts = Counter(state.get("source") for state in registry.pages.values() if state.get("id") in stored)
        return [{**asdict(source), "articles": counts[source.url]} for source in registry.sources]

    def remove_source(self, url: str) -> bool:
        """Stop syncing a source; the articles already stored from it stay."""
        from rag.sources import SourceRegistry

        return SourceRegistry(self.settings.data_dir).remove(url)

    def sync(self, progress=None):
        """Fetch what is new from every source and ingest it (a SyncReport); one failing source never stops the rest."""
        from rag.sources import sync_sources

        def hashes() -> dict[str, str]:
            return {article_id: record.get("content_hash", "")
                    for article_id, record in self.store.articles(where={"status": "complete"}).items()}

        with self._write_lock:
            return sync_sources(self.settings, lambda items: self._reindexed(self._ingestor.ingest_articles(items)),
                                hashes, progress)

    def upload(self, files: Iterable[tuple[str | None, bytes | BinaryIO]],
               progress: ProgressCallback | None = None) -> UploadResult:
        """Store and ingest uploaded files, given as (name the uploader gave, bytes or a binary stream).

        Every front end's uploads come through here. Each name is sanitised, and a file is written (in a
        fresh folder under the data directory) only when its type, size and content pass the checks of
        rag/uploads.py; a file that fails gets one sentence in the report and nothing on disk."""
        max_mb = self.settings.max_file_mb
        folder = Path(self.settings.data_dir) / "uploads" / uuid.uuid4().hex[:12]
        saved, refusals = [], []
        for given_name, content in files:
            name = safe_filename(given_name or "upload")
            refusal = type_refusal(name)
            if refusal is None:
                # One byte over the limit is enough to refuse it; a stream is never read further than that.
                data = content if isinstance(content, bytes) else content.read(limit_bytes(max_mb) + 1)
                refusal = content_refusal(name, data, max_mb)
            target = folder / name
            if refusal is None and target.exists():  # two names that sanitise alike: never overwrite the first
                refusal = Refusal(name, f"{name} has the same name as another file in this upload; rename one of them.")
            if refusal is not None:
                refusals.append(refusal)
                continue
            folder.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            saved.append(target)
        report = self.ingest(saved, progress=progress).to_json() if saved else {
            "added": 0, "updated": 0, "unchanged": 0, "removed": 0, "duplicates": [], "failed": [],
            "passages": self.passage_count()}
        for failure in report["failed"]:  # the report names the uploader's file, not our storage path
            failure["path"] = Path(failure["path"]).name
            failure["error"] = failure["error"].replace(str(folder) + "/", "")
        report["failed"] = [refusal.to_json() for refusal in refusals] + report["failed"]
        return UploadResult(report, refusals, saved)

    def delete(self, article_id: str) -> bool:
        with self._write_lock:
            if article_id not in self.store.articles(ids=[article_id]):
                return False
            self.store.bump_version()
            self._ingestor.remove(article_id)
            self.store.bump_version(outlets=self._ingestor.known_outlets())
            self.searcher.sync_keyword_index(touched=self._ingestor.take_touched())
            return True

    # --- reading ---------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int | None = None,
        since: str | None = None,
        until: str | None = None,
        sources: list[str] | None = None,
        mode: Mode = "hybrid",
        as_of: str | date | None = None,
    ) -> list[SearchHit]:
        """Passages for a query; `as_of` reads the archive as it stood that day (nothing dated later)."""
        return self.searcher.search(query, k, build_filter(since, until, sources, parse_as_of(as_of)), mode)

    def ask(self, question: str, history: list[dict] | None = None, since: str | None = None, until: str | None = None,
            sources: list[str] | None = None, backend: str | None = None, as_of: str | date | None = None) -> Answer:
        """A verified, cited answer (or an abstention) from the archive; `as_of` as for search, and relative
        time in the question ("this week") resolves against it."""
        return self.answers.answer(question, history, since, until, sources, backend, parse_as_of(as_of))

    def ask_stream(self, question: str, history: list[dict] | None = None, since: str | None = None,
                   until: str | None = None, sources: list[str] | None = None, backend: str | None = None,
                   as_of: str | date | None = None):
        """Token events, then the verified answer event (see AnswerEngine.stream)."""
        return self.answers.stream(question, history, since, until, sources, backend, parse_as_of(as_of))

    def brief(self, topic: str, since: str | None = None, until: str | None = None, max_points: int = 6,
              sources: list[str] | None = None, as_of: str | date | None = None):
        """A cited briefing on a topic (see rag/briefing.py); `as_of` as for search."""
        from rag.briefing import BriefingBuilder

        return BriefingBuilder(self.searcher, self.embeddings, self.settings.abstain_threshold,
                               self.settings.briefing).build(
            topic, since, until, max_points, sources, parse_as_of(as_of))

    def documents(self) -> list[dict]:
        """Stored articles, oldest first (undated last): id, title, date, date_source, source, url, passages,
        story (the group of syndicated copies it belongs to) and copies (how many stored articles share it)."""
        records = self.store.articles(where={"status": "complete"})
        # An article stored before story groups existed is a story of its own until the next ingest gives it one.
        story_of = {article_id: record.get("story") or article_id for article_id, record in records.items()}
        copies = Counter(story_of.values())
        rows = [
            {
                "id": article_id,
                "title": record.get("title", ""),
                "date": record.get("date") or None,
                "date_source": record.get("date_source", "none"),
                "source": record.get("source") or None,
                "url": record.get("url") or None,
                "passages": int(record.get("passages", 0)),
                "story": story_of[article_id],
                "copies": copies[story_of[article_id]],
            }
            for article_id, record in records.items()
        ]
        return sorted(rows, key=lambda row: (row["date"] is None, row["date"] or "", row["id"]))

    def article(self, article_id: str) -> dict | None:
        """One article with its cleaned `text` (passage offsets index into it) and `raw_text`."""
        record = self.store.articles(ids=[article_id], with_text=True).get(article_id)
        if not record or record.get("status") != "complete":
            return None
        return {"id": article_id, **record}

    def model_status(self) -> str:
        """"loaded", "loadable", or why the configured LLM backend cannot run (for /health)."""
        from rag.llm import BackendUnavailable, loaded_llamacpp_models, make_llm

        if self.settings.llm == "llamacpp" and loaded_llamacpp_models():
            return "loaded"
        try:
            if self.settings.llm == "llamacpp":
                from rag.llm import resolve_gguf

                resolve_gguf(self.settings)
            else:
                make_llm(self.settings)
        except BackendUnavailable as exc:
            return f"unavailable: {exc}"
        return "loadable"

    def outlets(self) -> list[str]:
        """The stored articles' outlets (as written), without listing the articles when the writer recorded them."""
        return self.searcher.outlets()

    def passage_count(self) -> int:
        return self.store.count_passages()

    def article_count(self) -> int:
        """Stored (complete) articles, counted again only when the store's version has changed: /health asks
        for it on every probe, and listing the articles (documents()) takes 22 s at 59,000 of them."""
        version = self.store.version()
        cached = self._article_count
        if cached is None or cached[0] != version:
            cached = self._article_count = (version, len(self.store.article_ids({"status": "complete"})))
        return cached[1]

    def is_empty(self) -> bool:
        return self.store.count_passages() == 0
