"""Ingest throughput: newsrag's passages/s on a synthetic corpus, where the time goes, and the bare
`SentenceTransformer.encode` throughput on the very same passages (the practical limit here).

    python -m eval.ingest_bench [--articles 200] [--seed 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from eval.synthetic import write_corpus
from rag.config import Settings
from rag.service import RagService


def run(articles: int = 200, seed: int = 0) -> dict:
    with tempfile.TemporaryDirectory(prefix="newsrag-ingest-") as tmp:
        corpus = write_corpus(Path(tmp) / "corpus", articles, seed)
        service = RagService(Settings(data_dir=Path(tmp) / "store", chroma_url=None, embedding="minilm", _env_file=None))
        service.embeddings.warm_up()
        report = service.ingest([corpus]).to_json()
        texts = [r["text"] for page in service.store.iter_passages() for r in page]
        model = service.embeddings._model
        started = time.perf_counter()
        model.encode(texts, batch_size=service.settings.embedding_batch_size, normalize_embeddings=True)
        bare = len(texts) / (time.perf_counter() - started)
    t = report["timings"]
    return {
        "articles": articles,
        "passages": report["passages"],
        "newsrag_passages_per_s": t["passages_per_s"],
        "bare_encode_passages_per_s": round(bare, 1),
        "share_of_bare_encode": round(t["passages_per_s"] / bare, 3),
        "embed_share_of_ingest_time": t["embed_share"],
        "seconds": {k: t[k] for k in ("seconds", "embed_seconds", "store_seconds", "chunk_seconds", "keyword_seconds")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.articles, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    s = result["seconds"]
    print(f"{result['articles']} articles, {result['passages']} passages")
    print(f"newsrag ingest: {result['newsrag_passages_per_s']} passages/s "
          f"({result['share_of_bare_encode']:.0%} of bare encode at {result['bare_encode_passages_per_s']}/s)")
    print(f"time: {s['seconds']}s total = embedding {s['embed_seconds']}s ({result['embed_share_of_ingest_time']:.0%}), "
          f"Chroma writes {s['store_seconds']}s, chunking {s['chunk_seconds']}s, BM25 rebuild {s['keyword_seconds']}s")


if __name__ == "__main__":
    main()
