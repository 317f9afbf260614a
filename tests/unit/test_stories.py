"""Story groups of syndicated copies: detection at ingest, persistence, deletion, search, briefings, front ends."""

from __future__ import annotations

import base64
import json
import shutil
import tracemalloc

import numpy as np
import pytest

import rag.retrieval
from rag.config import DuplicatePolicy
from rag.service import RagService
from rag.stories import Signature, StoryIndex, containment, other_outlets, shingles
from tests.conftest import SAMPLE_CORPUS

ORIGINAL = "004_8551b460ac1e439b"  # Bloomberg on Toretsk
# The other sample articles: written independently about the same battle, never copies of one another.
SAME_EVENT = tuple(sorted(p.stem for p in SAMPLE_CORPUS.glob("*.txt") if p.stem != ORIGINAL))


def syndicated(text: str, outlet: str, keep: float = 0.7) -> str:
    """A copy edited the way syndication edits one: new headline, byline and dateline, trimmed ending, one
    sentence changed."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    paragraphs = paragraphs[: max(3, int(len(paragraphs) * keep))]
    changed = len(paragraphs) // 2
    paragraphs[changed] = paragraphs[changed].replace(".", f", {outlet} has learned.", 1)
    return (f"---\ntitle: Fighting reaches the centre of a mining town\nsource: {outlet}\n---\n"
            f"By Dana Whitfield | {outlet}\n\nKYIV ({outlet}) — " + "\n\n".join(paragraphs))


@pytest.fixture
def corpus(tmp_path):
    target = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS, target)
    return target


def add_copy(corpus, name: str, outlet: str, keep: float = 0.7, of: str = ORIGINAL):
    text = (SAMPLE_CORPUS / f"{of}.txt").read_text(encoding="utf-8")
    (corpus / f"{name}.md").write_text(syndicated(text, outlet, keep), encoding="utf-8")


def stories(service) -> dict[str, str]:
    return {d["id"]: d["story"] for d in service.documents()}


def test_a_syndicated_copy_joins_the_story_of_its_original(fake_service, corpus):
    add_copy(corpus, "courier-copy", "Harbor Courier")
    report = fake_service.ingest([corpus])
    assert report.added == 6 and report.duplicates == []
    docs = {d["id"]: d for d in fake_service.documents()}
    assert docs["courier-copy"]["story"] == docs[ORIGINAL]["story"]
    assert docs["courier-copy"]["copies"] == docs[ORIGINAL]["copies"] == 2


def test_different_articles_on_the_same_war_are_not_grouped(fake_service, corpus):
    fake_service.ingest([corpus])
    docs = fake_service.documents()
    assert len({d["story"] for d in docs}) == len(docs) == 5
    assert all(d["copies"] == 1 for d in docs)


def test_exact_duplicates_keep_being_reported_not_grouped(fake_service, corpus):
    shutil.copy(corpus / f"{ORIGINAL}.txt", corpus / "exact.txt")
    report = fake_service.ingest([corpus])
    assert [d["id"] for d in report.duplicates] == ["exact"]
    assert "exact" not in stories(fake_service)


def test_groups_survive_a_restart(fake_settings, corpus, tmp_path):
    RagService(fake_settings).ingest([corpus])
    later = tmp_path / "later"
    later.mkdir()
    add_copy(later, "late-copy", "Valley Ledger")
    again = RagService(fake_settings)  # a new process: the LSH index is rebuilt from the manifest
    again.ingest([later])
    found = stories(again)
    assert found["late-copy"] == found[ORIGINAL]


def test_deleting_a_copy_updates_the_count_of_its_story(fake_service, corpus):
    add_copy(corpus, "courier-copy", "Harbor Courier")
    fake_service.ingest([corpus])
    assert fake_service.delete("courier-copy")
    assert {d["id"]: d["copies"] for d in fake_service.documents()}[ORIGINAL] == 1
    add_copy(corpus, "courier-copy", "Harbor Courier")  # and ingested again, it rejoins
    fake_service.ingest([corpus])
    found = stories(fake_service)
    assert found["courier-copy"] == found[ORIGINAL]


def test_a_changed_article_that_is_no_longer_a_copy_leaves_the_story(fake_service, corpus):
    add_copy(corpus, "courier-copy", "Harbor Courier")
    fake_service.ingest([corpus])
    (corpus / "courier-copy.md").write_text("---\nsource: Harbor Courier\n---\nThe ferry to the island resumed its "
                                            "summer timetable on Monday after the harbour works ended.\n", encoding="utf-8")
    report = fake_service.ingest([corpus])
    assert report.updated == 1
    found = stories(fake_service)
    assert found["courier-copy"] != found[ORIGINAL]
    assert {d["id"]: d["copies"] for d in fake_service.documents()}[ORIGINAL] == 1


def test_a_chain_of_copies_splits_when_its_middle_is_deleted(fake_service, corpus, tmp_path):
    """A-B-C linked only through B: deleting B leaves A and C in separate stories."""
    index = StoryIndex(fake_service.settings.duplicates)
    words = [f"w{i}" for i in range(300)]
    a, b, c = " ".join(words[:200]), " ".join(words[60:260]), " ".join(words[120:300])
    assert index.is_copy(index.signature(a), index.signature(b)) and index.is_copy(index.signature(b), index.signature(c))
    assert not index.is_copy(index.signature(a), index.signature(c))
    folder = tmp_path / "chain"
    folder.mkdir()
    for name, text in (("a", a), ("b", b), ("c", c)):
        (folder / f"{name}.txt").write_text(text + ".\n", encoding="utf-8")
    fake_service.ingest([folder])
    assert len(set(stories(fake_service).values())) == 1
    fake_service.delete("b")
    found = stories(fake_service)
    assert found["a"] != found["c"]


def test_articles_stored_without_a_story_get_one_on_the_next_ingest(fake_service, corpus):
    add_copy(corpus, "courier-copy", "Harbor Courier")
    fake_service.ingest([corpus])
    store = fake_service.store
    bare = []
    for article_id, record in store.articles(with_text=True).items():
        text, raw_text = record.pop("text"), record.pop("raw_text")
        for key in ("story", "minhash", "shingles", "minhash_key"):
            record.pop(key, None)
        bare.append((article_id, record, text, raw_text))
    for article_id, *_ in bare:
        store.delete_article(article_id)  # an upsert would keep the fields left out
    store.put_articles(bare)  # as a store written before story groups existed
    assert all(d["copies"] == 1 for d in fake_service.documents())
    upgraded = RagService(fake_service.settings)  # the store opened by a version of newsrag that groups stories
    upgraded.ingest([corpus])
    found = stories(upgraded)
    assert found["courier-copy"] == found[ORIGINAL] and found[ORIGINAL].startswith("s-")


def test_search_shows_one_article_per_story_with_the_outlets_carrying_it(fake_service, corpus):
    add_copy(corpus, "courier-copy", "Harbor Courier", keep=0.9)
    add_copy(corpus, "ledger-copy", "Valley Ledger", keep=0.9)
    fake_service.ingest([corpus])
    hits = fake_service.search("Toretsk civilians DeepState Russian troops city center", k=10)
    group = stories(fake_service)[ORIGINAL]
    carried = [h for h in hits if h.story == group]
    assert len({h.article_id for h in carried}) == 1
    assert all(h.also_carried_by == 2 for h in carried)
    assert json.loads(json.dumps(carried[0].to_json()))["also_carried_by"] == 2


def test_a_copy_dated_after_the_as_of_day_is_not_counted(fake_service, corpus):
    text = (SAMPLE_CORPUS / f"{ORIGINAL}.txt").read_text(encoding="utf-8")
    (corpus / "late-copy.md").write_text(syndicated(text, "Harbor Courier").replace("source:", "date: 2030-01-05\nsource:", 1),
                                         encoding="utf-8")
    fake_service.ingest([corpus])
    original = next(d for d in fake_service.documents() if d["id"] == ORIGINAL)
    assert original["copies"] == 2
    assert {d["id"]: d["date"] for d in fake_service.documents()}["late-copy"] == "2030-01-05"
    hits = fake_service.search("Toretsk civilians DeepState", k=10)
    assert [h.also_carried_by for h in hits if h.story == original["story"]][0] == 1
    hits = fake_service.search("Toretsk civilians DeepState", k=10, as_of="2024-12-31")
    toretsk = [h for h in hits if h.article_id == ORIGINAL]
    assert toretsk and toretsk[0].also_carried_by == 0


def test_other_outlets_counts_outlets_not_copies():
    members = [("a", "reuters"), ("b", "reuters"), ("c", "ap"), ("d", ""), ("e", "")]
    assert other_outlets(members, "a", "reuters") == 3  # AP and two copies of unknown outlet
    assert other_outlets(members, "c", "ap") == 3  # Reuters once, two unknown


def test_a_brief_quoted_inside_a_long_article_is_not_its_copy():
    index = StoryIndex(DuplicatePolicy())
    brief = " ".join(f"w{i}" for i in range(100))
    feature = brief + " " + " ".join(f"x{i}" for i in range(500))
    assert containment(index.signature(brief), index.signature(feature)) > 0.7
    assert not index.is_copy(index.signature(brief), index.signature(feature))


def test_signatures_round_trip_through_their_stored_form():
    index = StoryIndex(DuplicatePolicy())
    signature = index.signature("Officials said the bridge would reopen in the spring after repairs to its deck.")
    back = index.decode(signature.encode(), signature.shingles)
    assert back.minhash.jaccard(signature.minhash) == 1.0 and back.shingles == signature.shingles
    assert len(shingles("one two three", 5)) == 1 and shingles("", 5) == set()


def test_briefing_counts_stories_not_copies(fake_service, corpus):
    add_copy(corpus, "courier-copy", "Harbor Courier", keep=0.9)
    fake_service.ingest([corpus])
    briefing = fake_service.brief("Toretsk civilians DeepState Russian troops")
    used = {s["article_id"] for s in briefing.sources}
    assert len(used & {ORIGINAL, "courier-copy"}) == 1
    assert briefing.coverage["matched"] <= 5  # six articles, five stories


def test_cli_docs_and_search_show_the_groups(fake_settings, corpus, monkeypatch):
    from typer.testing import CliRunner

    from rag import cli

    add_copy(corpus, "courier-copy", "Harbor Courier", keep=0.9)
    service = RagService(fake_settings)
    service.ingest([corpus])
    monkeypatch.setattr(cli, "_service", lambda: service)
    runner = CliRunner()
    rows = json.loads(runner.invoke(cli.app, ["docs", "--json"]).output)
    assert {r["id"]: r["copies"] for r in rows}["courier-copy"] == 2
    shown = runner.invoke(cli.app, ["search", "Toretsk civilians DeepState", "--k", "10"]).output
    assert "also carried by 1 outlet" in shown


def test_api_documents_carry_story_and_copies(fake_settings, corpus):
    from fastapi.testclient import TestClient

    from app import create_app

    add_copy(corpus, "courier-copy", "Harbor Courier")
    service = RagService(fake_settings)
    service.ingest([corpus])
    rows = TestClient(create_app(fake_settings, service)).get("/v1/documents").json()
    copy = next(r for r in rows if r["id"] == "courier-copy")
    assert copy["copies"] == 2 and copy["story"] == next(r["story"] for r in rows if r["id"] == ORIGINAL)


def test_source_cards_say_who_else_carries_the_story(fake_service):
    from rag.ui import source_cards

    citation = {"n": 1, "article_id": "x", "title": "T", "source": "AP", "date": None, "text": "A said b.",
                "quote": "A said b.", "also_carried_by": 3}
    assert "also carried by 3 outlets" in source_cards({"citations": [citation]}, fake_service)


def test_the_manifest_kept_between_ingests_follows_deletes_and_regroups(fake_service, tmp_path):
    """A-B-C linked through B; after B is deleted (C splits off) and another article is added, the
    ingestor's kept manifest says what the store says."""
    words = [f"w{i}" for i in range(300)]
    a, b, c = " ".join(words[:200]), " ".join(words[60:260]), " ".join(words[120:300])
    folder = tmp_path / "chain"
    folder.mkdir()
    for name, text in (("a", a), ("b", b), ("c", c)):
        (folder / f"{name}.txt").write_text(text + ".\n", encoding="utf-8")
    fake_service.ingest([folder])
    shared = stories(fake_service)["b"]
    fake_service.delete("b")
    later = tmp_path / "later"
    later.mkdir()
    (later / "b-again.txt").write_text(" ".join(words[62:262]) + ".\n", encoding="utf-8")  # a copy of b alone
    fake_service.ingest([later])
    kept = fake_service._ingestor._known[1]
    fields = ("story", "status", "content_hash", "text_hash")
    assert {i: [r.get(f) for f in fields] for i, r in kept.items()} == \
        {i: [r.get(f) for f in fields] for i, r in fake_service.store.articles().items()}
    found = stories(fake_service)
    assert found["a"] != found["c"] and shared == found["a"]  # the earliest-written part keeps the id


def test_a_copy_of_a_deleted_article_does_not_join_its_story(fake_service, tmp_path):
    words = [f"w{i}" for i in range(300)]
    (tmp_path / "first").mkdir()
    (tmp_path / "first" / "original.txt").write_text(" ".join(words[:200]) + ".\n", encoding="utf-8")
    fake_service.ingest([tmp_path / "first"])
    gone = stories(fake_service)["original"]
    fake_service.delete("original")
    (tmp_path / "second").mkdir()
    (tmp_path / "second" / "copy.txt").write_text(" ".join(words[3:200]) + ".\n", encoding="utf-8")
    fake_service.ingest([tmp_path / "second"])
    assert stories(fake_service)["copy"] != gone  # the deleted article left the kept story index too


def _random_signature(index: StoryIndex, rng: np.random.Generator, like: Signature | None = None, keep: float = 1.0) -> Signature:
    """A signature drawn at random, or one sharing about `keep` of its MinHash values with `like`."""
    values = rng.integers(0, 2**32, size=index.policy.num_perm, dtype=np.uint64).astype(np.uint32)
    if like is not None:
        same = rng.random(index.policy.num_perm) < keep
        values[same] = np.asarray(like.minhash.hashvalues, dtype=np.uint32)[same]
    return index.decode(base64.b64encode(values.tobytes()).decode("ascii"), 100)


def test_the_buckets_find_what_datasketch_lsh_finds_through_adds_removals_and_compaction():
    """The compact buckets give the candidates datasketch's MinHashLSH gives for the same signatures."""
    from datasketch import MinHashLSH

    index = StoryIndex(DuplicatePolicy())
    reference = MinHashLSH(threshold=index.policy.candidate_jaccard, num_perm=index.policy.num_perm)
    rng = np.random.default_rng(7)
    signatures: dict[str, Signature] = {}
    for i in range(3000):
        base = signatures.get(f"a{int(rng.integers(0, i))}") if i and rng.random() < 0.5 else None
        signatures[f"a{i}"] = _random_signature(index, rng, base, keep=float(rng.uniform(0.1, 0.9)))
    for article_id, signature in signatures.items():
        index.add(article_id, signature, "s")
        reference.insert(article_id, signature.minhash)

    def same_candidates() -> int:
        found = [set(index.candidates(s)) == set(reference.query(s.minhash)) for s in signatures.values()]
        assert sum(len(index.candidates(s)) > 1 for s in signatures.values()) > 500  # copies are found at all
        return sum(found)

    assert same_candidates() == len(signatures)
    for i in range(3000):
        if i % 4:  # three in four removed: the arrays are compacted on the way
            index.remove(f"a{i}")
            reference.remove(f"a{i}")
    assert len(index) == 750 and len(index._ids) < 3000
    for i in range(0, 3000, 5):  # some come back (a changed article is removed and added again)
        if f"a{i}" not in index:
            index.add(f"a{i}", signatures[f"a{i}"], "s")
            reference.insert(f"a{i}", signatures[f"a{i}"].minhash)
    assert all(set(index.candidates(s)) == set(reference.query(s.minhash)) for s in signatures.values())


def test_the_story_index_holds_about_a_kilobyte_per_article():
    """Every writing process holds the index of the whole archive: datasketch's buckets took about 9 KB per
    article (17 KB with the MinHash objects), which is gigabytes for a million-passage archive."""
    index = StoryIndex(DuplicatePolicy())
    rng = np.random.default_rng(3)
    signatures = [_random_signature(index, rng) for _ in range(4000)]
    tracemalloc.start()
    try:
        for i, signature in enumerate(signatures):
            index.add(f"article-{i:06d}", signature, f"s-{i:016x}")
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held / len(signatures) < 2500


CARRIED_QUERY = "Toretsk civilians DeepState Russian troops city center"


def carried_by(service) -> set[int]:
    group = stories(service)[ORIGINAL]
    return {h.also_carried_by for h in service.search(CARRIED_QUERY, k=10) if h.story == group}


def spy_story_reads(service, monkeypatch) -> list[str]:
    """The stories whose members a search reads from the store."""
    read: list[str] = []
    real = service.store.article_ids

    def article_ids(where=None):
        for clause in (where or {}).get("$and", [where or {}]):
            story = clause.get("story", {})
            read.extend(story.get("$in", []) if isinstance(story, dict) else [story])
        return real(where)

    monkeypatch.setattr(service.store, "article_ids", article_ids)
    return read


def test_story_members_stay_read_across_an_ingest_that_did_not_touch_them(fake_service, corpus, tmp_path, monkeypatch):
    add_copy(corpus, "courier-copy", "Harbor Courier", keep=0.9)
    fake_service.ingest([corpus])
    assert carried_by(fake_service) == {1}
    read = spy_story_reads(fake_service, monkeypatch)
    (tmp_path / "other.jsonl").write_text(
        '{"id": "kiln", "title": "Kiln fire", "text": "A pottery kiln caught fire overnight.", "source": "Clay News"}\n')
    fake_service.ingest([tmp_path / "other.jsonl"])
    assert carried_by(fake_service) == {1}
    assert stories(fake_service)[ORIGINAL] not in read  # kept from before the ingest
    add_copy(corpus, "ledger-copy", "Valley Ledger", keep=0.9)
    fake_service.ingest([corpus])
    assert carried_by(fake_service) == {2}  # the story the new copy joined gained it
    assert stories(fake_service)[ORIGINAL] not in read  # without reading the story again
    fake_service.delete("ledger-copy")
    assert carried_by(fake_service) == {1}
    assert stories(fake_service)[ORIGINAL] in read  # a member left: the story is read again


def test_story_members_are_read_again_when_the_writer_gives_stored_articles_stories(fake_service, corpus, tmp_path):
    add_copy(corpus, "courier-copy", "Harbor Courier", keep=0.9)
    fake_service.ingest([corpus])
    store = fake_service.store
    record = store.articles(ids=["courier-copy"], with_text=True)["courier-copy"]
    text, raw_text = record.pop("text"), record.pop("raw_text")
    for key in ("story", "minhash", "shingles", "minhash_key"):
        record.pop(key, None)
    store.delete_article("courier-copy")  # an upsert would keep the fields left out
    store.put_articles([("courier-copy", record, text, raw_text)])  # as written before story groups existed
    store.bump_version()
    fake_service._ingestor._known = None  # as a server started on that store: its manifest is read afresh
    assert carried_by(fake_service) == {0}
    (tmp_path / "other.jsonl").write_text(
        '{"id": "kiln", "title": "Kiln fire", "text": "A pottery kiln caught fire overnight.", "source": "Clay News"}\n')
    fake_service.ingest([tmp_path / "other.jsonl"])  # the copy gets its story back on the way
    assert carried_by(fake_service) == {1}


def test_story_members_read_while_the_store_changes_are_not_kept(fake_service, corpus, monkeypatch):
    add_copy(corpus, "courier-copy", "Harbor Courier", keep=0.9)
    fake_service.ingest([corpus])
    searcher, store = fake_service.searcher, fake_service.store
    searcher._manifest = (None, [], {}, {})  # no whole-manifest view: members are read story by story
    real = store.article_ids

    def racing(where=None):
        ids = real(where)
        store.bump_version()  # a writer begins while the members are read
        return ids

    monkeypatch.setattr(store, "article_ids", racing)
    assert carried_by(fake_service) == {1}  # the read is used for this search
    assert stories(fake_service)[ORIGINAL] not in searcher._members.stories  # but not kept


def test_an_article_left_pending_does_not_join_the_kept_story_members(fake_service, corpus):
    """Only complete articles are story members (a pending one may be rolled back), carried over or read."""
    add_copy(corpus, "courier-copy", "Harbor Courier", keep=0.9)
    fake_service.ingest([corpus])
    searcher, group = fake_service.searcher, stories(fake_service)[ORIGINAL]
    searcher._manifest = (None, [], {}, {})  # members read story by story, as on a large archive
    assert carried_by(fake_service) == {1}
    since = searcher._members.version
    pending = {"story": group, "status": "pending", "source": "Valley Ledger", "source_key": "valley ledger"}
    searcher._keep_stories({"ledger-copy"}, since, "next", {"ledger-copy": pending})
    assert searcher._members.version == "next"
    assert "ledger-copy" not in {m["id"] for m in searcher._members.stories[group]}
    searcher._keep_stories({"ledger-copy"}, "next", "after", {"ledger-copy": {**pending, "status": "complete"}})
    assert "ledger-copy" in {m["id"] for m in searcher._members.stories[group]}


def test_big_stories_take_their_members_dates_and_outlets_from_the_keyword_index(fake_service, corpus, monkeypatch):
    """Members of big stories are read as ids, their dates and outlets taken from the keyword index (a
    manifest record carries the story signature too), giving what the records give."""
    add_copy(corpus, "courier-copy", "Harbor Courier", keep=0.9)
    add_copy(corpus, "ledger-copy", "Valley Ledger", keep=0.9)
    add_copy(corpus, "other-copy", "Harbor Courier", keep=0.9, of=SAME_EVENT[0])
    fake_service.ingest([corpus])
    fake_service.search("fighting", k=1)  # the keyword index in memory, in step with the store
    searcher = fake_service.searcher
    groups = {stories(fake_service)[ORIGINAL], stories(fake_service)[SAME_EVENT[0]]}
    assert len(groups) == 2

    def members(of: set[str]) -> dict[str, list[tuple]]:
        searcher._manifest = (None, [], {}, {})  # nothing read yet
        searcher.forget_stories()
        return {story: sorted((m["id"], m.get("source_key", ""), m.get("date_min") or 0, m.get("date_max") or 0)
                              for m in found) for story, found in searcher._story_members(of).items()}

    by_records = members(groups)
    assert sorted(len(found) for found in by_records.values()) == [2, 3]
    monkeypatch.setattr(rag.retrieval, "_MEMBER_RECORDS_MAX", 0)
    records_read: list[int] = []
    real_articles = fake_service.store.articles

    def articles(ids=None, **kwargs):
        records_read.append(len(ids or []))
        return real_articles(ids=ids, **kwargs)

    monkeypatch.setattr(fake_service.store, "articles", articles)
    assert members(groups) == by_records
    assert sum(records_read) == 0  # no record read: the index held them all
    one = stories(fake_service)[ORIGINAL]
    assert members({one}) == {one: by_records[one]}
    real_fields = searcher.keyword.article_fields  # an article the index does not hold yet: its record is read
    monkeypatch.setattr(searcher.keyword, "article_fields",
                        lambda ids: {a: v for a, v in real_fields(ids).items() if a != "courier-copy"})
    assert members(groups) == by_records


@pytest.mark.parametrize("records_max", [1000, 0])
def test_a_pending_article_is_no_story_member_however_the_members_are_read(fake_service, corpus, monkeypatch, records_max):
    add_copy(corpus, "courier-copy", "Harbor Courier", keep=0.9)
    add_copy(corpus, "ledger-copy", "Valley Ledger", keep=0.9)
    fake_service.ingest([corpus])
    fake_service.search("fighting", k=1)
    store, searcher, group = fake_service.store, fake_service.searcher, stories(fake_service)[ORIGINAL]
    record = store.articles(ids=["ledger-copy"])["ledger-copy"]
    store.put_article("ledger-copy", {**record, "status": "pending"})  # a writer is rewriting it
    monkeypatch.setattr(rag.retrieval, "_MEMBER_RECORDS_MAX", records_max)
    real_fields = searcher.keyword.article_fields  # as if the index had dropped it already
    monkeypatch.setattr(searcher.keyword, "article_fields",
                        lambda ids: {a: v for a, v in real_fields(ids).items() if a != "ledger-copy"})
    searcher._manifest = (None, [], {}, {})
    searcher.forget_stories()
    assert {m["id"] for m in searcher._story_members({group})[group]} == {ORIGINAL, "courier-copy"}


def test_the_closest_copy_is_the_one_a_signature_by_signature_comparison_finds():
    """best_match compares all candidates at once; it must pick what is_copy and containment pick one by
    one (the highest containment among copies, ties to the smallest id)."""
    index = StoryIndex(DuplicatePolicy())
    rng = np.random.default_rng(7)
    bases = [_random_signature(index, rng) for _ in range(40)]
    for i in range(600):
        base = bases[i % len(bases)]
        signature = _random_signature(index, rng, like=base, keep=float(rng.uniform(0.3, 1.0)))
        signature = index.decode(signature.encode(), int(rng.choice([40, 90, 100, 110, 300])))  # some too short or long
        index.add(f"a{i:04d}", signature, f"s{i % len(bases)}")
    for i in range(0, 600, 50):
        index.remove(f"a{i:04d}")

    def one_by_one(signature: Signature, exclude: str | None) -> str | None:
        best, best_score = None, -1.0
        for candidate in index.candidates(signature):
            other = index._stored(candidate)
            if candidate != exclude and index.is_copy(signature, other):
                score = containment(signature, other)
                if score > best_score or (score == best_score and candidate < best):
                    best, best_score = candidate, score
        return best

    queries = [(_random_signature(index, rng, like=bases[j % len(bases)], keep=float(rng.uniform(0.2, 1.0))), None)
               for j in range(200)]
    queries += [(index._stored(f"a{i:04d}"), f"a{i:04d}") for i in range(1, 600, 7) if i % 50]
    queries += [(_random_signature(index, rng), None) for _ in range(20)]  # copies of nothing
    found = [(index.best_match(s, exclude=e), one_by_one(s, e)) for s, e in queries]
    assert all(mine == reference for mine, reference in found)
    assert sum(mine is not None for mine, _ in found) > 100 and sum(mine is None for mine, _ in found) > 10


def test_a_search_takes_status_and_story_of_known_story_members_without_asking_the_store(fake_service, corpus,
                                                                                         monkeypatch):
    add_copy(corpus, "courier-copy", "Harbor Courier", keep=0.9)
    fake_service.ingest([corpus])
    fake_service.searcher._manifest = (None, [], {}, {})  # members read story by story, as on a large archive
    assert carried_by(fake_service) == {1}  # the story's members are read here
    asked: list[str] = []
    real = fake_service.store.articles

    def articles(ids=None, **kwargs):
        asked.extend(ids or [])
        return real(ids=ids, **kwargs)

    monkeypatch.setattr(fake_service.store, "articles", articles)
    hits = fake_service.search(CARRIED_QUERY, k=10)
    assert ORIGINAL in {h.article_id for h in hits} and ORIGINAL not in asked
    assert next(h.story for h in hits if h.article_id == ORIGINAL) == stories(fake_service)[ORIGINAL]


def test_story_members_of_an_older_version_do_not_vouch_for_an_article_being_rewritten(fake_service, fake_settings,
                                                                                       corpus):
    add_copy(corpus, "courier-copy", "Harbor Courier", keep=0.9)
    fake_service.ingest([corpus])
    fake_service.searcher._manifest = (None, [], {}, {})
    assert carried_by(fake_service) == {1}
    assert "courier-copy" in {h.article_id for h in fake_service.search(CARRIED_QUERY, k=10, mode="dense")}
    other = RagService(fake_settings)  # another writer begins rewriting the copy
    record = other.store.articles(ids=["courier-copy"])["courier-copy"]
    other.store.put_article("courier-copy", {**record, "status": "pending"})
    other.store.bump_version()
    assert "courier-copy" not in {h.article_id for h in fake_service.search(CARRIED_QUERY, k=10, mode="dense")}
