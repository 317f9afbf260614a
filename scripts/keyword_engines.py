"""Keyword engines compared on synthetic passages: the cost of adding one article and of a query.

    .venv/bin/python scripts/keyword_engines.py --passages 100000 [--engines bm25s,fts5,incremental]

Measured before choosing the incremental keyword index (issue 16). Every engine gets the same passages
(eval/synthetic.py articles cut by rag.chunking, tokenised once by KeywordIndex's own tokeniser: English
stop words, Snowball stemming, abbreviations spelled out) and the same queries (the gold questions, then
the first sentence of random passages), and returns the top 40 (the hybrid search's candidate count):
- bm25s: today's index; adding an article means indexing everything again;
- fts5: SQLite FTS5 with its built-in bm25() (k1=1.2, b=0.75), the pre-tokenised text in one column and
  the dates and outlet in a plain table joined in the query;
- incremental: vectorstore.keyword.KeywordIndex, whatever it is at the time of running.
The tokenised corpus is cached under /tmp (tokenising 100k passages takes about 20 s).
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.gold import DATASETS, load_gold  # noqa: E402
from eval.metrics import percentile  # noqa: E402
from eval.synthetic import synthetic_articles  # noqa: E402
from rag.chunking import split_text  # noqa: E402
from rag.text import expand_abbreviations  # noqa: E402
from vectorstore.filters import PassageFilter  # noqa: E402
from vectorstore.keyword import KeywordIndex  # noqa: E402

OUTLETS = ["reuters", "bloomberg", "the guardian", "kyiv independent", "associated press"]
N = 40


def corpus(passages: int, seed: int = 0) -> list[dict]:
    """Synthetic passages ({id, article_id, text, tokens, metadata}), cached by size and seed."""
    cache = Path(tempfile.gettempdir()) / f"newsrag-keyword-engines-{passages}-{seed}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    index = KeywordIndex(Path(tempfile.mkdtemp()), normalise=expand_abbreviations)
    rows: list[dict] = []
    for number, (name, text) in enumerate(synthetic_articles(passages // 16 + 1, seed)):
        day = int(re.match(r" date (\d{4})-(\d\d)-(\d\d)", text).expand(r"\1\2\3"))
        body = text.split(" ", 3)[-1]
        for p in split_text(body):
            rows.append({"id": f"{name}#{p.index}", "article_id": name, "text": p.text,
                         "metadata": {"article_id": name, "date_min": day, "date_max": day,
                                      "source_key": OUTLETS[number % len(OUTLETS)]}})
        if len(rows) >= passages:
            break
    rows = rows[:passages]
    for low in range(0, len(rows), 5000):
        for row, tokens in zip(rows[low:low + 5000], index._tokens([r["text"] for r in rows[low:low + 5000]])):
            row["tokens"] = tokens
    cache.write_bytes(pickle.dumps(rows))
    return rows


def queries(rows: list[dict], count: int = 200, seed: int = 0) -> list[str]:
    found = [q.question for q in load_gold(DATASETS / "ukraine-2022.jsonl")][: count // 2]
    rng = random.Random(seed)
    while len(found) < count:
        found.append(rng.choice(rows)["text"].split(". ")[0][:200])
    return found


def windows(count: int, seed: int = 0) -> list[PassageFilter]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        year, half = 2022 + rng.randrange(0, 3), rng.randrange(0, 2)
        out.append(PassageFilter(since=year * 10000 + (101 if not half else 701),
                                 until=year * 10000 + (630 if not half else 1231)))
    return out


def _ms(times: list[float]) -> dict:
    ms = [t * 1000 for t in times]
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(percentile(ms, 95), 2)}


def timed(run, items) -> list[float]:
    times = []
    for item in items:
        started = time.perf_counter()
        run(item)
        times.append(time.perf_counter() - started)
    return times


def new_article(rows: list[dict]) -> list[dict]:
    """One more article: the passages of the first article under a new id."""
    first = rows[0]["article_id"]
    return [{**r, "id": r["id"].replace(first, "added"), "article_id": "added",
             "metadata": {**r["metadata"], "article_id": "added"}} for r in rows if r["article_id"] == first]


def bench_bm25s(rows, texts, filters) -> dict:
    import bm25s

    tokenizer = KeywordIndex(Path(tempfile.mkdtemp()), normalise=expand_abbreviations)

    def build(all_rows):
        retriever = bm25s.BM25()
        retriever.index([r["tokens"] or ["\u2400"] for r in all_rows], show_progress=False)
        return retriever

    started = time.perf_counter()
    retriever = build(rows)
    build_s = time.perf_counter() - started
    date_min = np.asarray([r["metadata"]["date_min"] for r in rows])
    date_max = np.asarray([r["metadata"]["date_max"] for r in rows])
    source = np.asarray([r["metadata"]["source_key"] for r in rows], dtype=object)

    def search(query, where=None):
        tokens = [t for t in tokenizer._tokens([query])[0] if t in retriever.vocab_dict]
        if not tokens:
            return []
        scores = retriever.get_scores(tokens)
        if where is not None:
            scores = np.where(where.mask(date_min, date_max, source), scores, 0.0)
        top = np.argpartition(-scores, N - 1)[:N]
        return top[np.argsort(-scores[top])]

    plain = timed(search, texts)
    filtered = timed(lambda i: search(texts[i], filters[i]), range(len(texts)))
    return {"add_one_article_s": round(build_s, 3), "build_s": round(build_s, 2),
            "query": _ms(plain), "query_date_filter": _ms(filtered),
            "note": "adding an article rebuilds the whole index"}


def bench_fts5(rows, texts, filters) -> dict:
    tokenizer = KeywordIndex(Path(tempfile.mkdtemp()), normalise=expand_abbreviations)
    folder = Path(tempfile.mkdtemp())
    db = sqlite3.connect(folder / "fts.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE passages(row INTEGER PRIMARY KEY, id TEXT UNIQUE, article_id TEXT, "
               "date_min INT, date_max INT, source_key TEXT)")
    db.execute("CREATE INDEX passages_article ON passages(article_id)")
    db.execute("CREATE VIRTUAL TABLE terms USING fts5(tokens, tokenize=\"unicode61 remove_diacritics 0 tokenchars '_'\")")

    def insert(part):
        db.execute("BEGIN")
        for r in part:
            cur = db.execute("INSERT INTO passages(id, article_id, date_min, date_max, source_key) VALUES (?,?,?,?,?)",
                             (r["id"], r["article_id"], r["metadata"]["date_min"], r["metadata"]["date_max"],
                              r["metadata"]["source_key"]))
            db.execute("INSERT INTO terms(rowid, tokens) VALUES (?, ?)", (cur.lastrowid, " ".join(r["tokens"])))
        db.execute("COMMIT")

    started = time.perf_counter()
    for low in range(0, len(rows), 5000):
        insert(rows[low:low + 5000])
    build_s = time.perf_counter() - started
    added = new_article(rows)
    started = time.perf_counter()
    insert(added)
    add_s = time.perf_counter() - started

    def search(query, where=None):
        tokens = tokenizer._tokens([query])[0]
        if not tokens:
            return []
        match = " OR ".join(f'"{t}"' for t in tokens)
        sql = "SELECT p.id, bm25(terms) FROM terms JOIN passages p ON p.row = terms.rowid WHERE terms MATCH ?"
        args: list = [match]
        if where is not None:
            sql += " AND p.date_max >= ? AND p.date_min <= ?"
            args += [where.since, where.until]
        return db.execute(sql + " ORDER BY bm25(terms) LIMIT ?", (*args, N)).fetchall()

    plain = timed(search, texts)
    filtered = timed(lambda i: search(texts[i], filters[i]), range(len(texts)))
    return {"add_one_article_s": round(add_s, 4), "build_s": round(build_s, 2),
            "query": _ms(plain), "query_date_filter": _ms(filtered)}


def bench_incremental(rows, texts, filters) -> dict:
    folder = Path(tempfile.mkdtemp())
    index = KeywordIndex(folder, normalise=expand_abbreviations)
    started = time.perf_counter()
    index.build(({"id": r["id"], "text": r["text"], "metadata": r["metadata"]} for r in rows), "v1")
    build_s = time.perf_counter() - started
    added = new_article(rows)
    started = time.perf_counter()
    if hasattr(index, "update"):
        index.update({"added": ("hash", [{"id": r["id"], "text": r["text"], "metadata": r["metadata"]} for r in added])},
                     [], "v2")
        add_s = time.perf_counter() - started
        other = KeywordIndex(folder, normalise=expand_abbreviations)
        started = time.perf_counter()
        other.load()
        load_s = time.perf_counter() - started
        index.update({"added2": ("hash", [{"id": r["id"] + "b", "text": r["text"], "metadata": r["metadata"]}
                                          for r in added])}, [], "v3")
        started = time.perf_counter()
        other.refresh()
        seen_s = time.perf_counter() - started
    else:
        add_s = load_s = seen_s = None
    plain = timed(lambda q: index.search(q, N), texts)
    filtered = timed(lambda i: index.search(texts[i], N, filters[i]), range(len(texts)))
    return {"add_one_article_s": add_s and round(add_s, 4), "build_s": round(build_s, 2),
            "second_process_load_s": load_s and round(load_s, 3), "second_process_delta_s": seen_s and round(seen_s, 4),
            "query": _ms(plain), "query_date_filter": _ms(filtered)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--engines", default="bm25s,fts5,incremental")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = corpus(args.passages)
    print(f"corpus: {len(rows)} passages in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    texts = queries(rows)
    filters = windows(len(texts))
    result = {"passages": len(rows), "queries": len(texts)}
    for engine in args.engines.split(","):
        result[engine] = globals()[f"bench_{engine}"](rows, texts, filters)
        print(engine, json.dumps(result[engine]), file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
