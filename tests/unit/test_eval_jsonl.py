"""The eval's one JSONL reader: a sentence for an unreadable file or a line that is not a row."""

from __future__ import annotations

import pytest

from eval.briefings import load_briefing_gold
from eval.jsonl import read_rows
from eval.summaries import load_clusters

pytestmark = pytest.mark.unit


def test_rows_with_their_keys_are_read_and_blank_lines_skipped(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": "a", "n": 1}\n\n{"id": "b", "n": 2}\n', encoding="utf-8")
    assert read_rows(path, "test", ("id",)) == [{"id": "a", "n": 1}, {"id": "b", "n": 2}]


@pytest.mark.parametrize("line", ['{"n": 1}', "not json", "[1, 2]", '"id"'])
def test_a_line_that_is_not_a_row_is_named(tmp_path, line):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": "a"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^Line 2 of .* is not a test row: it needs id\.$"):
        read_rows(path, "test", ("id",))


def test_an_unreadable_file_is_one_sentence(tmp_path):
    with pytest.raises(ValueError, match="The test file .* cannot be read"):
        read_rows(tmp_path / "missing.jsonl", "test")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="cannot be read"):
        read_rows(binary, "test")


def test_briefing_gold_and_clusters_use_it(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "b1", "topic": "Port strike", "must_include": [], "must_cite": []}\n{"id": "b2"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="Line 2 of .* is not a briefing gold row: it needs id, topic, must_include, must_cite"):
        load_briefing_gold(gold)
    clusters = tmp_path / "clusters.jsonl"
    clusters.write_text('{"articles": "one text", "reference": "a summary"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="Line 1 of .* is not a summaries row: it needs 'articles'"):
        load_clusters(clusters)
    clusters.write_text("\n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no clusters"):
        load_clusters(clusters)
