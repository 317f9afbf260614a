"""RSS/Atom feeds, binary refusal by content, per-article limits for feeds, and the data folder (issue 15)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from rag.documents import Article, LoadError, load_file
from tests.unit.test_documents import assert_one_sentence_error

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Harbour Wire</title>
  <link>https://harbour.example/</link>
  <item>
    <title>Ferry service resumes after storm</title>
    <link>https://harbour.example/2026/02/03/ferry</link>
    <guid>https://harbour.example/?p=101</guid>
    <pubDate>Tue, 03 Feb 2026 08:30:00 GMT</pubDate>
    <dc:creator>Mira Holm</dc:creator>
    <description>Short teaser about the ferry.</description>
    <content:encoded><![CDATA[<p>The island ferry sailed again on Tuesday.</p><script>track();</script><p>Crews had cleared <b>two</b> damaged piers.</p>]]></content:encoded>
  </item>
  <item>
    <title>Harbour fees to rise</title>
    <link>https://harbour.example/2026/02/04/fees</link>
    <pubDate>Wed, 04 Feb 2026 10:00:00 GMT</pubDate>
    <description>&lt;p&gt;Port authority says mooring fees rise by 4% in March.&lt;/p&gt;</description>
  </item>
  <item>
    <title>An item with nothing in it</title>
    <link>https://harbour.example/2026/02/05/empty</link>
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Valley Observer</title>
  <id>urn:uuid:valley</id>
  <updated>2026-03-02T12:00:00Z</updated>
  <entry>
    <title>Dam inspection finds cracks</title>
    <id>urn:uuid:entry-1</id>
    <link href="https://valley.example/dam"/>
    <updated>2026-03-02T12:00:00Z</updated>
    <author><name>Jon Reyes</name></author>
    <summary>Inspectors found cracks.</summary>
    <content type="html">&lt;p&gt;Inspectors found hairline cracks in the spillway of the valley dam.&lt;/p&gt;</content>
  </entry>
</feed>
"""


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --- RSS and Atom --------------------------------------------------------------------------------


def test_rss_items_become_articles_with_their_fields(tmp_path):
    path = _write(tmp_path, "harbour.rss", RSS)
    results = list(load_file(path))
    ferry, fees = (r for r in results if isinstance(r, Article))
    assert ferry.title == "Ferry service resumes after storm"
    assert ferry.url == "https://harbour.example/2026/02/03/ferry"
    assert (ferry.date, ferry.date_source) == ("2026-02-03", "header")
    assert ferry.source == "Harbour Wire"
    assert ferry.extra["author"] == "Mira Holm"
    # content is preferred over the summary, and its HTML becomes text without scripts or tags
    assert ferry.text == "The island ferry sailed again on Tuesday.\n\nCrews had cleared two damaged piers."
    assert ferry.extra["summary"] == "Short teaser about the ferry."
    # an item with only a summary is read from its summary, HTML cleaned
    assert fees.text == "Port authority says mooring fees rise by 4% in March."
    assert fees.date == "2026-02-04"


def test_rss_item_with_neither_content_nor_summary_is_one_sentence_and_the_rest_load(tmp_path):
    path = _write(tmp_path, "harbour.rss", RSS)
    results = list(load_file(path))
    assert [type(r) for r in results] == [Article, Article, LoadError]
    error = results[2]
    assert error.path == f"{path} (entry 3)"
    assert_one_sentence_error(error, path)
    assert "neither content nor a summary" in error.error


def test_rss_entry_ids_are_stable_and_distinct(tmp_path):
    first = [r.id for r in load_file(_write(tmp_path, "a.rss", RSS)) if isinstance(r, Article)]
    again = [r.id for r in load_file(_write(tmp_path, "copy-of-the-feed.xml", RSS)) if isinstance(r, Article)]
    assert first == again and len(set(first)) == 2
    assert all(article_id.startswith("harbour-example-") for article_id in first)


def test_atom_entry_takes_content_updated_date_and_author(tmp_path):
    (article,) = load_file(_write(tmp_path, "valley.atom", ATOM))
    assert isinstance(article, Article)
    assert article.text == "Inspectors found hairline cracks in the spillway of the valley dam."
    assert (article.title, article.source, article.url) == ("Dam inspection finds cracks", "Valley Observer", "https://valley.example/dam")
    assert article.date == "2026-03-02" and article.extra["author"] == "Jon Reyes"


def test_xml_file_that_is_a_feed_is_read_as_one(tmp_path):
    articles = [r for r in load_file(_write(tmp_path, "feed.xml", ATOM)) if isinstance(r, Article)]
    assert [a.title for a in articles] == ["Dam inspection finds cracks"]


@pytest.mark.parametrize("content", ['<?xml version="1.0"?><config><port>8080</port></config>',
                                     "<html><body><p>A web page saved as XML.</p></body></html>", "<config><unclosed>"])
def test_xml_that_is_not_a_feed_is_one_sentence(tmp_path, content):
    path = _write(tmp_path, "settings.xml", content)
    (error,) = load_file(path)
    assert isinstance(error, LoadError)
    assert_one_sentence_error(error, path)
    assert "not an RSS or Atom feed" in error.error or "not a readable RSS or Atom feed" in error.error


def test_feed_upload_check_refuses_xml_that_is_not_a_feed():
    from rag.documents import content_mismatch

    assert content_mismatch("feed.rss", RSS.encode()) is None
    assert "not an RSS or Atom feed" in content_mismatch("feed.xml", b"<config><port>1</port></config>")


def test_rss_feed_ingests_through_the_service(fake_service, tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    _write(folder, "harbour.rss", RSS)
    report = fake_service.ingest([folder])
    assert report.added == 2 and len(report.failed) == 1
    stored = {d["title"] for d in fake_service.documents()}
    assert stored == {"Ferry service resumes after storm", "Harbour fees to rise"}
    assert [h.title for h in fake_service.search("ferry piers storm", k=1)] == ["Ferry service resumes after storm"]


def test_two_copies_of_one_feed_in_a_batch_are_duplicates_not_failures(fake_service, tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    _write(folder, "harbour.rss", RSS)
    _write(folder, "harbour-copy.xml", RSS)
    report = fake_service.ingest([folder])
    assert report.added == 2 and len(report.duplicates) == 2
    assert {d["id"] for d in report.duplicates} == {d["duplicate_of"] for d in report.duplicates}
    # the entry without content or summary is still one sentence per copy, and nothing else failed
    assert len(report.failed) == 2 and all("neither content nor a summary" in f["error"] for f in report.failed)


# --- binary files refused by their content -------------------------------------------------------


def _random_bytes(seed: int, alphabet: list[int] | None = None, size: int = 4096) -> bytes:
    rng = random.Random(seed)
    if alphabet is None:
        return rng.randbytes(size).replace(b"\x00", b"")
    return bytes(rng.choice(alphabet) for _ in range(size))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("name", ["noise.txt", "noise.md", "noise.html", "noise.jsonl", "noise.rss"])
def test_random_bytes_without_nul_are_refused_as_binary(tmp_path, seed, name):
    path = _write(tmp_path, name, _random_bytes(seed))
    assert b"\x00" not in path.read_bytes()
    (error,) = load_file(path)
    assert isinstance(error, LoadError)
    assert_one_sentence_error(error, path)
    assert "binary file" in error.error


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_that_decode_as_windows_1252_are_refused_as_binary(tmp_path, seed):
    # No NUL, no control byte, none of the five bytes Windows-1252 leaves undefined: these decode cleanly.
    printable = [b for b in range(0x20, 0x100) if b not in (0x7F, 0x81, 0x8D, 0x8F, 0x90, 0x9D)]
    data = _random_bytes(seed, printable)
    data.decode("cp1252")
    path = _write(tmp_path, "noise.txt", data)
    (error,) = load_file(path)
    assert isinstance(error, LoadError)
    assert "binary file" in error.error


@pytest.mark.parametrize("text, encoding", [
    ("Le café de la gare a rouvert ses portes, à la grande joie des habitués. " * 40, "cp1252"),
    ("Київ: війська утримували лінію біля переправи в понеділок, сказав губернатор. " * 40, "utf-8"),
    ("東京の港で貨物船が動き出した。" * 200, "utf-8"),
])
def test_long_text_in_other_scripts_and_one_byte_encodings_is_not_taken_for_binary(tmp_path, text, encoding):
    (article,) = load_file(_write(tmp_path, "story.txt", text.encode(encoding)))
    assert isinstance(article, Article)


# --- per-article limits for feeds ----------------------------------------------------------------


def _jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def _records(count: int, size: int) -> list[dict]:
    return [{"id": f"r{i}", "title": f"Record {i}", "text": f"Article number {i} reports on the harbour. " + "word " * (size // 5)}
            for i in range(count)]


@pytest.mark.parametrize("name", ["export.jsonl", "export.json"])
def test_a_feed_over_the_file_limit_still_loads(tmp_path, name):
    records = _records(3, 2000)
    content = _jsonl(records) if name.endswith(".jsonl") else json.dumps(records)
    path = _write(tmp_path, name, content)
    assert path.stat().st_size > 5000
    results = list(load_file(path, max_bytes=1000, max_record_bytes=100_000))
    assert [type(r) for r in results] == [Article] * 3


def test_a_file_of_one_article_is_still_held_to_the_file_limit(tmp_path):
    path = _write(tmp_path, "long.txt", "A perfectly fine sentence.\n" * 200)
    (error,) = load_file(path, max_bytes=1000, max_record_bytes=100_000)
    assert isinstance(error, LoadError) and "limit" in error.error


@pytest.mark.parametrize("name, where", [("export.jsonl", "line 2, id 'r1'"), ("export.json", "record 2, id 'r1'")])
def test_an_oversized_record_is_one_sentence_naming_it_and_the_others_load(tmp_path, name, where):
    records = _records(3, 200)
    records[1]["text"] += "padding " * 2000
    content = _jsonl(records) if name.endswith(".jsonl") else json.dumps(records)
    path = _write(tmp_path, name, content)
    results = list(load_file(path, max_record_bytes=5000))
    assert [type(r) for r in results] == [Article, LoadError, Article]
    error = results[1]
    assert error.path == f"{path} ({where})"
    assert_one_sentence_error(error, path)
    assert "per-article limit" in error.error and "NEWSRAG_MAX_RECORD_MB" in error.error


def test_an_oversized_rss_entry_is_refused_and_the_others_load(tmp_path):
    path = _write(tmp_path, "harbour.rss", RSS.replace("Short teaser about the ferry.", "long " * 3000))
    results = list(load_file(path, max_record_bytes=5000))
    assert [type(r) for r in results] == [Article, Article, LoadError]  # content, not the summary, is the article
    path = _write(tmp_path, "harbour.rss", RSS.replace("<p>Crews had cleared", "<p>" + "long " * 3000 + "</p><p>Crews had cleared"))
    results = list(load_file(path, max_record_bytes=5000))
    assert isinstance(results[0], LoadError) and "per-article limit" in results[0].error
    assert isinstance(results[1], Article)


def test_ingest_applies_the_record_limit_not_the_file_limit_to_feeds(fake_settings, tmp_path):
    from rag.service import RagService

    service = RagService(fake_settings.model_copy(update={"max_file_mb": 0.001, "max_record_mb": 0.004}))
    records = _records(4, 300)
    records[2]["text"] += "padding " * 1000
    _write(tmp_path, "export.jsonl", _jsonl(records))
    report = service.ingest([tmp_path / "export.jsonl"])
    assert report.added == 3
    assert [f["path"] for f in report.failed] == [f"{tmp_path / 'export.jsonl'} (line 3, id 'r2')"]


# --- the data folder -------------------------------------------------------------------------------


def test_ingesting_a_folder_inside_the_data_folder_says_so(fake_service, fake_settings, tmp_path):
    (tmp_path / "a.txt").write_text("An article about the ferry timetable.")
    fake_service.ingest([tmp_path / "a.txt"])
    inside = Path(fake_settings.data_dir) / "my-articles"
    inside.mkdir(parents=True)
    (inside / "b.txt").write_text("An article that was put in the wrong place.")
    for path in (inside, Path(fake_settings.data_dir)):
        report = fake_service.ingest([path])
        assert report.added == 0
        (failure,) = report.failed
        error = LoadError(failure["path"], failure["error"])
        assert_one_sentence_error(error, path)
        assert "inside newsrag's data folder" in error.error
