"""The checks an uploaded file passes before it is written: a safe name, a supported type, the size limit,
and content that matches its type. Pure functions; RagService.upload saves and ingests what passes."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from rag.documents import SUPPORTED_SUFFIXES, content_mismatch

# Letters and digits of any script stay (a Київ.txt upload keeps its name); separators, control and
# format characters (such as right-to-left overrides) do not.
_SAFE_NAME = re.compile(r"[^\w. -]+")


def safe_filename(name: str) -> str:
    """A file name with no directory part, no traversal and no control characters."""
    base = Path(name.replace("\\", "/")).name
    base = _SAFE_NAME.sub("_", unicodedata.normalize("NFC", base)).strip(" .") or "upload"
    stem, suffix = os.path.splitext(base)
    return stem[:100] + suffix[:20]  # a long name is cut in its stem, so the type survives


@dataclass(frozen=True)
class Refusal:
    """Why one uploaded file was not stored, as one sentence; `wrong_type` when it was for its type (by name
    or by content), which the API answers with 415 when it is the only reason for a whole upload."""

    name: str
    sentence: str
    wrong_type: bool = False

    def to_json(self) -> dict:
        return {"path": self.name, "error": self.sentence}


def type_refusal(name: str) -> Refusal | None:
    """A refusal when the (sanitised) name has a type newsrag does not read; checked before any byte is read."""
    if Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
        return None
    return Refusal(name, f"{name} has an unsupported type (supported: {', '.join(SUPPORTED_SUFFIXES)}).", wrong_type=True)


def content_refusal(name: str, data: bytes, max_mb: float) -> Refusal | None:
    """A refusal when the bytes are over the upload limit or do not match the type the name claims."""
    if len(data) > limit_bytes(max_mb):
        return Refusal(name, f"{name} is over the {max_mb:g} MB upload limit.")
    mismatch = content_mismatch(name, data)
    if mismatch:
        return Refusal(name, f"{name} {mismatch}.", wrong_type=True)
    return None


def limit_bytes(max_mb: float) -> int:
    return int(max_mb * 1e6)


@dataclass
class UploadResult:
    """What an upload did: `report` is the ingest report's JSON (file names as the uploader gave them, after
    sanitising), with the refused files first in `failed`; `saved` are the files written and ingested."""

    report: dict
    refusals: list[Refusal] = field(default_factory=list)
    saved: list[Path] = field(default_factory=list)

    @property
    def stored_any(self) -> bool:
        """Whether any file went in, or was already there (unchanged, or a duplicate of a stored article)."""
        report = self.report
        return bool(report["added"] or report["updated"] or report["unchanged"] or report["duplicates"])

    @property
    def refused_for_type(self) -> Refusal | None:
        """The first refusal, when nothing was written and every file was refused for its type."""
        if not self.saved and self.refusals and all(r.wrong_type for r in self.refusals):
            return self.refusals[0]
        return None
