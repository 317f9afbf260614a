"""Hybrid retrieval: dense (Chroma) and BM25 candidates fused by reciprocal rank fusion."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.config import Settings
from rag.documents import date_bounds, parse_date, source_key, stored_outlets
from rag.stories import other_outlets
from rag.text import embedding_text
from vectorstore.chroma import ChromaStore
from vectorstore.filters import PassageFilter
from vectorstore.keyword import KeywordIndex

# What searches read from an article's manifest record: only these are kept in the per-version views, not
# the story signature (about 1 KB a record) and the rest (26 MB less RSS after a manifest read at 59,453 articles).
_VIEW_FIELDS = ("source", "source_key", "date_min", "date_max", "story", "content_hash", "passages", "status")


def _light(record: dict) -> dict:
    return {name: record[name] for name in _VIEW_FIELDS if name in record}

Mode = Literal["hybrid", "dense", "bm25"]

# Passages another process wrote since this one's HNSW index was loaded are searched exactly beside it
# (see HybridSearcher._catch_up_dense) while there are at most this many, and at most _RECENT_EMBED new
# ones at a time (this process embeds them again: about 0.1 s for an article of 20 passages here);
# beyond that the store is re-opened, which loads the whole HNSW index (7.7 s at 1M passages).
_RECENT_MAX = 2048  # passages written, and removed, elsewhere since the HNSW index was current
_RECENT_EMBED = 256

# Stories with more complete members than this (all those a search shows, together) take their members'
# dates and outlets from the keyword index instead of the store's records (see _members_by_index).
_MEMBER_RECORDS_MAX = 1000
# Stories with more members than this count their carriers on numpy columns (_Members.carried_by).
_CARRIER_COLUMNS_FROM = 200


@dataclass
class SearchHit:
    passage_id: str
    article_id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    text: str
    score: float
    start: int
    end: int
    story: str | None = None  # the story group (syndicated copies) of the article
    also_carried_by: int = 0  # other outlets whose copies of the story were left out of the results

    @property
    def chunk(self) -> int | None:
        """The passage's number in its article (passage ids are "article#n"), or None."""
        number = self.passage_id.rpartition("#")[2]
        return int(number) if number.isdigit() else None

    @property
    def outlet(self) -> str:
        """The outlet as filters and story groups compare it (source_key)."""
        return source_key(self.source)

    def to_json(self) -> dict:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "date": self.date,
            "source": self.source,
            "text": self.text,
            "score": round(self.score, 6),
            "start": self.start,
            "end": self.end,
            "story": self.story,
            "also_carried_by": self.also_carried_by,
        }

    def to_document(self) -> Document:
        return Document(page_content=self.text, metadata={k: v for k, v in self.to_json().items() if k != "text"})

    @classmethod
    def from_record(cls, record: dict, score: float) -> "SearchHit":
        meta = record["metadata"]
        return cls(
            passage_id=record["id"],
            article_id=meta["article_id"],
            title=meta.get("title", ""),
            date=meta.get("date") or None,
            source=meta.get("source") or None,
            url=meta.get("url") or None,
            text=record["text"],
            score=score,
            start=int(meta.get("start", 0)),
            end=int(meta.get("end", 0)),
        )


def build_filter(since: str | None = None, until: str | None = None, sources: list[str] | None = None,
                 as_of: date | None = None) -> PassageFilter:
    """A PassageFilter from user input; a date that cannot be read raises ValueError with one clear sentence.

    `as_of` is the day the archive is read as of: nothing dated after it passes, whatever `until` says.
    """

    def bound(value: str | None, flag: str, which: int) -> int | None:
        if not value:
            return None
        iso = parse_date(value)
        if not iso:
            raise ValueError(f"{flag} must be a date such as 2022-06-01 (got '{value}').")
        return date_bounds(iso)[which]

    low, high = bound(since, "--since", 0), bound(until, "--until", 1)
    if as_of is not None:
        day = as_of.year * 10000 + as_of.month * 100 + as_of.day
        high = day if high is None else min(high, day)
        if low is not None and low > high:
            raise ValueError(f"--since ({since}) is after the as-of date ({as_of.isoformat()}).")
    if low is not None and high is not None and low > high:
        raise ValueError(f"--since ({since}) is after --until ({until}).")
    keys = frozenset(source_key(s) for s in sources or [] if s.strip())
    return PassageFilter(since=low, until=high, sources=keys or None)


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = 60) -> dict[str, float]:
    """RRF (Cormack, Clarke & Buettcher, 2009): sum over rankings of 1 / (k + rank)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores


@dataclass
class _Recent:
    """Passages written by another process since this process's HNSW index was loaded (an embedded store
    loads it whole and does not see later writes), with their vectors, searched exactly; and how many
    passages were removed since, whose stale entries the index may still return."""

    records: dict[str, dict]  # passage id -> {id, text, metadata}
    texts: dict[str, str]  # passage id -> the text its vector was made from
    ids: list[str]
    matrix: np.ndarray  # unit vectors, one row per id
    removed: int

    def nearest(self, vector: list[float], n: int, where: PassageFilter | None = None) -> list[tuple[str, float]]:
        """The `n` nearest of these passages that pass `where`: (id, cosine distance), closest first."""
        if not self.ids:
            return []
        query = np.asarray(vector, dtype=np.float32)
        distance = 1.0 - self.matrix @ (query / (np.linalg.norm(query) or 1.0))
        found = [(pid, float(d)) for pid, d in zip(self.ids, distance)
                 if where is None or where.matches(self.records[pid]["metadata"])]
        return sorted(found, key=lambda item: item[1])[:n]


@dataclass
class _Members:
    """The complete members of the stories read so far, for one store version, and the story of each
    member (a search takes an article's status and story from here before asking the store)."""

    version: str | None = None
    stories: dict[str, list[dict]] = field(default_factory=dict)
    story_of: dict[str, str] = field(default_factory=dict)
    _columns: dict[str, tuple[np.ndarray, ...]] = field(default_factory=dict)

    def add(self, found: dict[str, list[dict]]) -> None:
        self.stories.update(found)
        self.story_of.update((m["id"], story) for story, members in found.items() for m in members)

    def carried_by(self, story: str, article_id: str, outlet: str, dates: PassageFilter) -> int:
        """rag.stories.other_outlets over the story's members dated inside `dates`, on numpy columns kept
        per story: a big story (thousands of copies) tested member by member took 8 ms of each search."""
        if story not in self._columns:
            members = self.stories.get(story, [])
            self._columns[story] = (np.asarray([m["id"] for m in members], dtype=object),
                                    np.asarray([m.get("source_key") or "" for m in members], dtype=object),
                                    np.asarray([m.get("date_min") or 0 for m in members], dtype=np.int64),
                                    np.asarray([m.get("date_max") or 0 for m in members], dtype=np.int64))
        ids, keys, date_min, date_max = self._columns[story]
        inside = dates.mask(date_min, date_max, keys)
        others = keys[(ids != article_id) & (inside if inside is not None else True)]
        known = others[others != ""]
        return len(others) - len(known) + len(set(known[known != outlet].tolist()))


class HybridSearcher:
    """Searches the store; keeps the keyword index in step with the store's version."""

    def __init__(self, store: ChromaStore, keyword: KeywordIndex, embeddings, settings: Settings):
        self.store = store
        self.keyword = keyword
        self.embeddings = embeddings
        self.settings = settings
        self._sync_lock = threading.Lock()
        self._seen_version: str | None = None  # the store version this process last caught up with
        self._manifest: tuple[str | None, list[str], dict[str, list[dict]], dict[str, dict]] = (None, [], {}, {})
        self._members = _Members()  # story -> members, for one version
        self._dense_mark: tuple[int, int, int] | None = None  # the keyword index's mark when the HNSW was current
        self._recent: _Recent | None = None  # written elsewhere since then, searched exactly

    def _manifest_view(self, version: str | None = None) -> tuple[list[str], dict[str, list[dict]], dict[str, dict]]:
        """The distinct outlets (as written), the members of each story and the complete articles' records,
        read again when the store changes."""
        version = version or self.store.version()
        if self._manifest[0] != version:
            members: dict[str, list[dict]] = {}
            complete = {a: _light(r) for a, r in self.store.articles(where={"status": "complete"}).items()}
            for article_id, record in complete.items():
                if record.get("story"):
                    members.setdefault(record["story"], []).append({"id": article_id, **record})
            self._manifest = (version, stored_outlets(complete), members, complete)
        return self._manifest[1], self._manifest[2], self._manifest[3]

    def outlets(self) -> list[str]:
        """The distinct outlets of the stored articles (as written): as the writer recorded them with the
        store's version, else from the manifest, read again when the store changes."""
        recorded = self.store.outlets()
        return recorded if recorded is not None else self._manifest_view()[0]

    def _count_carriers(self, hits: list["SearchHit"], where: PassageFilter | None = None) -> None:
        """Set each hit's `also_carried_by`: how many other outlets carry its story, counting only copies
        dated inside `where`'s dates (an as-of day must not count a copy published later). The story
        members are read once for all the hits (each read asks the store for its version)."""
        if not any(hit.story for hit in hits):
            return
        stories = self._story_members({hit.story for hit in hits if hit.story})
        dates = PassageFilter(since=where.since, until=where.until) if where else PassageFilter()
        for hit in hits:
            if not hit.story:
                continue
            if stories is self._members.stories and len(stories.get(hit.story, [])) > _CARRIER_COLUMNS_FROM:
                hit.also_carried_by = self._members.carried_by(hit.story, hit.article_id, hit.outlet, dates)
            else:
                members = [(m["id"], m.get("source_key", "")) for m in stories.get(hit.story, []) if dates.matches(m)]
                hit.also_carried_by = other_outlets(members, hit.article_id, hit.outlet)

    def _story_members(self, stories: set[str]) -> dict[str, list[dict]]:
        """The complete members of these stories, kept until the store changes. Read for these stories
        alone (60 ms at 100k passages, against 1.2 s for the whole manifest, which a search after each
        change would otherwise wait for), unless the whole manifest is at hand for this version."""
        version = self.store.version()
        if self._manifest[0] == version:
            return self._manifest[2]
        if self._members.version != version:
            self._members = _Members(version)
        cache = self._members.stories
        missing = sorted(story for story in stories if story not in cache)
        if missing:
            found: dict[str, list[dict]] = {story: [] for story in missing}
            # Their ids first, then their records by id: reading the records by the filter re-runs it for
            # every page (21 s for a story of 12,000 copies on the 1M store, against 1 s). The ids by story
            # alone (one clause: 0.09 s there, two 0.18 s); the status is checked on the records read, or was
            # by the keyword index, which holds complete articles only.
            ids = self.store.article_ids({"story": {"$in": missing}})
            if len(ids) <= _MEMBER_RECORDS_MAX:
                for article_id, record in self.store.articles(ids=ids).items():
                    if record.get("status") == "complete" and record.get("story") in found:
                        found[record["story"]].append({"id": article_id, **_light(record)})
            else:
                for story in missing:
                    found[story] = self._members_by_index(story, ids if len(missing) == 1 else None)
            # Kept only if no writer began meanwhile: carried across its changes (_keep_stories), a read
            # made half way through them could hold a state no version names.
            if self.store.version() != version:
                return {**cache, **found}
            self._members.add(found)
        return cache

    def _members_by_index(self, story: str, ids: list[str] | None) -> list[dict]:
        """The complete members of a big story (`ids`: its articles, when already read) with the dates and
        outlet the keyword index holds for them (it holds complete articles only); the store's records are
        read only for those it does not hold yet.
        A manifest record carries the story signature too (about 1 KB): reading 12,000 of them took 1.7 s
        on the 1M store, the same fields from the index about 0.1 s."""
        if ids is None:
            ids = self.store.article_ids({"story": story})
        fields = self.keyword.article_fields(ids)
        rest = [article_id for article_id in ids if article_id not in fields]
        members = [{"id": article_id, **values} for article_id, values in fields.items()]
        members += [{"id": a, **_light(r)} for a, r in self.store.articles(ids=rest).items()
                    if r.get("story") == story and r.get("status") == "complete"]
        return members

    def sync_keyword_index(self, force: bool = False, touched: set[str] | None = None) -> None:
        """Bring the keyword index in step with the store: take up what was already written to it (by
        another process too), then index what changed. `touched` names the articles this process wrote
        since the index was last in step: when every version change since then is this process's own, on
        an embedded store (one writer at a time), only those are indexed; otherwise every article whose
        record differs from the store's manifest is. `force` empties the index first, so everything is
        indexed again (recovery; the benchmark's build time)."""
        version = self.store.version()
        if not force and version == self._seen_version:
            return
        with self._sync_lock:
            if not force and version == self._seen_version:
                return
            if force:
                self.keyword.clear()
            indexed = self.keyword.refresh()
            behind = indexed != version
            if self.store.written_elsewhere(version) and (self._seen_version is not None or behind):
                if behind or not self._catch_up_dense():
                    self.store.refresh()  # an embedded store re-opens to see another process's vectors
                    self._dense_mark, self._recent = None, None  # the mark is taken when dense search next runs
            if behind and touched is not None and indexed and not self.store.url \
                    and self.store.only_own_changes(indexed, version):
                self._keep_stories(touched, indexed, version, self._index_articles(touched, version))
                if self._recent is None and self._dense_mark is not None:
                    self._dense_mark = self.keyword.mark()  # its own writes are in its HNSW index already
            elif behind:
                self._reconcile_keyword_index(version)
            self._seen_version = version

    def _catch_up_dense(self) -> bool:
        """Let dense search see what another process wrote to an embedded store without re-opening it: the
        passages the keyword index gained since the HNSW index was current are embedded here and searched
        exactly beside it (_dense). False when that is not possible or not worth it (a Chroma server,
        no mark, a rebuilt keyword index, too many passages): the store is re-opened then."""
        if self.store.url or self._dense_mark is None:
            return False
        changes = self.keyword.added_since(self._dense_mark)
        if changes is None or len(changes[0]) > _RECENT_MAX or changes[1] > _RECENT_MAX:
            return False  # (the HNSW index would be asked for that many more neighbours than wanted)
        ids, removed = changes
        previous = self._recent
        records = {r["id"]: r for r in self.store.get_passages(ids)}  # an outdated client's get sees them
        ids = [pid for pid in ids if pid in records]
        texts = {pid: embedding_text(records[pid]["text"]) for pid in ids}
        kept = {pid: row for row, pid in enumerate(previous.ids)} if previous else {}
        new = [pid for pid in ids if pid not in kept or previous.texts[pid] != texts[pid]]
        if len(new) > _RECENT_EMBED:
            return False
        fresh = dict(zip(new, self.embeddings.embed_documents([texts[pid] for pid in new]) if new else []))
        rows = [np.asarray(fresh[pid], dtype=np.float32) if pid in fresh else previous.matrix[kept[pid]] for pid in ids]
        matrix = np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        self._recent = _Recent(records, texts, ids, matrix, removed)
        return True

    def _index_articles(self, article_ids: set[str], version: str) -> dict[str, dict]:
        """Write these articles to the keyword index as the store now holds them (complete ones put,
        the rest dropped) and record `version`; the manifest is read by id, for these alone. Returns the
        records read."""
        records = self.store.articles(ids=sorted(article_ids))
        complete = {a: r for a, r in records.items() if r.get("status") == "complete"}
        self._write_keyword_articles(complete, sorted(set(article_ids) - set(complete)), version)
        return records

    def _keep_stories(self, article_ids: set[str], since: str, version: str, records: dict[str, dict]) -> None:
        """Carry the story members read at `since` over to `version` when this process's own writes of
        `article_ids` (`records`: them as stored now) are all that changed. A story one of them was in is
        dropped (removing or changing a member may regroup the rest); a story a new article joined gains
        just that article (joining changes no other member's record); the rest stay. Reading a story again
        costs by its size (13.7 s for one of 12,000 copies on the 1M store): a search after each ingest of
        a syndicated copy paid it."""
        cached_version, cache = (since, self._manifest[2]) if self._manifest[0] == since else \
            (self._members.version, self._members.stories)
        if cached_version != since:
            return
        left = {story for story, members in cache.items() if any(m["id"] in article_ids for m in members)}
        kept = {story: members for story, members in cache.items() if story not in left}
        for article_id, record in records.items():
            story = record.get("story")
            if story in kept and record.get("status") == "complete":
                kept[story] = [*kept[story], {"id": article_id, **_light(record)}]  # new list: views share them
        self._members = _Members(version)
        self._members.add(kept)

    def forget_stories(self) -> None:
        """Drop the story members read so far (the writer gave stored articles stories they lacked)."""
        self._members = _Members()

    def _reconcile_keyword_index(self, version: str, batch_passages: int = 2000) -> None:
        """Write to the keyword index the articles whose content hash differs from the manifest's complete
        records and drop those the manifest no longer holds complete, in transactions
        of about `batch_passages` passages; the last one records `version`.

        Whatever state a killed process left the index in, this makes it hold what the store holds: an
        index behind the store gets the missing articles, one ahead of it (an article rolled back, deleted
        or rewritten since) loses or replaces them, and work is in proportion to the difference.
        """
        manifest = self._manifest_view(version)[2]
        held = self.keyword.articles()
        stale = {a: r for a, r in manifest.items() if held.get(a, ("",))[0] != r.get("content_hash", "")}
        self._write_keyword_articles(stale, [a for a in held if a not in manifest], version, batch_passages)

    def _write_keyword_articles(self, records: dict[str, dict], gone: list[str], version: str,
                                batch_passages: int = 2000) -> None:
        """Put the passages of the articles in `records` (manifest records) into the keyword index and drop
        those in `gone`, in transactions of about `batch_passages` passages; the last records `version`."""
        batch: dict[str, int] = {}  # article id -> passages, waiting to be written

        def write(remove: list[str], last: bool) -> None:
            ids = [f"{a}#{i}" for a, count in batch.items() for i in range(count)]
            found: dict[str, list[dict]] = {a: [] for a in batch}
            for low in range(0, len(ids), batch_passages):
                for record in self.store.get_passages(ids[low : low + batch_passages]):
                    found.setdefault(record["metadata"]["article_id"], []).append(record)
            put = {a: (records[a].get("content_hash", ""), sorted(found[a], key=lambda r: r["metadata"].get("chunk", 0)))
                   for a in batch}
            self.keyword.update(put, remove, version if last else None)
            batch.clear()

        for article_id, record in records.items():
            batch[article_id] = int(record.get("passages", 0))
            if sum(batch.values()) >= batch_passages:
                write(gone, last=False)
                gone = []
        write(gone, last=True)

    def _dense(self, vector: list[float], n: int, where: PassageFilter) -> list[dict]:
        """The `n` nearest passages that pass the filter, closest first.

        Chroma applies a `where` by scanning passage metadata in SQLite: 160 ms a query at 100k passages,
        against 2 ms without one (README, Benchmarks). So the nearest 10n are fetched unfiltered and
        filtered here with the dates and outlets the keyword index holds in memory; only a filter so narrow
        that fewer than n of them pass goes to Chroma's own filter.
        """
        if self._dense_mark is None and not self.store.url:
            # Right after a sync (search runs one first), the HNSW index holds at least what the keyword
            # index does: it was current as of this version, or it loads on this first use.
            self._dense_mark = self.keyword.mark()
        recent = self._recent
        if recent is None and where.empty:
            return self.store.query(vector, n)
        wanted = n if where.empty else n * 10
        nearest = self._nearest(vector, wanted, recent)
        distance = dict(nearest)
        if where.empty:
            keep = [pid for pid, _ in nearest]
        else:
            keep, unknown = self.keyword.split_by_filter([pid for pid, _ in nearest], where)
            if unknown:  # written after the keyword index was built: judge them by their own metadata
                passing = set(keep) | {r["id"] for r in self.store.get_passages(unknown) if where.matches(r["metadata"])}
                keep = [pid for pid, _ in nearest if pid in passing]
            if len(keep) < n and len(nearest) >= wanted:
                return self._filtered_query(vector, n, where, recent)
        # Passages removed since the HNSW index was loaded are still in it: their records are gone.
        extra = recent.removed if recent else 0
        records = {r["id"]: r for r in self.store.get_passages(keep[: n + extra])}
        return [{**records[pid], "distance": distance[pid]} for pid in keep[: n + extra] if pid in records][:n]

    def _nearest(self, vector: list[float], n: int, recent: _Recent | None) -> list[tuple[str, float]]:
        """The `n` nearest passages (id, distance) by the HNSW index and, when another process wrote since it
        was loaded, by exact search over what it wrote (the index's stale entries of those passages left
        out; removed ones are dropped when their records are read)."""
        if recent is None:
            return self.store.nearest([vector], n)[0]
        stale = set(recent.ids)
        found = [item for item in self.store.nearest([vector], n + len(stale) + recent.removed)[0] if item[0] not in stale]
        return sorted(found + recent.nearest(vector, n), key=lambda item: item[1])[: n + recent.removed]

    def _filtered_query(self, vector: list[float], n: int, where: PassageFilter, recent: _Recent | None) -> list[dict]:
        """Chroma's own filtered search (for filters too narrow for post-filtering), merged with the exact
        search over passages written elsewhere since the HNSW index was loaded."""
        if recent is None:
            return self.store.query(vector, n, where.chroma_where())
        # An outdated client's filtered search fails ("Error finding id") when the filter admits a passage
        # its HNSW index lacks: the articles written since are left to the exact search.
        written = sorted({recent.records[pid]["metadata"].get("article_id", "") for pid in recent.ids})
        clauses = [clause for clause in (where.chroma_where(), {"article_id": {"$nin": written}} if written else None) if clause]
        found = self.store.query(vector, n, clauses[0] if len(clauses) == 1 else {"$and": clauses})
        found += [{**recent.records[pid], "distance": d} for pid, d in recent.nearest(vector, n, where)]
        return sorted(found, key=lambda r: r["distance"])[:n]

    def search(
        self,
        query: str,
        k: int | None = None,
        where: PassageFilter | None = None,
        mode: Mode = "hybrid",
    ) -> list[SearchHit]:
        query = query.strip()
        if not query:
            raise ValueError("The query is empty; type some words to search for.")
        k = k or self.settings.search_k
        self.sync_keyword_index()  # first: it also re-opens an embedded store another process changed
        n = max(self.settings.search_candidates, k * 4)
        where = where or PassageFilter()
        records: dict[str, dict] = {}
        dense_score: dict[str, float] = {}
        bm25_score: dict[str, float] = {}
        if mode in ("hybrid", "dense"):
            for record in self._dense(self.embeddings.embed_query(query), n, where):
                records[record["id"]] = record
                dense_score[record["id"]] = 1.0 - record["distance"]  # cosine similarity
        if mode in ("hybrid", "bm25"):
            bm25_score = {hit.id: hit.score for hit in self.keyword.search(query, n, where)}
            missing = [pid for pid in bm25_score if pid not in records]
            if missing:
                for record in self.store.get_passages(missing):
                    records[record["id"]] = record

        if mode == "hybrid":
            rankings = [sorted(s, key=lambda pid, s=s: -s[pid]) for s in (dense_score, bm25_score)]
            scores = reciprocal_rank_fusion(rankings, self.settings.rrf_k)
        else:
            scores = dense_score if mode == "dense" else bm25_score
        ordered = sorted((pid for pid in scores if pid in records), key=lambda pid: -scores[pid])

        # Articles being rewritten (or left pending by a crash) are invisible to readers. Their status is
        # read for the best candidates first (a lookup costs by the id: 2 ms for 30 at 100k passages).
        status: dict[str, bool] = {}
        story_of: dict[str, str | None] = {}

        # A member of a story read for this version is complete and its story known: no lookup (24 ms of
        # each search on the 1M store, where most hits belong to stories shown before).
        members = self._members if self._members.version == self._seen_version else _Members()

        def complete(article_id: str, position: int) -> bool:
            if article_id in members.story_of:
                return True
            if article_id not in status:
                ahead = {records[pid]["metadata"]["article_id"] for pid in ordered[position : position + 3 * k]}
                ahead = [a for a in ahead if a not in status and a not in members.story_of]
                found = self.store.articles(ids=ahead)
                status.update({a: found.get(a, {}).get("status") == "complete" for a in ahead})
                story_of.update({a: found.get(a, {}).get("story") for a in ahead})
            return status[article_id]

        per_article: dict[str, int] = {}
        shown: dict[str, str] = {}  # story -> the one article of it in the results
        results: list[SearchHit] = []
        for position, pid in enumerate(ordered):
            article_id = records[pid]["metadata"]["article_id"]
            if not complete(article_id, position):
                continue
            story = members.story_of.get(article_id) or story_of.get(article_id)
            if story and shown.setdefault(story, article_id) != article_id:
                continue  # a syndicated copy of an article already shown
            if per_article.get(article_id, 0) >= self.settings.max_passages_per_article:
                continue
            per_article[article_id] = per_article.get(article_id, 0) + 1
            hit = SearchHit.from_record(records[pid], scores[pid])
            hit.story = story
            results.append(hit)
            if len(results) == k:
                break
        self._count_carriers(results, where)
        return results

    def neighbours(self, hits: list[SearchHit], width: int = 1) -> dict[str, list[SearchHit]]:
        """For each hit, the passages up to `width` either side of it in its own article (by chunk number),
        read from the store by id; those already among `hits` are left out. Keyed by the hit's passage id."""
        held = {hit.passage_id for hit in hits}
        wanted: dict[str, str] = {}  # neighbour id -> the hit it sits beside
        for hit in hits:
            chunk = hit.chunk
            if chunk is None:
                continue
            article = hit.passage_id.rpartition("#")[0]
            for step in range(1, width + 1):
                for index in (chunk - step, chunk + step):
                    pid = f"{article}#{index}"
                    if index >= 0 and pid not in held:
                        wanted.setdefault(pid, hit.passage_id)
        found: dict[str, list[SearchHit]] = {hit.passage_id: [] for hit in hits}
        by_id = {hit.passage_id: hit for hit in hits}
        for record in self.store.get_passages(sorted(wanted)):
            beside = by_id[wanted[record["id"]]]
            neighbour = SearchHit.from_record(record, beside.score)
            neighbour.story, neighbour.also_carried_by = beside.story, beside.also_carried_by
            found[beside.passage_id].append(neighbour)
        return found


class NewsRetriever(BaseRetriever):
    """LangChain retriever over the hybrid searcher, for use in chains."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: HybridSearcher
    k: int = 5
    where: PassageFilter | None = None
    mode: Mode = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [hit.to_document() for hit in self.searcher.search(query, self.k, self.where, self.mode)]
