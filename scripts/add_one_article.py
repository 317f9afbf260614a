"""Seconds to ingest one new article into a store holding N manifest records, three times in one process.

    .venv/bin/python scripts/add_one_article.py --records 20000 --store /tmp/manifest-bench/store

The records are written straight to the manifest (no passages behind them; random story signatures, so
no two are copies) once per store folder; the articles are ingested with fake embeddings, so what is
timed is the ingest's own work around the embedding: the manifest, the story index and the writes. Run it
from an older checkout (a git worktree) against the same folder to compare code; `--prime` first reads the
manifest as a starting server does (RagService.prime_writer), so that every round shows the steady state.
"""

from __future__ import annotations

import argparse
import base64
import json
import time
import uuid
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.service import RagService


def build(settings: Settings, records: int, files: Path) -> None:
    service = RagService(settings)
    (files / "seed.txt").write_text("The harbour board met on Monday to discuss the new ferry timetable.\n")
    service.ingest([files / "seed.txt"])
    seed = service.store.articles()["seed"]
    words = len(base64.b64decode(seed["minhash"])) // 4
    rng = np.random.default_rng(0)
    batch = []
    for i in range(records):
        signature = base64.b64encode(rng.integers(0, 2**32, words, dtype=np.uint32).tobytes()).decode()
        batch.append((f"filler-{i}", {**seed, "text_hash": uuid.uuid4().hex, "content_hash": uuid.uuid4().hex,
                                      "story": f"s-{i:016d}", "minhash": signature, "origin": f"/nowhere/{i}.txt",
                                      "passages": 0}, "", ""))
        if len(batch) == 5000 or i == records - 1:
            service.store.put_articles(batch)
            batch = []
    service.store.bump_version()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--store", type=Path, required=True, help="a folder of its own (built on the first run)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prime", action="store_true",
                        help="prime the writer first, as `newsrag serve` does at start (timed apart)")
    args = parser.parse_args()
    settings = Settings(data_dir=args.store, embedding="fake", chroma_url=None, _env_file=None)
    files = args.store.parent / "files"
    files.mkdir(parents=True, exist_ok=True)
    if not (args.store.parent / "built").exists():
        build(settings, args.records, files)
        (args.store.parent / "built").write_text(str(args.records))
    service = RagService(settings)
    service.warm_up()
    primed = round(service.prime_writer(), 3) if args.prime else None
    seconds = []
    for round_ in range(args.rounds):
        path = files / f"new-{uuid.uuid4().hex[:8]}.txt"
        path.write_text(f"Article {path.stem}: the council voted on {round_ + 2} budget lines for bridges.\n")
        started = time.perf_counter()
        report = service.ingest([path])
        seconds.append(round(time.perf_counter() - started, 3))
        if report.added != 1:
            raise SystemExit(f"the article was not added: {report.to_json()}")
        service.delete(path.stem)
    print(json.dumps({"records": len(service.store.articles()), "primed_s": primed, "ingest_s": seconds}))


if __name__ == "__main__":
    main()
