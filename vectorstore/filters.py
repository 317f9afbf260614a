"""The passage filter both stores understand: a date range and a set of outlets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PassageFilter:
    """Dates are YYYYMMDD integers. An article matches a date range when its own date range overlaps it;
    articles with no known date never match a date filter."""

    since: int | None = None
    until: int | None = None
    sources: frozenset[str] | None = None  # lower-cased outlet names

    @property
    def empty(self) -> bool:
        return self.since is None and self.until is None and not self.sources

    def chroma_where(self) -> dict | None:
        clauses: list[dict] = []
        if self.since is not None:
            clauses.append({"date_max": {"$gte": self.since}})
        if self.until is not None:
            clauses.append({"date_min": {"$lte": self.until}})
        if self.sources:
            clauses.append({"source_key": {"$in": sorted(self.sources)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def matches(self, metadata: dict) -> bool:
        """Whether one passage's metadata passes the filter (the same rule as `mask` and `chroma_where`)."""
        # Plain comparisons rather than `mask` on one-element arrays: a search tests every member of the
        # stories it shows (thousands for a big one), and building three arrays each took 6 us.
        if self.since is not None and not (0 < (metadata.get("date_max") or 0) and metadata["date_max"] >= self.since):
            return False
        if self.until is not None and not (0 < (metadata.get("date_min") or 0) and metadata["date_min"] <= self.until):
            return False
        return not self.sources or metadata.get("source_key", "") in self.sources

    def mask(self, date_min: np.ndarray, date_max: np.ndarray, source_key: np.ndarray) -> np.ndarray | None:
        """Boolean mask over passages (arrays use 0 for an unknown date), or None when nothing is filtered."""
        if self.empty:
            return None
        keep = np.ones(len(date_min), dtype=bool)
        if self.since is not None:
            keep &= (date_max > 0) & (date_max >= self.since)
        if self.until is not None:
            keep &= (date_min > 0) & (date_min <= self.until)
        if self.sources:
            keep &= np.isin(source_key, list(self.sources))
        return keep
