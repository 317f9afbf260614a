"""One ingest batch full of bad input: each bad file gets one sentence, the rest lands, the store stays consistent."""

from __future__ import annotations

import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from rag.documents import LoadError
from tests.unit.test_documents import assert_one_sentence_error, minimal_pdf

HUGE_BYTES = 100 * 1024 * 1024


def assert_store_consistent(service) -> set[str]:
    """Every manifest article is complete and has exactly its passages in Chroma (offsets into its text);
    the BM25 index, in memory and as published on disk, holds exactly Chroma's passage ids."""
    from vectorstore.keyword import KeywordIndex

    manifest = service.store.articles()
    assert {a for a, r in manifest.items() if r["status"] != "complete"} == set(), "pending records left behind"
    passages = [p for page in service.store.iter_passages() for p in page]
    assert Counter(p["metadata"]["article_id"] for p in passages) == {a: r["passages"] for a, r in manifest.items()}
    ids = {p["id"] for p in passages}
    assert ids == {f"{a}#{i}" for a, r in manifest.items() for i in range(r["passages"])}
    texts = {a: service.article(a)["text"] for a in manifest}
    for p in passages:
        meta = p["metadata"]
        assert texts[meta["article_id"]][meta["start"]:meta["end"]] == p["text"]
    assert set(service.keyword.ids) == ids
    published = KeywordIndex(service.keyword.path)
    assert published.load() and set(published.ids) == ids
    return set(manifest)


def write_huge_sparse_file(path: Path) -> None:
    """100 MB on paper, a few bytes on disk: a text line, a hole, a text line."""
    with path.open("wb") as handle:
        handle.write(b"A huge wire dump starts here.\n")
        tail = b"\nAnd it ends here, 100 MB on.\n"
        handle.seek(HUGE_BYTES - len(tail))
        handle.write(tail)
    assert path.stat().st_size >= HUGE_BYTES


def test_a_batch_of_bad_input_loses_nothing(fake_service, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    # Good files, each of a kind the bad ones imitate.
    (batch / "plain.txt").write_text(" date 2022-06-08 Troops held the line near the river crossing on Monday.")
    (batch / "latin1.txt").write_bytes(b"The caf\xe9 in Kramatorsk reopened, its owner called it \x93a small victory\x94.")
    (batch / "report.pdf").write_bytes(minimal_pdf(["A PDF report on grain exports from Odesa."]))
    depth = 5000
    (batch / "deep.html").write_bytes(
        b"<html><body>" + b"<div>" * depth + b"<p>Deeply nested page about a pontoon bridge.</p>"
        + b"</div>" * depth + b"</body></html>"
    )
    (batch / "été .. Київ report №5.txt").write_text("A story whose file name has spaces, unicode and dots.")
    outside = tmp_path / "elsewhere"
    (outside / "sub").mkdir(parents=True)
    (outside / "via dotdot.txt").write_text("A story reached through a path with a parent step in it.")
    (batch / "feed.jsonl").write_text(
        '{"id": "f1", "title": "Feed one", "text": "Grain ships left Odesa on Monday."}\n'
        '{"id": "f2", "text": "unterminated\n'
        '{"id": "f3", "title": "Feed three", "text": "A second feed article about ports."}\n'
    )
    # Bad files, with the phrase their one sentence must contain.
    (batch / "empty.txt").write_bytes(b"")
    (batch / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    (batch / "invalid-utf8.txt").write_bytes(b"Neither encoding: \x81\x8d\x8f\x90\x9d here.")
    whole_pdf = minimal_pdf(["This PDF was cut off in transit."])
    (batch / "truncated.pdf").write_bytes(whole_pdf[: len(whole_pdf) // 2])
    (batch / "zero.pdf").write_bytes(b"")
    huge = batch / "huge.txt"
    write_huge_sparse_file(huge)
    expected_errors = {
        batch / "empty.txt": "is empty",
        batch / "binary.txt": "binary file",
        batch / "invalid-utf8.txt": "neither UTF-8 nor Windows-1252",
        batch / "truncated.pdf": "not a readable PDF",
        batch / "zero.pdf": "is empty",
        batch / "huge.txt": "over the 20 MB limit",
        Path(f"{batch / 'feed.jsonl'} (line 2)"): "is not valid JSON",
    }

    warm = tmp_path / "warm-up"
    warm.mkdir()
    (warm / "warm1.html").write_text("<p>Warm-up article: loads the tokenizer, parsers and store first.</p>")
    (warm / "warm2.pdf").write_bytes(minimal_pdf(["Warm-up PDF."]))
    assert fake_service.ingest([warm]).added == 2  # what is measured below is the batch, not first-use loading
    tracemalloc.start()
    try:
        report = fake_service.ingest([batch, outside / "sub" / ".." / "via dotdot.txt"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    huge.unlink()

    # The 100 MB file is refused from its size alone: reading it would allocate at least 100 MB.
    assert peak < 16 * 1024 * 1024, f"ingest peaked at {peak / 1e6:.0f} MB of Python memory"
    errors = {Path(f["path"]): f["error"] for f in report.failed}
    assert len(report.failed) == len(errors) == len(expected_errors), report.failed
    assert set(errors) == set(expected_errors)
    for path, phrase in expected_errors.items():
        error = LoadError(str(path), errors[path])
        assert_one_sentence_error(error, Path(str(path).removesuffix(" (line 2)")))
        assert phrase in error.error, error.error

    landed = {"plain", "latin1", "report", "deep", "été .. Київ report №5", "via dotdot", "f1", "f3"}
    assert (report.added, report.updated, report.duplicates) == (len(landed), 0, [])
    assert assert_store_consistent(fake_service) == landed | {"warm1", "warm2"}
    assert fake_service.article("latin1")["text"].endswith("its owner called it “a small victory”.")
    assert "pontoon bridge" in fake_service.article("deep")["text"]
    assert [h.article_id for h in fake_service.search("pontoon bridge nested", k=1)] == ["deep"]


def test_consistency_check_catches_a_pending_record(fake_service, tmp_path):
    """The check above can fail: a pending manifest record (a writer died mid-article) trips it."""
    from rag.documents import load_file
    from rag.ingest import article_metadata

    (tmp_path / "a.txt").write_text("An article about the ferry timetable.")
    fake_service.ingest([tmp_path])
    article = next(load_file(tmp_path / "a.txt"))
    fake_service.store.put_article("a", article_metadata(article, "pending", 1))
    with pytest.raises(AssertionError, match="pending"):
        assert_store_consistent(fake_service)


def test_one_sentence_errors_have_no_second_sentence():
    """Guard for the helper the batch test relies on: a two-sentence message is rejected."""
    with pytest.raises(AssertionError):
        assert_one_sentence_error(LoadError("/x.txt", "/x.txt is empty. Try again."), Path("/x.txt"))
