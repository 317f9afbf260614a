"""Story groups: syndicated copies of one article, found by MinHash LSH over word shingles.

An article's signature is a MinHash (datasketch) of its word n-grams. An LSH index finds the stored
articles whose signatures may be close; a candidate is a copy when the estimated share of the shorter
article's shingles that the other one holds (containment) reaches the policy's threshold. Containment
rather than Jaccard, because syndication trims endings: a copy cut to half its length has Jaccard 0.5
with its original and containment near 1. The signatures are kept in the article manifest, so the index
is rebuilt from the store and survives restarts (and works the same over a shared Chroma server).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rag.config import DuplicatePolicy
from rag.text import words

if TYPE_CHECKING:
    from datasketch import MinHash

# The seed and hashing scheme of the MinHash permutations; signatures made otherwise cannot be compared.
_SEED = 1
_SCHEME = "affine32"


@dataclass(frozen=True)
class Signature:
    """A MinHash of an article's shingles and how many distinct shingles it has."""

    minhash: "MinHash"
    shingles: int

    def encode(self) -> str:
        return base64.b64encode(np.asarray(self.minhash.hashvalues, dtype=np.uint32).tobytes()).decode("ascii")


def signature_key(policy: DuplicatePolicy) -> str:
    """Names how signatures are made; a stored signature made another way is computed again."""
    return f"w{policy.shingle_words}-p{policy.num_perm}-s{_SEED}-{_SCHEME}"


def shingles(text: str, size: int) -> set[str]:
    """The distinct runs of `size` words (lower case, punctuation dropped); a shorter text is one shingle."""
    tokens = words(text)
    if not tokens:
        return set()
    if len(tokens) <= size:
        return {" ".join(tokens)}
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def containment(a: Signature, b: Signature) -> float:
    """Estimated share of the smaller article's shingles found in the other one.

    From the MinHash Jaccard estimate J and the exact set sizes: |A & B| = J (|A| + |B|) / (1 + J).
    """
    if not a.shingles or not b.shingles:
        return 0.0
    jaccard = a.minhash.jaccard(b.minhash)
    shared = jaccard * (a.shingles + b.shingles) / (1.0 + jaccard)
    return min(1.0, shared / min(a.shingles, b.shingles))


class _Bands:
    """The LSH buckets: for each of the b bands, the band's hash of every stored signature, in numpy arrays.

    Hand-written: datasketch's MinHashLSH keeps a Python set per bucket and band, about 9 KB per article
    (17 KB with the MinHash objects kept beside it; measured over 2,953 news articles), which is about a
    gigabyte for the 59,000 articles of a million-passage archive, in every process that writes. Here a
    band costs 8 bytes per article (plus 12 in the sorted copy queries use): the same buckets, since a
    band's r values are packed into one 64-bit key exactly when r <= 2 (the policy's default gives r = 2)
    and hashed otherwise. Rows are appended; the rows past the last sort are scanned directly, and the
    sort is redone once they are an eighth of all.
    """

    def __init__(self, b: int, r: int):
        self.b, self.r = b, r
        self.keys = np.zeros((0, b), dtype=np.uint64)
        self.used = 0  # rows filled
        self._sorted: np.ndarray | None = None  # per band, the keys of rows [0, _cut) in order (b x _cut)
        self._rows: np.ndarray | None = None  # per band, the rows in that order
        self._cut = 0
        # Odd multipliers for bands of more than two values (fixed, so keys are stable within a process).
        self._mix = np.random.default_rng(_SEED).integers(1, 2**63, size=r, dtype=np.uint64) | np.uint64(1)

    def key(self, hashvalues: np.ndarray) -> np.ndarray:
        """The b band keys of one signature."""
        values = np.asarray(hashvalues[: self.b * self.r], dtype=np.uint64).reshape(self.b, self.r)
        if self.r == 1:
            return values[:, 0].copy()
        if self.r == 2:
            return (values[:, 0] << np.uint64(32)) | values[:, 1]
        with np.errstate(over="ignore"):
            return (values * self._mix).sum(axis=1, dtype=np.uint64)

    def append(self, keys: np.ndarray) -> int:
        if self.used == len(self.keys):
            grown = np.zeros((max(1024, 2 * len(self.keys)), self.b), dtype=np.uint64)
            grown[: self.used] = self.keys[: self.used]
            self.keys = grown
        self.keys[self.used] = keys
        self.used += 1
        return self.used - 1

    def matches(self, keys: np.ndarray) -> np.ndarray:
        """The rows sharing at least one band key with `keys` (dead rows included: the caller drops them)."""
        if self.used - self._cut > max(1024, self.used // 8):
            block = self.keys[: self.used].T
            self._rows = np.argsort(block, axis=1, kind="stable").astype(np.int32)
            self._sorted = np.take_along_axis(block, self._rows, axis=1)
            self._cut = self.used
        found = [np.nonzero((self.keys[self._cut : self.used] == keys).any(axis=1))[0] + self._cut]
        if self._cut:
            for band in range(self.b):
                column = self._sorted[band]
                low = np.searchsorted(column, keys[band], side="left")
                high = np.searchsorted(column, keys[band], side="right")
                if high > low:
                    found.append(self._rows[band, low:high])
        return np.unique(np.concatenate(found))


class StoryIndex:
    """In-memory LSH over article signatures, with the story group of each article."""

    def __init__(self, policy: DuplicatePolicy):
        # Imported here: datasketch takes 0.8 s to import (scipy), which commands that store nothing skip.
        from datasketch import MinHash, MinHashLSH

        self._minhash = MinHash
        self.policy = policy
        self.key = signature_key(policy)
        # datasketch chooses the bands (b) and rows per band (r) for the threshold; the buckets are ours.
        params = MinHashLSH(threshold=policy.candidate_jaccard, num_perm=policy.num_perm)
        self._bands = _Bands(params.b, params.r)
        self._row: dict[str, int] = {}  # article id -> its row
        self._ids: list[str | None] = []  # row -> article id (None once removed)
        self._values = np.zeros((0, policy.num_perm), dtype=np.uint32)  # row -> its MinHash values
        self._shingles = np.zeros(0, dtype=np.int32)
        self.story: dict[str, str] = {}
        # Permutations drawn once: a MinHash draws them from its seed on creation, which costs more than
        # decoding a stored signature.
        self._permutations = MinHash(num_perm=policy.num_perm, seed=_SEED, scheme=_SCHEME).permutations

    def signature(self, text: str) -> Signature:
        found = shingles(text, self.policy.shingle_words)
        minhash = self._minhash(num_perm=self.policy.num_perm, seed=_SEED, scheme=_SCHEME, permutations=self._permutations)
        if found:
            minhash.update_batch([s.encode("utf-8") for s in found])
        return Signature(minhash, len(found))

    def decode(self, encoded: str, shingle_count: int) -> Signature:
        values = np.frombuffer(base64.b64decode(encoded), dtype=np.uint32)
        return Signature(self._minhash(seed=_SEED, hashvalues=values, scheme=_SCHEME, permutations=self._permutations), shingle_count)

    def _stored(self, article_id: str) -> Signature:
        row = self._row[article_id]
        values = self._values[row]
        return Signature(self._minhash(seed=_SEED, hashvalues=values, scheme=_SCHEME, permutations=self._permutations),
                         int(self._shingles[row]))

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._row

    def __len__(self) -> int:
        return len(self._row)

    def add(self, article_id: str, signature: Signature, story: str) -> None:
        self.remove(article_id)
        values = np.asarray(signature.minhash.hashvalues, dtype=np.uint32)
        empty = np.zeros(self._bands.b, np.uint64)  # an empty signature shares no bucket (candidates skip it)
        row = self._bands.append(self._bands.key(values) if signature.shingles else empty)
        if row == len(self._values):
            size = len(self._bands.keys)
            self._values = np.resize(self._values, (size, self.policy.num_perm))
            self._shingles = np.resize(self._shingles, size)
        self._values[row] = values
        self._shingles[row] = signature.shingles
        self._ids.append(article_id)
        self._row[article_id] = row
        self.story[article_id] = story

    def remove(self, article_id: str) -> None:
        row = self._row.pop(article_id, None)
        if row is not None:
            self._ids[row] = None
            self._shingles[row] = 0  # an empty signature is nobody's copy
            self.story.pop(article_id, None)
            if len(self._ids) - len(self._row) > max(1024, len(self._row)):
                self._compact()

    def _compact(self) -> None:
        """Drop the rows of removed articles (more than half of all): the arrays are rebuilt from the rest."""
        alive = [row for row, article_id in enumerate(self._ids) if article_id is not None]
        bands = _Bands(self._bands.b, self._bands.r)
        for row in alive:
            bands.append(self._bands.keys[row])
        self._bands = bands
        self._values, self._shingles = self._values[alive].copy(), self._shingles[alive].copy()
        self._ids = [self._ids[row] for row in alive]
        self._row = {article_id: row for row, article_id in enumerate(self._ids)}

    def _candidate_rows(self, signature: Signature) -> np.ndarray:
        if not signature.shingles or not self._row:
            return np.zeros(0, dtype=np.int64)
        rows = self._bands.matches(self._bands.key(np.asarray(signature.minhash.hashvalues, dtype=np.uint32)))
        return rows[self._shingles[rows] > 0]  # removed rows have no shingles

    def candidates(self, signature: Signature) -> list[str]:
        """The stored articles sharing a band with `signature` (what MinHashLSH.query returns)."""
        return [self._ids[row] for row in self._candidate_rows(signature).tolist()]

    def is_copy(self, a: Signature, b: Signature) -> bool:
        """The decision, shared by ingestion and regrouping: containment at or above the threshold, and the
        shorter article at least `min_length_share` of the longer (a brief quoted inside a long feature is
        not the same story)."""
        if not a.shingles or not b.shingles:
            return False
        if min(a.shingles, b.shingles) < self.policy.min_length_share * max(a.shingles, b.shingles):
            return False
        return containment(a, b) >= self.policy.containment

    def best_match(self, signature: Signature, exclude: str | None = None) -> str | None:
        """The stored article this signature is a copy of (the closest one), or None."""
        rows = self._candidate_rows(signature)
        if exclude in self._row:
            rows = rows[rows != self._row[exclude]]
        if not len(rows):
            return None
        # is_copy and containment over all candidates at once, in the same float64 steps: a syndicated
        # template with 12,000 stored copies took 0.4 s one MinHash at a time.
        mine, theirs = float(signature.shingles), self._shingles[rows].astype(np.float64)
        values = np.asarray(signature.minhash.hashvalues, dtype=np.uint32)
        jaccard = np.count_nonzero(self._values[rows] == values, axis=1) / np.float64(len(values))
        shared = jaccard * (mine + theirs) / (1.0 + jaccard)
        smaller = np.minimum(mine, theirs)
        score = np.minimum(1.0, shared / smaller)
        copies = (smaller >= self.policy.min_length_share * np.maximum(mine, theirs)) & (score >= self.policy.containment)
        if not copies.any():
            return None
        best = score[copies].max()
        return min(self._ids[row] for row in rows[copies & (score == best)].tolist())

    def assign(self, article_id: str, signature: Signature, new_story: str) -> str:
        """Put an article in the story of its closest copy, else in `new_story`; returns the story."""
        match = self.best_match(signature, exclude=article_id)
        story = self.story[match] if match else new_story
        self.add(article_id, signature, story)
        return story

    def components(self, members: list[str]) -> list[list[str]]:
        """The members split into groups of copies (linked through any chain of copies), in member order."""
        parent = {m: m for m in members}

        def root(m: str) -> str:
            while parent[m] != m:
                parent[m] = parent[parent[m]]
                m = parent[m]
            return m

        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if root(a) != root(b) and self.is_copy(self._stored(a), self._stored(b)):
                    parent[root(b)] = root(a)
        groups: dict[str, list[str]] = {}
        for m in members:
            groups.setdefault(root(m), []).append(m)
        return list(groups.values())


def new_story_id(text_hash: str) -> str:
    """A story id from the hash of the article that starts the group (never an article id, so deleting an
    article and storing another under its name cannot merge two groups)."""
    return f"s-{text_hash[:16]}"


def _written_order(item: tuple[str, dict]) -> tuple[float, str]:
    return float(item[1].get("written_at", 0)), item[0]


class StoryKeeper:
    """Keeps the story groups in the article manifest consistent as articles are added, changed and deleted.

    What a group needs is stored in each article's manifest record (`story`, `minhash`, `shingles`,
    `minhash_key`), so the LSH index is rebuilt from the store by `load()`: nothing beside Chroma to keep in
    step, and a shared Chroma server shares the groups too.
    """

    def __init__(self, store, policy: DuplicatePolicy):
        self.store = store
        self.policy = policy
        self.index = StoryIndex(policy)

    def load(self, manifest: dict[str, dict]) -> bool:
        """Build the index from the complete articles of `manifest`; articles stored without a usable
        signature (an older store, other shingle settings) get one and a story now. True if any record changed."""
        complete = sorted(((a, r) for a, r in manifest.items() if r.get("status") == "complete"), key=_written_order)
        stale = []
        for article_id, record in complete:
            if record.get("minhash_key") == self.index.key and record.get("minhash") and record.get("story"):
                signature = self.index.decode(record["minhash"], int(record.get("shingles", 0)))
                self.index.add(article_id, signature, record["story"])
            else:
                stale.append(article_id)
        for low in range(0, len(stale), 500):
            ids = stale[low : low + 500]
            texts = self.store.articles(ids=ids, with_text=True)
            updates = {}
            for article_id in ids:
                record = manifest[article_id]
                signature = self.index.signature(texts.get(article_id, {}).get("text", ""))
                story = self.index.assign(article_id, signature, new_story_id(record.get("text_hash") or article_id))
                updates[article_id] = {**record, **self.fields(signature, story)}
                manifest[article_id] = updates[article_id]
            self.store.update_article_metadata(updates)
        return bool(stale)

    def place(self, article_id: str, text: str, text_hash: str) -> dict:
        """Put a new or changed article in a story; the manifest fields to store with it."""
        signature = self.index.signature(text)
        return self.fields(signature, self.index.assign(article_id, signature, new_story_id(text_hash)))

    def fields(self, signature: Signature, story: str) -> dict:
        return {"story": story, "minhash": signature.encode(), "shingles": signature.shingles,
                "minhash_key": self.index.key}

    def regroup(self, story: str, manifest: dict[str, dict] | None = None) -> int:
        """Split a story whose members are no longer linked by copies (a linking article was deleted or
        changed); the part with the earliest-written member keeps the id. How many records changed; the
        changed records are put into `manifest` too, when one is given."""
        members = sorted(self.store.articles(where={"$and": [{"story": story}, {"status": "complete"}]}).items(),
                         key=_written_order)
        if len(members) < 2:
            return 0
        local = StoryIndex(self.policy)
        records = dict(members)
        for article_id, record in members:
            if record.get("minhash_key") != local.key or not record.get("minhash"):
                return 0  # made with other settings: load() gives it a fresh signature and story first
            local.add(article_id, local.decode(record["minhash"], int(record.get("shingles", 0))), story)
        parts = local.components([a for a, _ in members])
        updates = {}
        for part in parts[1:]:
            new = new_story_id(records[part[0]].get("text_hash") or part[0])
            updates.update({a: {**records[a], "story": new} for a in part})
        self.store.update_article_metadata(updates)
        if manifest is not None:
            manifest.update(updates)
        for article_id, record in updates.items():
            if article_id in self.index:
                self.index.story[article_id] = record["story"]
        return len(updates)


def other_outlets(members: list[tuple[str, str]], article_id: str, source_key: str) -> int:
    """How many outlets besides this article's own carry its story: the distinct outlets of the other
    members, each member of unknown outlet counted as one. `members` is (article id, source key)."""
    known, unknown = set(), 0
    for member, key in members:
        if member == article_id:
            continue
        if not key:
            unknown += 1
        elif key != source_key:
            known.add(key)
    return len(known) + unknown
