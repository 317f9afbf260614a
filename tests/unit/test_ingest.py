"""Ingestion through the service with fake embeddings: idempotence, updates, prune, duplicates, bad files."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SAMPLE_CORPUS


@pytest.fixture
def corpus(tmp_path):
    target = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS, target)
    return target


def passage_ids(service) -> set[str]:
    return {r["id"] for page in service.store.iter_passages() for r in page}


def test_first_ingest_adds_every_article(fake_service, corpus):
    report = fake_service.ingest([corpus])
    assert (report.added, report.updated, report.unchanged, report.failed) == (5, 0, 0, [])
    assert report.passages == fake_service.passage_count() > 5
    assert {d["id"] for d in fake_service.documents()} == {p.stem for p in corpus.iterdir()}


def test_reingest_changes_nothing(fake_service, corpus):
    first = fake_service.ingest([corpus])
    version = fake_service.store.version()
    again = fake_service.ingest([corpus])
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 5, 0)
    assert again.passages == first.passages
    assert fake_service.store.version() == version  # nothing written, keyword index stays valid


def test_changed_file_replaces_its_passages(fake_service, corpus):
    fake_service.ingest([corpus])
    target = corpus / "004_8551b460ac1e439b.txt"
    target.write_text("The zebra crossing in Toretsk was repainted on Monday.\n", encoding="utf-8")
    report = fake_service.ingest([corpus])
    assert (report.updated, report.unchanged) == (1, 4)
    mine = [pid for pid in passage_ids(fake_service) if pid.startswith("004_8551b460ac1e439b#")]
    assert mine == ["004_8551b460ac1e439b#0"]
    hits = fake_service.search("Bloomberg DeepState Toretsk civilians", k=10)
    assert all("DeepState" not in hit.text for hit in hits)
    assert fake_service.search("zebra crossing repainted", k=1)[0].article_id == "004_8551b460ac1e439b"


def test_prune_removes_articles_whose_files_are_gone(fake_service, corpus):
    fake_service.ingest([corpus])
    (corpus / "000_da9fdc523bd132db.txt").unlink()
    kept = fake_service.ingest([corpus])
    assert kept.removed == 0 and len(fake_service.documents()) == 5
    pruned = fake_service.ingest([corpus], prune=True)
    assert pruned.removed == 1
    assert "000_da9fdc523bd132db" not in {d["id"] for d in fake_service.documents()}
    assert not any(pid.startswith("000_da9fdc523bd132db#") for pid in passage_ids(fake_service))


def test_prune_keeps_articles_whose_file_became_unreadable(fake_service, corpus):
    fake_service.ingest([corpus])
    (corpus / "000_da9fdc523bd132db.txt").write_bytes(b"")
    report = fake_service.ingest([corpus], prune=True)
    assert report.removed == 0 and len(report.failed) == 1
    assert "000_da9fdc523bd132db" in {d["id"] for d in fake_service.documents()}


def test_exact_duplicate_under_another_name_is_reported_not_stored(fake_service, corpus):
    shutil.copy(corpus / "002_c0cdd448980c5b23.txt", corpus / "copy-of-002.txt")
    report = fake_service.ingest([corpus])
    assert report.added == 5
    assert report.duplicates == [
        {"path": str(corpus / "copy-of-002.txt"), "id": "copy-of-002", "duplicate_of": "002_c0cdd448980c5b23"}
    ]
    assert "copy-of-002" not in {d["id"] for d in fake_service.documents()}


def test_bad_files_are_reported_and_the_rest_goes_in(fake_service, corpus):
    (corpus / "empty.txt").write_text("")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (corpus / "feed.jsonl").write_text(
        '{"id": "f1", "title": "Feed one", "text": "Grain ships left Odesa on Monday.", "source": "Wire"}\n'
        "{not json\n"
        '{"id": "f2", "title": "Feed two", "text": "A second feed article about ports."}\n'
    )
    report = fake_service.ingest([corpus])
    assert report.added == 7  # 5 sample articles + 2 good feed records
    errors = {f["path"]: f["error"] for f in report.failed}
    assert set(errors) == {str(corpus / "empty.txt"), str(corpus / "binary.txt"), f"{corpus / 'feed.jsonl'} (line 2)"}
    for message in errors.values():
        assert message.endswith(".") and "\n" not in message and "Traceback" not in message
    assert fake_service.article("f1")["source"] == "Wire"


def test_same_id_twice_in_one_batch_is_refused(fake_service, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "story.txt").write_text("First story about the river crossing.")
    (tmp_path / "b" / "story.txt").write_text("Another story about a bridge.")
    report = fake_service.ingest([tmp_path / "a", tmp_path / "b"])
    assert report.added == 1 and len(report.failed) == 1
    assert "already used by" in report.failed[0]["error"]


def test_long_article_is_written_in_several_batches(fake_settings, tmp_path):
    from rag.service import RagService

    settings = fake_settings.model_copy(update={"ingest_batch_size": 3})
    service = RagService(settings)
    text = " ".join(f"Sentence number {i} talks about shelling near the plant." for i in range(300))
    (tmp_path / "long.txt").write_text(text)
    report = service.ingest([tmp_path / "long.txt"])
    record = service.store.articles(ids=["long"])["long"]
    assert record["status"] == "complete"
    assert record["passages"] == report.passages == service.passage_count() > 3


def _leave_pending_article_of_a_dead_writer(service, corpus):
    """Ingest the corpus, then mark one article pending as a writer that died mid-write leaves it."""
    from rag.documents import load_file
    from rag.ingest import article_metadata

    service.ingest([corpus])
    article = next(load_file(corpus / "001_4073937ff637e79c.txt"))
    record = article_metadata(article, "pending", 6)
    record.update(writer_pid=2**22 + 12345)  # no such process
    service.store.put_article(article.id, record)
    return article


def test_pending_article_of_a_dead_writer_is_rolled_back(fake_service, corpus):
    article = _leave_pending_article_of_a_dead_writer(fake_service, corpus)
    assert article.id not in {d["id"] for d in fake_service.documents()}
    assert all(hit.article_id != article.id for hit in fake_service.search("Sievierodonetsk retreat Stryuk", k=10))
    report = fake_service.ingest([corpus])
    assert report.added == 1 and report.unchanged == 4
    assert fake_service.store.articles(ids=[article.id])[article.id]["status"] == "complete"


def test_report_json_has_the_documented_keys(fake_service, corpus):
    data = fake_service.ingest([corpus]).to_json()
    assert {"added", "updated", "unchanged", "removed", "duplicates", "failed", "passages"} <= set(data)
    assert data["timings"]["passages_written"] == data["passages"]


def test_the_data_folder_itself_is_never_ingested(fake_settings, tmp_path):
    from rag.service import RagService

    settings = fake_settings.model_copy(update={"data_dir": tmp_path / "store"})
    service = RagService(settings)
    (tmp_path / "a.txt").write_text("An article about the ferry timetable.")
    service.ingest([tmp_path])
    report = service.ingest([tmp_path])  # the store folder now holds .json index files
    assert report.failed == [] and report.unchanged == 1


def _count_manifest_reads(service, monkeypatch) -> list[int]:
    """Counts the ingests' reads of the whole manifest (store.articles() without ids or a filter)."""
    reads = [0]
    articles = service.store.articles

    def counted(ids=None, where=None, with_text=False):
        if ids is None and where is None:
            reads[0] += 1
        return articles(ids=ids, where=where, with_text=with_text)

    monkeypatch.setattr(service.store, "articles", counted)
    return reads


def _new_article_and_a_copy(corpus, tmp_path):
    """A folder with one new article and a copy of a stored one under another name."""
    later = tmp_path / "later"
    later.mkdir()
    (later / "fresh.txt").write_text("Grain ships left Odesa on Monday under a new corridor deal.\n", encoding="utf-8")
    shutil.copy(corpus / "002_c0cdd448980c5b23.txt", later / "copy-of-002.txt")
    return later


def test_a_later_ingest_keeps_the_manifest_and_still_finds_duplicates(fake_service, corpus, tmp_path, monkeypatch):
    fake_service.ingest([corpus])
    reads = _count_manifest_reads(fake_service, monkeypatch)
    later = _new_article_and_a_copy(corpus, tmp_path)
    report = fake_service.ingest([later])
    assert reads[0] == 0  # one new article costs no read of every record
    assert report.added == 1
    assert [d["duplicate_of"] for d in report.duplicates] == ["002_c0cdd448980c5b23"]
    shutil.copy(later / "fresh.txt", later / "copy-of-fresh.txt")
    again = fake_service.ingest([later])  # what the last ingest wrote is in the kept manifest too
    assert (again.added, again.unchanged) == (0, 1)
    assert [d["duplicate_of"] for d in again.duplicates] == ["002_c0cdd448980c5b23", "fresh"]
    fake_service.delete("fresh")
    back = fake_service.ingest([later / "fresh.txt"])  # deleted: gone from the kept manifest as well
    assert back.added == 1 and reads[0] == 0


def test_another_writer_makes_the_next_ingest_read_the_manifest_afresh(fake_service, corpus, tmp_path, monkeypatch):
    from rag.service import RagService

    fake_service.ingest([corpus])
    other = RagService(fake_service.settings)  # another process writing the same archive
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "wire.txt").write_text("Ferry services to the island resumed after the storm.\n", encoding="utf-8")
    other.ingest([theirs])
    reads = _count_manifest_reads(fake_service, monkeypatch)
    shutil.copy(theirs / "wire.txt", tmp_path / "wire-again.txt")
    report = fake_service.ingest([tmp_path / "wire-again.txt"])
    assert reads[0] == 1
    assert report.added == 0 and [d["duplicate_of"] for d in report.duplicates] == ["wire"]


def test_a_failed_write_makes_the_next_ingest_read_the_manifest_afresh(fake_service, corpus, tmp_path, monkeypatch):
    fake_service.ingest([corpus])
    reads = _count_manifest_reads(fake_service, monkeypatch)
    (tmp_path / "new.txt").write_text("The port authority reopened two berths on Tuesday.\n", encoding="utf-8")
    add = fake_service.store.add_passages

    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fake_service.store, "add_passages", broken)
    with pytest.raises(OSError):
        fake_service.ingest([tmp_path / "new.txt"])
    monkeypatch.setattr(fake_service.store, "add_passages", add)
    report = fake_service.ingest([tmp_path / "new.txt"])
    assert reads[0] == 1  # what the failed run left is read from the store, not assumed
    assert report.updated == 1  # its pending record was found, so its passages were replaced
    assert fake_service.store.articles(ids=["new"])["new"]["status"] == "complete"


def test_a_primed_writer_adds_its_first_article_without_reading_every_record(fake_service, corpus, tmp_path, monkeypatch):
    from rag.service import RagService

    fake_service.ingest([corpus])
    server = RagService(fake_service.settings)  # a server starting over the archive
    server.prime_writer()
    reads = _count_manifest_reads(server, monkeypatch)
    later = _new_article_and_a_copy(corpus, tmp_path)
    report = server.ingest([later])
    assert reads[0] == 0  # read when primed, not again
    assert report.added == 1 and [d["duplicate_of"] for d in report.duplicates] == ["002_c0cdd448980c5b23"]
    assert [h.article_id for h in server.search("grain ships corridor deal Odesa", k=1)] == ["fresh"]


def test_priming_rolls_back_what_a_dead_writer_left(fake_service, corpus):
    from rag.service import RagService

    article = _leave_pending_article_of_a_dead_writer(fake_service, corpus)
    server = RagService(fake_service.settings)
    server.prime_writer()
    assert server.store.articles(ids=[article.id]) == {}
    assert article.id not in server.keyword.articles() and len(server.keyword.articles()) == 4  # before any search
    assert not any(r["id"].startswith(article.id) for page in server.store.iter_passages() for r in page)
    assert all(hit.article_id != article.id for hit in server.search("Sievierodonetsk retreat Stryuk", k=10))


def test_the_server_primes_the_writer_in_the_background_and_serves_at_once(fake_settings, monkeypatch):
    import threading

    import uvicorn

    import app
    from rag.service import RagService

    primed, served = threading.Event(), []
    monkeypatch.setattr(RagService, "prime_writer", lambda self: primed.set())
    monkeypatch.setattr(RagService, "warm_up", lambda self: None)
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: served.append(kwargs))
    app.serve(fake_settings, ingest_sample=False)
    assert served and primed.wait(10)
