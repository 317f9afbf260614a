"""Performance benchmark: newsrag beside the plain LangChain tutorial pipeline, and at 1k/10k/100k passages.

    python -m eval.bench [--quick] [--json] [--out FILE] [--sizes 1000,10000,100000] [--fresh]
    newsrag bench ...        make bench

Everything runs on this machine in one run, so the ratios compare like with like:
- ingest: newsrag's passages/s on synthetic articles, the naive pipeline (HuggingFaceEmbeddings and
  Chroma.from_documents) on the very same passage texts, and bare encoder throughput on them (the limit);
- query, per archive size: hybrid search latency (with and without a date filter), BM25 and exact
  brute-force dense search over the same vectors, and recall@10 of Chroma's HNSW against that exact search;
  the same against a real `chroma run` server on loopback;
- answer: time to first token and total time, newsrag's default model setup against LangChain's `LlamaCpp`
  with its defaults (only n_ctx raised: its default 512 tokens cannot hold a 4-passage prompt);
- memory: peak RSS of `python app.py` serving the largest store, and of the ingest that built it.

Scale stores are built by newsrag's own ingest (in a child process, so its peak RSS is its own) from
eval/synthetic.py articles (sample articles with names, places, numbers and dates varied from a seed) and
kept under the cache folder, so a second run reuses them. --quick (under 2 minutes) checks the harness
on small sizes; its numbers are not the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from eval.gold import DATASETS, load_gold
from eval.metrics import percentile
from eval.synthetic import synthetic_articles
from rag.chunking import split_text
from rag.config import Settings
from rag.service import RagService
from vectorstore.machine import CPU_FEATURES, cpu_info

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "ukraine-2022"
FULL_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (300, 1_000)


def label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def _ms(values: list[float]) -> dict:
    return {"p50_ms": round(1000 * statistics.median(values), 2), "p95_ms": round(1000 * percentile(values, 95), 2)}


def _settings(data_dir: Path, **overrides) -> Settings:
    return Settings(data_dir=data_dir, chroma_url=None, _env_file=None, **overrides)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, process: subprocess.Popen, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with code {process.returncode} before it answered {url}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


@contextmanager
def _serving(args: list[str], health_url: str, env: dict | None = None, timeout: float = 120.0):
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            try:
                _wait_http(health_url, process, timeout)
            except RuntimeError:
                log.seek(0)
                sys.stderr.write(log.read().decode(errors="replace")[-3000:])
                raise
            yield process
        finally:
            with _suppress():
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def _suppress():
    try:
        yield
    except (ProcessLookupError, PermissionError):
        pass


def _vm_hwm_mb(pid: int) -> float:
    """Peak resident set size of a running process (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("VmHWM missing from /proc status")


# --- ingest: newsrag, the naive pipeline, the bare encoders ------------------------------------------


def _naive_ingest(texts: list[str], folder: Path) -> float:
    """The tutorial pipeline on the given passages: HuggingFaceEmbeddings + Chroma.from_documents; passages/s."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings

    from vectorstore.embeddings import _minilm_path

    embeddings = HuggingFaceEmbeddings(model_name=str(_minilm_path()))
    embeddings.embed_query("warm up")  # model loading is not ingest throughput, for either pipeline
    client = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))
    documents = [Document(page_content=text) for text in texts]
    started = time.perf_counter()
    Chroma.from_documents(documents, embedding=embeddings, client=client, collection_name="naive")
    return len(texts) / (time.perf_counter() - started)


def _bare_rates(texts: list[str], service: RagService) -> dict:
    """Passages/s of the encoders alone on the same texts: sentence-transformers, and newsrag's backend."""
    from sentence_transformers import SentenceTransformer

    from vectorstore.embeddings import _minilm_path

    backend = service.embeddings
    backend.warm_up()
    model = SentenceTransformer(str(_minilm_path()), device="cpu", local_files_only=True)
    model.encode(texts[:8])
    started = time.perf_counter()
    model.encode(texts, batch_size=getattr(backend, "batch_size", None) or 64, normalize_embeddings=True)
    rates = {"sentence_transformers": len(texts) / (time.perf_counter() - started)}
    started = time.perf_counter()
    backend.embed_documents(texts)
    rates[f"newsrag_backend ({service.settings.embedding})"] = len(texts) / (time.perf_counter() - started)
    return rates


def bench_ingest(articles: int, seed: int, rounds: int, embedding: str) -> dict:
    """Best of `rounds` for each pipeline, interleaved, so a noisy neighbour hurts neither one alone."""
    best: dict[str, float] = {}
    detail: dict = {}
    with tempfile.TemporaryDirectory(prefix="newsrag-bench-ingest-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for name, text in synthetic_articles(articles, seed):
            (corpus / name).write_text(text, encoding="utf-8")
        for round_ in range(rounds):
            service = RagService(_settings(Path(tmp) / f"store{round_}", embedding=embedding))
            report = service.ingest([corpus]).to_json()
            timings = report["timings"]
            best["newsrag"] = max(best.get("newsrag", 0.0), timings["passages_per_s"])
            if round_ == 0:
                texts = [record["text"] for page in service.store.iter_passages() for record in page]
                detail = {"articles": articles, "passages": report["passages"], "timings": timings}
            best["naive"] = max(best.get("naive", 0.0), _naive_ingest(texts, Path(tmp) / f"naive{round_}"))
            for name, rate in _bare_rates(texts, service).items():
                best[name] = max(best.get(name, 0.0), rate)
    own = max(rate for name, rate in best.items() if name.startswith("newsrag_backend"))
    encoder = service.embeddings  # the threads and batch size it ran with, and the calibration that chose them
    detail["encoder"] = {"threads": getattr(encoder, "threads", None), "batch_size": getattr(encoder, "batch_size", None),
                         "calibration": getattr(encoder, "calibration", None)}
    return {
        **detail,
        "rounds": rounds,
        "passages_per_s": {name: round(rate, 1) for name, rate in best.items()},
        "ingest_speedup_vs_naive": round(best["newsrag"] / best["naive"], 2),
        # The limit: bare SentenceTransformer.encode on the same passages. newsrag's own int8 encoder
        # alone is faster still; the share of it says what chunking and Chroma writes cost on top.
        "embed_share_of_limit": round(best["newsrag"] / best["sentence_transformers"], 3),
        "share_of_own_encoder": round(best["newsrag"] / own, 3),
    }


def bench_real_news(path: Path, embedding: str) -> dict:
    """newsrag's ingest of real articles (a feed export, file or folder, e.g. the RealTime QA archive as
    JSONL) into a fresh store, against its own bare encoder on the very passages it stored: the share says
    what cleaning, chunking, story grouping and the Chroma and keyword writes cost on top of embedding."""
    with tempfile.TemporaryDirectory(prefix="newsrag-bench-real-") as tmp:
        service = RagService(_settings(Path(tmp) / "store", embedding=embedding))
        service.embeddings.warm_up()  # model loading is not ingest throughput
        service.prime_writer()  # nor opening the store and its story index: a server does both at start
        report = service.ingest([path]).to_json()
        if not report["passages"]:
            raise ValueError(f"{path} gave no passages to ingest ({len(report['failed'])} failed); "
                             "give a feed export or a folder of articles.")
        texts = [record["text"] for page in service.store.iter_passages() for record in page]
        started = time.perf_counter()
        service.embeddings.embed_documents(texts)
        encoder = len(texts) / (time.perf_counter() - started)
    ingest = report["timings"]["passages_per_s"]
    return {"path": str(path), "articles": report["added"], "failed": len(report["failed"]),
            "passages": report["passages"], "timings": report["timings"],
            "passages_per_s": {"newsrag": ingest, f"newsrag_backend ({embedding})": round(encoder, 1)},
            "share_of_own_encoder": round(ingest / encoder, 3)}


# --- scale stores ----------------------------------------------------------------------------------


def _scale_corpus(folder: Path, passages: int, seed: int, settings: Settings) -> None:
    """Write enough synthetic articles for about `passages` passages (passages per article estimated on
    the first 50, since chunking thousands of articles twice would double the set-up time)."""
    folder.mkdir(parents=True, exist_ok=True)
    sample = [text for _, text in synthetic_articles(50, seed)]
    per_article = statistics.fmean(len(split_text(t, settings.chunk_tokens, settings.chunk_overlap)) for t in sample)
    count = max(1, round(passages / per_article))
    for name, text in synthetic_articles(count, seed):
        (folder / name).write_text(text, encoding="utf-8")


def build_store(size: int, seed: int, cache: Path, embedding: str, fresh: bool = False) -> tuple[Path, dict]:
    """A store of ~`size` synthetic passages built by newsrag's ingest in a child process (cached).

    A build that was stopped part way (the 1M tier takes hours) resumes: the corpus is written once (to a
    scratch folder, renamed when whole) and kept until the store holds it, and ingest skips the articles
    the store already holds. Each run's figures are kept, so the store's peak RSS is that of every run."""
    folder = cache / f"{embedding}-seed{seed}-{size}"
    info_file = folder / "ingest.json"
    if info_file.exists() and not fresh:
        return folder / "store", json.loads(info_file.read_text())
    corpus, runs_file = folder / "corpus", folder / "runs.jsonl"
    if fresh or not corpus.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
        scratch = folder / "corpus.partial"
        _scale_corpus(scratch, size, seed, _settings(folder))
        scratch.rename(corpus)
    articles = sum(1 for _ in corpus.iterdir())
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(folder / "store"), "NEWSRAG_EMBEDDING": embedding,
           "NEWSRAG_CHROMA_URL": ""}
    env.pop("NEWSRAG_CHROMA_URL")
    result = subprocess.run([sys.executable, "-m", "eval.bench", "--ingest-worker", str(corpus)],
                            env=env, capture_output=True, text=True, cwd=ROOT)
    if result.returncode:
        raise RuntimeError(f"building the {label(size)} store failed (run it again to resume):\n"
                           f"{result.stderr[-3000:]}")
    last = json.loads(result.stdout.strip().splitlines()[-1])
    with runs_file.open("a", encoding="utf-8") as out:
        out.write(json.dumps(last) + "\n")
    runs = [json.loads(line) for line in runs_file.read_text().splitlines() if line.strip()]
    info = {"articles": articles, **last, "runs": len(runs),
            "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
            "build_seconds": round(sum(run["timings"].get("seconds", 0.0) for run in runs), 1)}
    info_file.write_text(json.dumps(info, indent=2))
    shutil.rmtree(corpus)  # the store holds the articles; the files are not needed again
    return folder / "store", info


def _ingest_worker(corpus: Path) -> None:
    service = RagService(Settings())
    report = service.ingest([corpus]).to_json()
    # VmHWM, not getrusage's ru_maxrss: that one keeps the parent's size at fork (1.5 GB of benchmark here).
    print(json.dumps({"passages": service.store.count_passages(), "timings": report["timings"],
                      "failed": len(report["failed"]), "peak_rss_mb": _vm_hwm_mb(os.getpid())}))


# --- query -----------------------------------------------------------------------------------------


def _queries(service: RagService, count: int, seed: int) -> list[str]:
    """Gold questions, then first sentences of randomly drawn stored passages, `count` in all."""
    queries = [q.question for q in load_gold(DATASETS / "ukraine-2022.jsonl")][: count // 2]
    rng = random.Random(seed)
    pages = [record["text"] for page in service.store.iter_passages(batch=2000) for record in page[::50]]
    while len(queries) < count:
        text = rng.choice(pages)
        queries.append(text.split(". ")[0][:200])
    return queries


def _date_windows(count: int, seed: int) -> list[tuple[str, str]]:
    """Half-year windows inside the synthetic corpora's date range (2022-03-01 plus up to 900 days)."""
    rng = random.Random(seed)
    start = date(2022, 3, 1)
    windows = []
    for _ in range(count):
        low = start + timedelta(days=rng.randrange(0, 720))
        windows.append((low.isoformat(), (low + timedelta(days=182)).isoformat()))
    return windows


def bench_queries(service: RagService, queries: list[str], seed: int) -> dict:
    store = service.store
    started = time.perf_counter()
    service.searcher.sync_keyword_index(force=True)
    bm25_build = time.perf_counter() - started

    ids: list[str] = []
    blocks = []
    for page_ids, vectors in store.iter_embeddings():
        ids.extend(page_ids)
        blocks.append(vectors)
    matrix = np.vstack(blocks)
    del blocks

    service.search(queries[0])  # first call opens everything; not a user-facing latency
    windows = _date_windows(len(queries), seed)
    vectors = [np.asarray(service.embeddings.embed_query(query), dtype=np.float32) for query in queries]

    def timed(run) -> list[float]:
        """One pass over all queries per method: interleaving them would let the 150 MB exact scan
        evict the caches the next search runs from, which no serving process does between requests."""
        times = []
        for i in range(len(queries)):
            started = time.perf_counter()
            run(i)
            times.append(time.perf_counter() - started)
        return times

    hybrid = timed(lambda i: service.search(queries[i], k=10))
    filtered = timed(lambda i: service.search(queries[i], k=10, since=windows[i][0], until=windows[i][1]))
    bm25 = timed(lambda i: service.search(queries[i], k=10, mode="bm25"))
    exact_top: list[set[str]] = []
    exact = timed(lambda i: exact_top.append(
        {ids[j] for j in np.argpartition(-(matrix @ np.asarray(service.embeddings.embed_query(queries[i]),
                                                                dtype=np.float32)), 10)[:10]}))
    hnsw_top: list[set[str]] = []
    hnsw = timed(lambda i: hnsw_top.append({record["id"] for record in store.query(vectors[i].tolist(), 10)}))
    recall = [len(found & truth) / 10 for found, truth in zip(hnsw_top, exact_top)]
    return {
        "passages": len(ids),
        "queries": len(queries),
        "hybrid": _ms(hybrid),
        "hybrid_date_filter": _ms(filtered),
        "bm25": _ms(bm25),
        "exact_dense": _ms(exact),
        "hnsw_dense": _ms(hnsw),
        "hnsw_recall_at_10": round(statistics.fmean(recall), 4),
        "bm25_build_s": round(bm25_build, 2),
    }


def _chroma_server(path: Path, port: int):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if not chroma:
        raise RuntimeError("the `chroma` command is missing: run `make install`")
    args = [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    return _serving(args, f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=120)


def bench_server_mode(store_dir: Path, embedding: str, queries: list[str], seed: int) -> dict:
    """The same query benchmark against a real `chroma run` serving a copy of the store."""
    with tempfile.TemporaryDirectory(prefix="newsrag-bench-server-") as tmp:
        shutil.copytree(store_dir / "chroma", Path(tmp) / "chroma")
        port = _free_port()
        with _chroma_server(Path(tmp) / "chroma", port):
            service = RagService(Settings(data_dir=Path(tmp) / "data", chroma_url=f"http://127.0.0.1:{port}",
                                          embedding=embedding, _env_file=None))
            service.warm_up()
            return bench_queries(service, queries, seed)


# --- answer ----------------------------------------------------------------------------------------


def tutorial_chain(service: RagService, gguf: Path):
    """The LangChain tutorial RAG chain: `HuggingFaceEmbeddings` into Chroma, dense top 4, one prompt,
    `LlamaCpp` with its defaults."""
    import warnings

    from eval.naive import NaiveChain
    from vectorstore.embeddings import _minilm_path

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain_community.llms import LlamaCpp
        from langchain_huggingface import HuggingFaceEmbeddings

        # n_ctx is the one change: LlamaCpp's default (512 tokens) cannot hold four passages and a question.
        llm = LlamaCpp(model_path=str(gguf), n_ctx=2048, verbose=False)
        return NaiveChain(service, embeddings=HuggingFaceEmbeddings(model_name=str(_minilm_path())), llm=llm)


def _time_stream(chunks) -> tuple[float, float, str]:
    started = time.perf_counter()
    first = None
    text = []
    for chunk in chunks:
        if first is None and chunk:
            first = time.perf_counter() - started
        text.append(chunk)
    total = time.perf_counter() - started
    return first if first is not None else total, total, "".join(text)


def _newsrag_tokens(service: RagService, question: str, final: list[str]):
    """The model's tokens as they stream; the verified answer the user gets is appended to `final`."""
    streamed = False
    for event in service.ask_stream(question):
        if event["event"] == "token":
            streamed = True
            yield event["text"]
        elif event["event"] == "answer":
            final.append(event["answer"].answer)
            if not streamed:  # an answer without model tokens (abstention, extractive) is its first token
                yield event["answer"].answer


def bench_answers(questions: list[str]) -> dict:
    from rag.llm import resolve_gguf

    with tempfile.TemporaryDirectory(prefix="newsrag-bench-answer-") as tmp:
        service = RagService(_settings(Path(tmp)))
        service.ingest([SAMPLE])
        service.warm_up()
        naive = tutorial_chain(service, resolve_gguf(service.settings))
        list(naive.stream("warm up"))
        list(_newsrag_tokens(service, "warm up: who is the governor?", []))  # loads the model
        rows = {"newsrag": [], "naive": []}
        for question in questions:  # interleaved, so load on the machine hits both alike
            final: list[str] = []
            ttft, total, _ = _time_stream(_newsrag_tokens(service, question, final))
            rows["newsrag"].append((ttft, total, final[0]))
            rows["naive"].append(_time_stream(naive.stream(question)))
    summary = {}
    for name, values in rows.items():
        summary[name] = {
            "ttft_s": round(statistics.median(v[0] for v in values), 3),
            "total_s": round(statistics.median(v[1] for v in values), 3),
            "answer_chars": round(statistics.median(len(v[2]) for v in values)),
        }
    return {
        "questions": len(questions),
        **summary,
        "ttft_speedup_vs_naive": round(summary["naive"]["ttft_s"] / summary["newsrag"]["ttft_s"], 2),
        "answer_speedup_vs_naive": round(summary["naive"]["total_s"] / summary["newsrag"]["total_s"], 2),
    }


# --- one new article -------------------------------------------------------------------------------


def _found_by_both(service: RagService, article_id: str, word: str, sentence: str) -> bool:
    """Whether BM25 finds the article by a word only it holds and dense search by one of its passages."""
    bm25 = [hit.article_id for hit in service.search(word, k=10, mode="bm25")]
    dense = [hit.article_id for hit in service.search(sentence, k=10, mode="dense")]
    return article_id in bm25 and article_id in dense


def _visibility_worker(data_dir: Path) -> None:
    """A second process on the same store: warmed up, it waits for a line (article id, word, passage text)
    and searches until both retrievers find the article, then prints the seconds that took."""
    service = RagService(_settings(data_dir))
    service.warm_up()
    service.search("warm up", k=1)
    print("ready", flush=True)
    article_id, word, sentence = json.loads(sys.stdin.readline())
    started = time.perf_counter()
    deadline = started + 120
    while not _found_by_both(service, article_id, word, sentence) and time.perf_counter() < deadline:
        time.sleep(0.01)
    print(json.dumps({"seconds": round(time.perf_counter() - started, 3),
                      "found": _found_by_both(service, article_id, word, sentence)}), flush=True)


def bench_add_one_article(store_dir: Path, embedding: str, seed: int) -> dict:
    """Seconds from ingesting one new article into the store until both retrievers find it, in the
    ingesting process and in a second process already serving the store; then the article is deleted
    again (timed too), so the cached store stays as it was built. The ingesting process is a started
    server: its writer was primed (RagService.prime_writer, timed apart as `writer_primed_s`)."""
    service = RagService(_settings(store_dir, embedding=embedding))
    service.warm_up()
    service.search("warm up", k=1)
    primed_s = service.prime_writer()  # what `newsrag serve` does at start, in the background
    word = f"zq{uuid.uuid4().hex[:10]}"  # a word no stored passage holds
    article_id = f"bench-added-{word}"
    _, text = next(synthetic_articles(1, seed + 1))
    text = text.replace(". ", f". The {word} report said so. ", 1)
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(store_dir), "NEWSRAG_EMBEDDING": embedding}
    env.pop("NEWSRAG_CHROMA_URL", None)
    reader = subprocess.Popen([sys.executable, "-m", "eval.bench", "--visibility-worker", str(store_dir)], env=env,
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if reader.stdout.readline().strip() != "ready":
            raise RuntimeError("the second process of the add-one-article benchmark did not start")
        with tempfile.TemporaryDirectory(prefix="newsrag-bench-add-") as tmp:
            file = Path(tmp) / f"{article_id}.txt"
            file.write_text(text, encoding="utf-8")
            started = time.perf_counter()
            report = service.ingest([file])
            ingested = time.perf_counter() - started
            passage = next(r for r in service.store.get_passages([f"{article_id}#0"]))
            sentence = passage["text"]
            found = _found_by_both(service, article_id, word, sentence)
            add_s = time.perf_counter() - started
        reader.stdin.write(json.dumps([article_id, word, sentence]) + "\n")
        reader.stdin.flush()
        second = json.loads(reader.stdout.readline())
    finally:
        reader.kill()
        reader.wait()
    started = time.perf_counter()
    service.delete(article_id)
    removed = time.perf_counter() - started
    return {"passages": report.passages, "article_passages": report.passages_written, "found": found,
            "add_one_article_s": round(add_s, 3), "ingest_s": round(ingested, 3),
            "keyword_index_s": round(report.keyword_seconds, 4),
            "second_process_sees_it_s": second["seconds"], "second_process_found": second["found"],
            "remove_one_article_s": round(removed, 3), "writer_primed_s": round(primed_s, 3)}


# --- memory ----------------------------------------------------------------------------------------


def bench_server_memory(store_dir: Path, embedding: str, queries: list[str]) -> dict:
    """Peak RSS of `python app.py` serving the store after searches and one answer."""
    import httpx

    port = _free_port()
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(store_dir), "NEWSRAG_EMBEDDING": embedding,
           "NEWSRAG_PORT": str(port), "NEWSRAG_HOST": "127.0.0.1"}
    env.pop("NEWSRAG_CHROMA_URL", None)
    env.pop("NEWSRAG_API_KEY", None)
    base = f"http://127.0.0.1:{port}"
    with _serving([sys.executable, "app.py"], f"{base}/health", env=env, timeout=300) as process:
        with httpx.Client(base_url=base, timeout=300) as client:
            for query in queries[:20]:
                client.post("/v1/search", json={"query": query, "k": 10}).raise_for_status()
            client.post("/v1/ask", json={"question": queries[0]}).raise_for_status()
        return {"peak_rss_mb": _vm_hwm_mb(process.pid)}


# --- the run ---------------------------------------------------------------------------------------


def run(quick: bool = False, sizes: tuple[int, ...] | None = None, cache: Path | None = None, fresh: bool = False,
        seed: int = 0, server_mode: bool = True, progress=print, real_news: Path | None = None) -> dict:
    settings = Settings(_env_file=None)
    embedding = settings.embedding if settings.embedding != "fake" else "minilm-int8"
    sizes = tuple(sorted(sizes or (QUICK_SIZES if quick else FULL_SIZES)))
    temporary = tempfile.TemporaryDirectory(prefix="newsrag-bench-") if quick else None
    cache = Path(temporary.name) if temporary else (cache or _default_cache())
    result: dict = {
        "quick": quick,
        "machine": {"cpus": os.cpu_count(), "cpu": cpu_info(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "embedding": embedding,
        "date": date.today().isoformat(),
    }
    started = time.perf_counter()
    say = progress
    progress = lambda message: say(f"[{time.perf_counter() - started:6.1f} s] {message}")  # noqa: E731
    try:
        progress("ingest: newsrag vs the naive pipeline vs bare encoders")
        result["ingest"] = bench_ingest(20 if quick else 200, seed, 1 if quick else 2, embedding)
        if real_news:
            progress(f"ingest: real news from {real_news} vs the bare encoder")
            result["real_news_ingest"] = bench_real_news(real_news, embedding)

        result["query"], result["server_mode"], result["stores"] = {}, {}, {}
        for size in sizes:
            progress(f"query: building or loading the {label(size)} store")
            store_dir, info = build_store(size, seed, cache, embedding, fresh)
            result["stores"][label(size)] = info
            service = RagService(_settings(store_dir, embedding=embedding))
            service.warm_up()
            queries = _queries(service, 40 if quick else 200, seed)
            progress(f"query: {label(size)} embedded")
            result["query"][label(size)] = bench_queries(service, queries, seed)
            service.store.refresh()  # let go of the files before a server opens a copy
            del service
            if server_mode and (quick or size == sizes[-1]):
                progress(f"query: {label(size)} behind a Chroma server")
                result["server_mode"][label(size)] = bench_server_mode(store_dir, embedding, queries, seed)

        progress(f"add one article: the {label(sizes[-1])} store")
        result["add_one_article"] = bench_add_one_article(build_store(sizes[-1], seed, cache, embedding)[0], embedding, seed)

        progress("answer: newsrag vs the tutorial chain")
        questions = [q.question for q in load_gold(DATASETS / "ukraine-2022.jsonl") if q.answerable]
        result["answer"] = bench_answers(questions[:2] if quick else questions[:10])

        progress(f"memory: the server with the {label(sizes[-1])} store")
        store_dir, _ = build_store(sizes[-1], seed, cache, embedding)
        result["memory"] = bench_server_memory(store_dir, embedding, queries)
    finally:
        if temporary:
            temporary.cleanup()
    progress("done")
    result["seconds"] = round(time.perf_counter() - started, 1)

    result["summary"] = {
        "ingest_speedup_vs_naive": result["ingest"]["ingest_speedup_vs_naive"],
        "embed_share_of_limit": result["ingest"]["embed_share_of_limit"],
        "query_p95_ms": {k: v["hybrid_date_filter"]["p95_ms"] for k, v in result["query"].items()},
        "hnsw_recall_at_10": {k: v["hnsw_recall_at_10"] for k, v in result["query"].items()},
        "ttft_s": result["answer"]["newsrag"]["ttft_s"],
        "answer_speedup_vs_naive": result["answer"]["answer_speedup_vs_naive"],
        "peak_rss_mb": result["memory"]["peak_rss_mb"],
        "real_news_ingest_share_of_encoder": (result["real_news_ingest"]["share_of_own_encoder"]
                                              if real_news else None),
        "add_one_article_s": result["add_one_article"]["add_one_article_s"],
        "second_process_sees_it_s": result["add_one_article"]["second_process_sees_it_s"],
    }
    return result


def _default_cache() -> Path:
    from vectorstore.embeddings import default_model_cache

    return default_model_cache() / "bench"


def _cpu_line(machine: dict) -> str:
    cpu = machine.get("cpu") or {}
    features = cpu.get("features")
    named = ", ".join(features) if features else ("none of " + "/".join(CPU_FEATURES) if features == [] else "features unknown")
    return f"{cpu.get('model', 'CPU unknown')}: {named}"


def _encoder_lines(encoder: dict) -> list[str]:
    rates = ", ".join(f"{name}: {rate}/s" for name, rate in encoder["calibration"]["rates"].items())
    return ["", f"**Encoder settings** chosen on this CPU: {encoder['threads']} threads, batch {encoder['batch_size']} "
                f"(calibration, passages/s: {rates})."]


def _real_news_lines(real: dict) -> list[str]:
    rates = real["passages_per_s"]
    own = next(rate for name, rate in rates.items() if name.startswith("newsrag_backend"))
    return ["", f"**Real news** ({real['path']}: {real['articles']} articles, {real['passages']} passages): "
                f"newsrag ingests {rates['newsrag']} passages/s, its own encoder alone {own}/s on the same "
                f"passages: **{real['share_of_own_encoder']:.0%}** of it."]


def markdown(result: dict) -> str:
    ingest, answer = result["ingest"], result["answer"]
    rates = ingest["passages_per_s"]
    lines = [
        f"Measured {result['date']} on {result['machine']['cpus']} CPUs ({_cpu_line(result['machine'])}), "
        f"embedding `{result['embedding']}`"
        + (" (--quick: harness check, not the benchmark)" if result["quick"] else "") + ".",
        "",
        f"**Ingest** ({ingest['articles']} synthetic articles, {ingest['passages']} passages, best of {ingest['rounds']}):",
        "",
        "| pipeline | passages/s |",
        "|---|---:|",
        *(f"| {name} | {rate} |" for name, rate in rates.items()),
        "",
        f"newsrag is **{ingest['ingest_speedup_vs_naive']}x** the naive pipeline and "
        f"**{ingest['embed_share_of_limit']:.0%}** of bare `SentenceTransformer.encode`; "
        f"{ingest['share_of_own_encoder']:.0%} of its own encoder run bare (the rest is chunking and Chroma writes).",
        *(_real_news_lines(result["real_news_ingest"]) if result.get("real_news_ingest") else []),
        *(_encoder_lines(ingest["encoder"]) if ingest.get("encoder", {}).get("calibration") else []),
        "",
        "**Query** (p50 / p95 ms over the queries, one pass per method; k=10; hybrid includes embedding the query; HNSW dense is the Chroma query alone; exact = the query embedding "
        "plus a brute-force scan of every vector):",
        "",
        "| store | passages | hybrid | hybrid + date filter | BM25 | exact dense | HNSW dense | HNSW recall@10 | BM25 build s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, rows in (("embedded", result["query"]), ("server", result["server_mode"])):
        for name, q in rows.items():
            cell = lambda m: f"{q[m]['p50_ms']} / {q[m]['p95_ms']}"  # noqa: E731
            lines.append(f"| {name} {mode} | {q['passages']} | {cell('hybrid')} | {cell('hybrid_date_filter')} | "
                         f"{cell('bm25')} | {cell('exact_dense')} | {cell('hnsw_dense')} | {q['hnsw_recall_at_10']:.3f} | "
                         f"{q['bm25_build_s']} |")
    lines += [
        "",
        "**Stores** (built by `newsrag` ingest in a child process):",
        "",
        "| store | articles | passages | ingest passages/s | ingest peak RSS MB |",
        "|---|---:|---:|---:|---:|",
        *(f"| {name} | {s['articles']} | {s['passages']} | {s['timings']['passages_per_s']} | {s['peak_rss_mb']} |"
          for name, s in result["stores"].items()),
        "",
        f"**Answer** (median of {answer['questions']} gold questions, streamed):",
        "",
        "| chain | time to first token s | total s | answer chars |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {answer[name]['ttft_s']} | {answer[name]['total_s']} | {answer[name]['answer_chars']} |"
          for name in ("newsrag", "naive")),
        "",
        f"Time to first token {answer['ttft_speedup_vs_naive']}x faster, whole answer "
        f"{answer['answer_speedup_vs_naive']}x faster than the tutorial chain.",
        "",
        f"**Memory**: `python app.py` serving the {list(result['query'])[-1]} store peaked at "
        f"{result['memory']['peak_rss_mb']} MB RSS.",
        "",
        f"**One new article** into the {list(result['query'])[-1]} store ({result['add_one_article']['passages']} "
        f"passages): found by both retrievers {result['add_one_article']['add_one_article_s']} s after its ingest "
        f"began (keyword index {result['add_one_article']['keyword_index_s']} s of it); a second process serving "
        f"the store found it {result['add_one_article']['second_process_sees_it_s']} s after the ingest returned; "
        f"deleting it took {result['add_one_article']['remove_one_article_s']} s. The server's writer read the "
        f"archive's manifest at start in {result['add_one_article']['writer_primed_s']} s, in the "
        "background, before the article came.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes: checks the harness")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--out", type=Path, help="also write the JSON results to this file")
    parser.add_argument("--sizes", help="comma-separated archive sizes in passages (default 1000,10000,100000)")
    parser.add_argument("--cache", type=Path, help="where scale stores are kept (default ~/.cache/newsrag/bench)")
    parser.add_argument("--fresh", action="store_true", help="rebuild cached scale stores")
    parser.add_argument("--no-server", action="store_true", help="skip the Chroma server measurement")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--real-news", type=Path, help="also ingest these real articles (a feed export or folder) "
                        "and compare with the bare encoder on the same passages")
    parser.add_argument("--ingest-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--visibility-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ingest_worker:
        _ingest_worker(args.ingest_worker)
        return
    if args.visibility_worker:
        _visibility_worker(args.visibility_worker)
        return
    sizes = tuple(int(x) for x in args.sizes.split(",")) if args.sizes else None
    if args.real_news and not args.real_news.exists():
        parser.error(f"--real-news {args.real_news} does not exist.")
    result = run(args.quick, sizes, args.cache, args.fresh, args.seed, not args.no_server,
                 progress=lambda message: print(message, file=sys.stderr, flush=True), real_news=args.real_news)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result["summary"] | {"details": result}, indent=2) if args.json else markdown(result))


if __name__ == "__main__":
    main()
