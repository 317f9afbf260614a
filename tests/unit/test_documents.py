"""Loading files into articles: sample corpus, formats, feeds, bad input, encodings, hashes."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from rag.documents import (
    Article,
    LoadError,
    build_article,
    date_bounds,
    iter_files,
    load_file,
    parse_date,
)

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "ukraine-2022"
SAMPLE_FILES = sorted(SAMPLES.glob("*.txt"))
HEADER = re.compile(r"^\s*date\s+\d{4}-\d{2}-\d{2}\s*")


def load_one(path: Path, **kwargs) -> Article | LoadError:
    results = list(load_file(path, **kwargs))
    assert len(results) == 1, results
    return results[0]


def load_article(path: Path, **kwargs) -> Article:
    result = load_one(path, **kwargs)
    assert isinstance(result, Article), result
    return result


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def assert_one_sentence_error(error: LoadError, path: Path) -> None:
    assert str(path) in error.path
    assert str(path) in error.error
    assert error.error.endswith(".")
    assert "\n" not in error.error
    assert "Traceback" not in error.error
    without_path = error.error.replace(str(path), "PATH")
    assert not re.search(r"[.!?]\s+[A-Z]", without_path), error.error


@pytest.fixture(scope="module")
def samples() -> dict[str, Article]:
    return {path.name[:3]: load_article(path) for path in SAMPLE_FILES}


# --- sample corpus -------------------------------------------------------------------------------


def test_sample_corpus_has_five_files_that_all_load():
    assert len(SAMPLE_FILES) == 5
    for path in SAMPLE_FILES:
        article = load_article(path)
        assert article.id == path.stem
        assert article.origin == str(path)
        assert article.text.strip()
        assert article.title.strip()


@pytest.mark.parametrize(
    "prefix, date", [("000", "2022-06-08"), ("002", "2022-06-05"), ("003", "2022-06-12")]
)
def test_date_header_gives_the_date_and_is_removed_from_the_first_line(samples, prefix, date):
    article = samples[prefix]
    assert article.date == date
    assert article.date_source == "header"
    first_line = next(p for p in SAMPLE_FILES if p.name.startswith(prefix)).read_text(encoding="utf-8").splitlines()[0]
    assert HEADER.match(first_line)
    rest_of_line = HEADER.sub("", first_line).rstrip()
    assert len(rest_of_line) > 40
    assert article.text.splitlines()[0] == rest_of_line
    assert f"date {date}" not in article.text
    assert f"date {date}" not in article.raw_text


def test_header_date_leaves_title_inferred_from_first_sentence(samples):
    assert samples["000"].title.startswith("Kyiv: Ukrainian forces battling Russian troops")
    assert "date" not in samples["000"].title.split()[:1]


def test_undated_article_takes_newest_embedded_tweet_date(samples):
    article = samples["001"]
    assert article.date == "2022-06-24"
    assert article.date_source == "inferred"
    assert "June 22, 2022" in article.raw_text  # an older embed is there too


def test_copyright_line_gives_year_and_source(samples):
    article = samples["004"]
    assert article.date == "2024"
    assert article.date_source == "inferred"
    assert article.source == "Bloomberg"
    assert article.title == "Russian Forces Enter Mining City as Kyiv Battles to Defend East"
    assert "©2024" not in article.text
    assert "©2024 Bloomberg L.P." in article.raw_text


def test_tweet_embeds_are_stripped_from_text_but_kept_in_raw_text(samples):
    article = samples["001"]
    assert "pic.twitter.com" in article.raw_text
    assert "pic.twitter.com" not in article.text
    assert "(@serhey_hayday)" not in article.text
    assert "Defenders of #Severodonetsk" in article.raw_text
    assert "Defenders of #Severodonetsk" not in article.text


def test_advertisement_and_bare_credit_lines_are_stripped(samples):
    article = samples["004"]
    text_lines = [line.strip() for line in article.text.splitlines()]
    raw_lines = [line.strip() for line in article.raw_text.splitlines()]
    for boilerplate in ("ADVERTISEMENT", "(Institute for the Study of War a)"):
        assert boilerplate in raw_lines
        assert boilerplate not in text_lines
    assert "ADVERTISEMENT" not in article.text
    assert "(Institute for the Study of War a)" not in article.text
    # The same words inside a real sentence are kept.
    assert "the US-based Institute for the Study of War." in article.text


def test_cleaned_text_has_no_runs_of_blank_lines_or_trailing_spaces(samples):
    for article in samples.values():
        assert "\n\n\n" not in article.text
        assert not re.search(r"[ \t]+\n", article.text)
        assert article.text == article.text.strip()


def test_sample_articles_have_distinct_hashes(samples):
    assert len({a.text_hash for a in samples.values()}) == 5
    assert len({a.content_hash for a in samples.values()}) == 5


# --- dates ---------------------------------------------------------------------------------------


def test_date_bounds_year_spans_the_whole_year():
    assert date_bounds("2022") == (20220101, 20221231)


def test_date_bounds_day_is_a_single_day():
    assert date_bounds("2022-06-08") == (20220608, 20220608)


def test_date_bounds_month_contains_every_day_of_that_month_only():
    low, high = date_bounds("2022-06")
    assert low == 20220601
    assert all(low <= 20220600 + day <= high for day in range(1, 31))
    assert not low <= 20220531 <= high
    assert not low <= 20220701 <= high


def test_date_bounds_month_ends_on_the_last_real_day():
    assert date_bounds("2022-06") == (20220601, 20220630)
    assert date_bounds("2022-02")[1] == 20220228


def test_article_date_range_follows_its_date():
    article = build_article("x", "Some body text.", origin="x", published="2022-06")
    assert article.date == "2022-06"
    assert article.date_range == date_bounds("2022-06")
    undated = build_article("y", "Some body text.", origin="y")
    assert undated.date is None and undated.date_source == "none"
    assert undated.date_range is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("June 24, 2022", "2022-06-24"),
        ("Jun. 24, 2022", "2022-06-24"),
        ("2022-06-24T10:00:00Z", "2022-06-24"),
        ("  2022-06-24  ", "2022-06-24"),
        ("2022", "2022"),
        ("2022-06", "2022-06"),
        ("not a date at all", None),
        ("", None),
        ("Friday", None),
        ("2022-13-45", None),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_parse_date_keeps_month_precision_of_a_month_name():
    assert parse_date("June 2022") == "2022-06"


def test_dateline_on_first_line_gives_inferred_date(tmp_path):
    path = write(tmp_path, "dateline.txt", "KYIV, June 3, 2022 — Troops held the line.\n\nMore text follows.\n")
    article = load_article(path)
    assert article.date == "2022-06-03"
    assert article.date_source == "inferred"


def test_two_different_copyright_years_give_no_date(tmp_path):
    path = write(tmp_path, "two.txt", "A story body.\n\n© 2023 First Owner\n© 2024 Second Owner\n")
    article = load_article(path)
    assert article.date is None
    assert article.date_source == "none"


def test_header_date_wins_over_dateline(tmp_path):
    path = write(tmp_path, "both.txt", "date 2022-06-01 KYIV, June 3, 2022 — The story.\n")
    article = load_article(path)
    assert (article.date, article.date_source) == ("2022-06-01", "header")
    assert article.text == "KYIV, June 3, 2022 — The story."


def test_wire_dateline_names_the_source(tmp_path):
    path = write(tmp_path, "wire.txt", "(Reuters) -- Troops advanced on Friday.\n\nMore text.\n")
    assert load_article(path).source == "Reuters"


def test_explicit_source_wins_over_inferred_one():
    article = build_article("x", "(Reuters) -- Troops advanced.", origin="x", source="My Feed")
    assert article.source == "My Feed"


def test_copyright_holder_without_suffix_is_the_source(tmp_path):
    path = write(tmp_path, "cr.txt", "A story body.\n\nCopyright 2021 Reuters\n")
    article = load_article(path)
    assert article.source == "Reuters"
    assert (article.date, article.date_source) == ("2021", "inferred")
    assert "Copyright" not in article.text


def test_copyright_holder_loses_the_all_rights_reserved_sentence(tmp_path):
    path = write(tmp_path, "ap.txt", "A story body.\n\n© 2023 The Associated Press. All rights reserved.\n")
    assert load_article(path).source == "The Associated Press"


def test_crlf_line_endings_are_normalised(tmp_path):
    path = write(tmp_path, "crlf.txt", b"date 2022-06-08 Kyiv: first line.\r\n\r\nSecond paragraph.\r\n")
    article = load_article(path)
    assert article.date == "2022-06-08"
    assert "\r" not in article.text
    assert article.text == "Kyiv: first line.\n\nSecond paragraph."


# --- markdown ------------------------------------------------------------------------------------

MARKDOWN = """---
title: "Front Matter Title"
date: 2022-06-24
source: Kyiv Independent
url: https://example.com/story
---
# Heading In The Body

Officials published [the full report](https://example.com/report) on Friday.

A second paragraph with [another link](https://example.com/other) here.
"""


def test_markdown_front_matter_is_used_as_metadata(tmp_path):
    article = load_article(write(tmp_path, "story.md", MARKDOWN))
    assert article.id == "story"
    assert article.title == "Front Matter Title"
    assert (article.date, article.date_source) == ("2022-06-24", "header")
    assert article.source == "Kyiv Independent"
    assert article.url == "https://example.com/story"
    assert "title:" not in article.text
    assert "---" not in article.text


def test_markdown_links_become_their_text(tmp_path):
    article = load_article(write(tmp_path, "story.md", MARKDOWN))
    assert "](" not in article.text
    assert "https://example.com/report" not in article.text
    assert "the full report" in article.text
    assert "another link" in article.text
    assert "#" not in article.text
    assert "Heading In The Body" in article.text


def test_markdown_without_front_matter_takes_title_from_heading(tmp_path):
    path = write(tmp_path, "plain.markdown", "# The Heading Is The Title\n\nBody text here.\n")
    article = load_article(path)
    assert article.title == "The Heading Is The Title"
    assert article.date is None
    assert "Body text here." in article.text


def test_markdown_date_header_is_honoured(tmp_path):
    path = write(tmp_path, "dated.md", "date 2022-06-05 Kyiv said it held.\n\nMore text.\n")
    article = load_article(path)
    assert (article.date, article.date_source) == ("2022-06-05", "header")
    assert article.text.startswith("Kyiv said it held.")


def test_markdown_inline_markup_adds_no_spaces(tmp_path):
    path = write(tmp_path, "inline.md", "Read [the report](https://x.org), then *more*.\n\nThe **Kyiv**'s mayor spoke.\n")
    article = load_article(path)
    assert "Read the report, then more." in article.text
    assert "The Kyiv's mayor spoke." in article.text


def test_markdown_nested_list_keeps_parent_item_text(tmp_path):
    path = write(tmp_path, "list.md", "Intro paragraph.\n\n- Parent item\n  - Child item\n")
    article = load_article(path)
    assert "Parent item" in article.text
    assert "Child item" in article.text


# --- html ----------------------------------------------------------------------------------------

HTML = """<!doctype html>
<html><head>
<title>Tab Title | Site</title>
<meta property="og:title" content="Open Graph Title">
<meta property="og:site_name" content="The Kyiv Daily">
<meta property="og:url" content="https://kyiv.example/story">
<meta property="article:published_time" content="2022-06-24T10:00:00Z">
<style>.secret-style { color: red }</style>
<script>var secretScript = "do not index";</script>
</head><body>
<nav>Home | World | SecretNav</nav>
<article>
<p>First paragraph of the story.</p>
<p>Second paragraph of the story.</p>
<script>trackSecretly();</script>
</article>
<footer>SecretFooter links</footer>
</body></html>
"""


def test_html_metadata_from_open_graph_and_published_time(tmp_path):
    article = load_article(write(tmp_path, "page.html", HTML))
    assert article.title == "Open Graph Title"
    assert article.source == "The Kyiv Daily"
    assert article.url == "https://kyiv.example/story"
    assert (article.date, article.date_source) == ("2022-06-24", "header")


def test_html_scripts_styles_and_navigation_never_reach_text(tmp_path):
    article = load_article(write(tmp_path, "page.html", HTML))
    for secret in ("secretScript", "secret-style", "SecretNav", "trackSecretly", "SecretFooter", "color: red"):
        assert secret not in article.text
        assert secret not in article.raw_text


def test_html_paragraphs_are_kept_as_separate_paragraphs(tmp_path):
    article = load_article(write(tmp_path, "page.htm", HTML))
    assert article.text == "First paragraph of the story.\n\nSecond paragraph of the story."


def test_html_falls_back_to_title_tag_and_time_element(tmp_path):
    html = (
        "<html><head><title>Plain Title</title></head><body>"
        '<p>Posted <time datetime="2022-06-20T08:00:00+03:00">Monday</time></p>'
        "<p>Body paragraph text.</p></body></html>"
    )
    article = load_article(write(tmp_path, "fallback.html", html))
    assert article.title == "Plain Title"
    assert (article.date, article.date_source) == ("2022-06-20", "header")
    assert article.source is None
    assert "Body paragraph text." in article.text


def test_html_without_title_uses_first_heading(tmp_path):
    html = "<html><body><main><h1>Main Heading Here</h1><p>Text of the piece.</p></main></body></html>"
    article = load_article(write(tmp_path, "noheadtitle.html", html))
    assert article.title == "Main Heading Here"
    assert article.text == "Main Heading Here\n\nText of the piece."


def test_html_with_only_scripts_is_a_load_error(tmp_path):
    path = write(tmp_path, "empty.html", "<html><head><script>var x = 1;</script></head><body></body></html>")
    error = load_one(path)
    assert isinstance(error, LoadError)
    assert_one_sentence_error(error, path)
    assert "no text" in error.error


# --- pdf -----------------------------------------------------------------------------------------


def minimal_pdf(lines: list[str], title: str = "PDF Title", created: str = "D:20220624120000Z") -> bytes:
    """A tiny valid PDF with one page of Helvetica text, built by hand."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) Tj T*" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title ({title}) /CreationDate ({created}) >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_pdf_text_title_and_creation_date_are_read(tmp_path):
    path = write(tmp_path, "report.pdf", minimal_pdf(["Troops held the line in Kyiv.", "A second line."]))
    article = load_article(path)
    assert article.id == "report"
    assert "Troops held the line in Kyiv." in article.text
    assert "A second line." in article.text
    assert article.title == "PDF Title"
    assert (article.date, article.date_source) == ("2022-06-24", "header")


def test_pdf_without_text_says_it_needs_ocr(tmp_path):
    path = write(tmp_path, "scan.pdf", minimal_pdf([]))
    error = load_one(path)
    assert isinstance(error, LoadError)
    assert_one_sentence_error(error, path)
    assert "no extractable text" in error.error


def test_empty_pdf_is_a_load_error_saying_empty(tmp_path):
    path = write(tmp_path, "empty.pdf", b"")
    error = load_one(path)
    assert isinstance(error, LoadError)
    assert_one_sentence_error(error, path)
    assert "empty" in error.error


@pytest.mark.parametrize("data", [b"%PDF-1.4\n1 0 obj", b"%PDF-1.4\n" + b"\x00" * 64, b"this is not a pdf"])
def test_damaged_pdf_is_a_load_error_mentioning_pdf(tmp_path, data):
    path = write(tmp_path, "broken.pdf", data)
    error = load_one(path)
    assert isinstance(error, LoadError)
    assert_one_sentence_error(error, path)
    assert "PDF" in error.error


# --- feeds ---------------------------------------------------------------------------------------

GOOD_RECORDS = [
    {
        "id": "feed-1",
        "title": "First Feed Title",
        "text": "First feed body.",
        "source": "Feed Source",
        "url": "https://feed.example/1",
        "published": "2022-06-01T09:00:00Z",
    },
    {"id": "feed-2", "title": "Second Feed Title", "text": "Second feed body.", "date": "June 2, 2022"},
]


def test_jsonl_records_become_articles_with_their_metadata(tmp_path):
    path = write(tmp_path, "feed.jsonl", "\n".join(json.dumps(r) for r in GOOD_RECORDS) + "\n")
    articles = list(load_file(path))
    assert all(isinstance(a, Article) for a in articles)
    first, second = articles
    assert (first.id, first.title, first.source, first.url) == (
        "feed-1",
        "First Feed Title",
        "Feed Source",
        "https://feed.example/1",
    )
    assert (first.date, first.date_source) == ("2022-06-01", "header")
    assert first.text == "First feed body."
    assert first.origin == str(path)
    assert (second.id, second.date, second.date_source) == ("feed-2", "2022-06-02", "header")
    assert second.url is None


def test_jsonl_malformed_line_is_one_error_and_the_rest_still_load(tmp_path):
    lines = [json.dumps(GOOD_RECORDS[0]), "{this is not json", "", json.dumps(GOOD_RECORDS[1])]
    path = write(tmp_path, "feed.jsonl", "\n".join(lines) + "\n")
    results = list(load_file(path))
    errors = [r for r in results if isinstance(r, LoadError)]
    articles = [r for r in results if isinstance(r, Article)]
    assert [a.id for a in articles] == ["feed-1", "feed-2"]
    assert len(errors) == 1
    assert "line 2" in errors[0].error
    assert "not valid JSON" in errors[0].error
    assert_one_sentence_error(errors[0], path)


def test_jsonl_record_without_text_names_the_missing_field(tmp_path):
    lines = [json.dumps(GOOD_RECORDS[0]), json.dumps({"id": "no-body", "title": "Title only"})]
    path = write(tmp_path, "feed.jsonl", "\n".join(lines))
    results = list(load_file(path))
    assert isinstance(results[0], Article)
    (error,) = results[1:]
    assert isinstance(error, LoadError)
    assert "'text'" in error.error
    assert "line 2" in error.error
    assert_one_sentence_error(error, path)


def test_jsonl_record_that_is_not_an_object_is_an_error(tmp_path):
    path = write(tmp_path, "feed.jsonl", '[1, 2]\n"just a string"\n' + json.dumps(GOOD_RECORDS[0]))
    results = list(load_file(path))
    assert [type(r) for r in results] == [LoadError, LoadError, Article]
    assert "line 1" in results[0].error and "line 2" in results[1].error


def test_jsonl_numeric_zero_id_is_accepted(tmp_path):
    path = write(tmp_path, "feed.jsonl", json.dumps({"id": 0, "text": "Body of record zero."}) + "\n")
    article = load_one(path)
    assert isinstance(article, Article), article
    assert article.id == "0"


def test_json_feed_as_a_list(tmp_path):
    path = write(tmp_path, "feed.json", json.dumps(GOOD_RECORDS))
    articles = list(load_file(path))
    assert [a.id for a in articles] == ["feed-1", "feed-2"]
    assert all(isinstance(a, Article) for a in articles)


def test_json_feed_under_articles_key(tmp_path):
    path = write(tmp_path, "feed.json", json.dumps({"articles": GOOD_RECORDS, "next": None}))
    articles = list(load_file(path))
    assert [a.id for a in articles] == ["feed-1", "feed-2"]
    assert articles[1].title == "Second Feed Title"


def test_json_feed_record_error_names_the_record(tmp_path):
    path = write(tmp_path, "feed.json", json.dumps([GOOD_RECORDS[0], {"text": "No id here."}]))
    results = list(load_file(path))
    assert isinstance(results[0], Article)
    assert isinstance(results[1], LoadError)
    assert "record 2" in results[1].error
    assert "'id'" in results[1].error


def test_invalid_json_file_is_one_error(tmp_path):
    path = write(tmp_path, "feed.json", '{"articles": [')
    error = load_one(path)
    assert isinstance(error, LoadError)
    assert_one_sentence_error(error, path)
    assert "not valid JSON" in error.error


# --- bad files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content, phrase",
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\t\n   \n", "empty"),
        ("empty.md", b"", "empty"),
        ("empty.jsonl", b"", "empty"),
        ("binary.txt", b"GIF89a\x00\x01\x02\x03\x00\x00rest", "binary"),
        ("controls.txt", bytes(range(1, 32)) * 4, "binary"),
        ("report.docx", b"PK\x03\x04 some zip", "unsupported type '.docx'"),
        ("README", b"no suffix at all", "unsupported type 'none'"),
        ("only-ads.txt", b"ADVERTISEMENT\n\npic.twitter.com/abc\n", "no text left"),
        ("undefined.txt", b"abc \x81\x8d\x8f\x90\x9d def", "neither UTF-8 nor Windows-1252"),
    ],
)
def test_bad_file_is_exactly_one_one_sentence_error(tmp_path, name, content, phrase):
    path = write(tmp_path, name, content)
    error = load_one(path)
    assert isinstance(error, LoadError)
    assert_one_sentence_error(error, path)
    assert phrase in error.error


def test_file_over_max_bytes_is_refused(tmp_path):
    path = write(tmp_path, "big.txt", "A perfectly fine sentence.\n" * 200)
    error = load_one(path, max_bytes=1000)
    assert isinstance(error, LoadError)
    assert_one_sentence_error(error, path)
    assert "limit" in error.error
    assert isinstance(load_one(path, max_bytes=path.stat().st_size), Article)
    assert isinstance(load_one(path), Article)


def test_size_limit_message_states_the_configured_limit(tmp_path):
    path = write(tmp_path, "big.txt", b"x" * 600_000)
    error = load_one(path, max_bytes=500_000)
    assert isinstance(error, LoadError)
    assert "0.5 MB limit" in error.error


def test_missing_file_is_one_error(tmp_path):
    path = tmp_path / "nowhere.txt"
    error = load_one(path)
    assert isinstance(error, LoadError)
    assert_one_sentence_error(error, path)


def test_a_bad_file_does_not_stop_the_next_one(tmp_path):
    paths = [
        write(tmp_path, "a.txt", b""),
        write(tmp_path, "b.txt", "A good article body."),
        write(tmp_path, "c.pdf", b"%PDF-1.4\n1 0 obj"),
        write(tmp_path, "d.md", "Another good one."),
    ]
    results = [r for path in paths for r in load_file(path)]
    assert [type(r) for r in results] == [LoadError, Article, LoadError, Article]


# --- encodings -----------------------------------------------------------------------------------


def test_cp1252_bytes_decode_to_the_right_characters(tmp_path):
    path = write(tmp_path, "latin.txt", b"caf\xe9 \x93quoted\x94 is on the menu.")
    article = load_article(path)
    assert article.text == "café “quoted” is on the menu."


def test_invalid_utf8_that_is_valid_cp1252_is_decoded(tmp_path):
    data = b"Zelenskyy\x92s speech \x96 in full \x85 ended with \xabapplause\xbb."
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    article = load_article(write(tmp_path, "old.txt", data))
    assert article.text == "Zelenskyy’s speech – in full … ended with «applause»."


def test_utf8_is_not_mistaken_for_cp1252(tmp_path):
    article = load_article(write(tmp_path, "utf8.txt", "café “quoted” — Київ.".encode("utf-8")))
    assert article.text == "café “quoted” — Київ."
    assert "Ã" not in article.text


def test_utf8_bom_is_dropped_before_the_date_header(tmp_path):
    article = load_article(write(tmp_path, "bom.txt", b"\xef\xbb\xbfdate 2022-06-08 Body after a BOM.\n"))
    assert (article.date, article.date_source) == ("2022-06-08", "header")
    assert article.text == "Body after a BOM."


# --- iter_files ----------------------------------------------------------------------------------


def test_iter_files_walks_folders_and_skips_hidden_and_unsupported(tmp_path):
    root = tmp_path / "corpus"
    expected = [
        write(root, "a.txt", "a"),
        write(root, "sub/b.md", "b"),
        write(root, "sub/deeper/c.html", "<p>c</p>"),
        write(root, "sub/feed.JSONL", "{}"),
    ]
    write(root, ".hidden/secret.txt", "hidden folder")
    write(root, "sub/.cache/x.md", "hidden nested folder")
    write(root, ".dotfile.txt", "hidden file")
    write(root, "notes.docx", "unsupported")
    write(root, "sub/image.png", "unsupported")
    (root / "folder.txt").mkdir()
    found = list(iter_files([root]))
    assert all(isinstance(p, Path) for p in found)
    assert sorted(found) == sorted(expected)


def test_iter_files_passes_named_files_through_and_reports_missing_paths(tmp_path):
    named = write(tmp_path, "explicit.docx", "x")
    missing = tmp_path / "gone"
    found = list(iter_files([named, missing]))
    assert found[0] == named
    assert isinstance(found[1], LoadError)
    assert "does not exist" in found[1].error
    assert str(missing) in found[1].error
    assert found[1].error.endswith(".")


def test_iter_files_on_the_sample_corpus(tmp_path):
    assert list(iter_files([SAMPLES])) == SAMPLE_FILES


# --- hashes --------------------------------------------------------------------------------------


def make_article(**changes) -> Article:
    article = build_article(
        "a1",
        "date 2022-06-08 Kyiv: troops held.\n\nSecond paragraph.",
        origin="a1.txt",
        title="A Title",
        source="Wire",
        url="https://x.example/a1",
    )
    return dataclasses.replace(article, **changes)


def test_content_hash_is_stable_for_equal_articles():
    assert make_article().content_hash == make_article().content_hash
    assert make_article(id="other-id", origin="elsewhere.txt").content_hash == make_article().content_hash


@pytest.mark.parametrize(
    "changes",
    [
        {"text": "Kyiv: troops held.\n\nSecond paragraph changed."},
        {"title": "A Different Title"},
        {"date": "2022-06-09"},
        {"source": "Other Wire"},
        {"url": "https://x.example/other"},
    ],
)
def test_content_hash_changes_with_stored_fields(changes):
    assert make_article(**changes).content_hash != make_article().content_hash


def test_text_hash_depends_on_body_only():
    base = make_article()
    assert make_article(id="copy", title="Other Title", source="Other").text_hash == base.text_hash
    assert make_article(text=base.text + " Extra.").text_hash != base.text_hash


def test_same_body_in_two_files_has_equal_text_hash(tmp_path):
    body = "Kyiv: the same wire story filed twice.\n\nWord for word."
    first = load_article(write(tmp_path, "one.txt", body))
    second = load_article(write(tmp_path, "two.md", body))
    assert first.id != second.id
    assert first.text_hash == second.text_hash
