"""`newsrag eval verify`: loading the three claim formats, the document split, the metrics and the command."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict

import pytest
from typer.testing import CliRunner

from eval.claims import claim_metrics, load_claims, run_verify_eval
from rag.verify import Verdict

pytestmark = pytest.mark.unit

ARTICLE_A = ("The Millbrook council approved a new footbridge on Tuesday. The bridge will cost 4 million dollars. "
             "Mayor Ada Quill said work starts in May.")
ARTICLE_B = ("Harbour ferries in Portvale stopped for two days after a storm. Captain Ivo Brand said the crews were safe. "
             "Service resumed on Friday.")


class FakeVerifier:
    """Keeps a claim when every word of it appears in one passage; scores by the share of words found."""

    policy = None

    def __init__(self):
        self.calls: list[str] = []

    def verify(self, claim, passages):
        self.calls.append(claim)
        words = re.findall(r"\w+", claim.lower())
        best = max(sum(w in set(re.findall(r"\w+", p.lower())) for w in words) / max(len(words), 1) for p in passages)
        return Verdict(supported=best == 1.0, score=best, passage=1, reason="" if best == 1.0 else "words missing")

    def verify_many(self, items):
        return [self.verify(claim, passages) for claim, passages in items]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def summedits_file(tmp_path, docs=(ARTICLE_A, ARTICLE_B)):
    rows = []
    for d, doc in enumerate(docs):
        rows += [
            {"id": f"d{d}_og", "doc": doc, "summary": doc.split(". ")[0] + ".", "label": 1,
             "original_summary": "", "edit_types": [], "split": "test"},
            {"id": f"d{d}_0", "doc": doc, "summary": "The council rejected a tunnel.", "label": 0,
             "original_summary": "", "edit_types": ["entity_modification", "antonym_swap"], "split": "test"},
            # An edit that kept the summary true carries edit types but is no error.
            {"id": f"d{d}_1", "doc": doc, "summary": doc.split(". ")[1] + ".", "label": 1,
             "original_summary": "", "edit_types": ["entity_modification"], "split": "evaluation"},
            {"id": f"d{d}_2", "doc": doc, "summary": "Nobody said anything.", "label": 0,
             "original_summary": "", "edit_types": "negation_insertion_removal", "split": "test"},
        ]
    path = tmp_path / "summedits.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def ragtruth_responses(tmp_path):
    """Two responses: r1 fully backed by ARTICLE_A; r2 with a second sentence ARTICLE_B does not back."""
    r2 = "Harbour ferries in Portvale stopped for two days after a storm. The storm destroyed the lighthouse."
    return write_jsonl(tmp_path / "summary_responses.jsonl", [
        {"response_id": "r1", "source_id": "s1", "news_source": "Made Up", "generator_model": "m", "quality": "good",
         "article": ARTICLE_A, "response": "The Millbrook council approved a new footbridge. The bridge will cost 4 million dollars.",
         "hallucination_spans": [], "response_label": "supported", "n_sentences": 2},
        {"response_id": "r2", "source_id": "s2", "news_source": "Made Up", "generator_model": "m", "quality": "good",
         "article": ARTICLE_B, "response": r2,
         "hallucination_spans": [{"start": 64, "end": 98, "text": r2[64:98], "label_type": "Evident Baseless Info"}],
         "response_label": "hallucinated", "n_sentences": 2},
    ])


def ragtruth_sentences(tmp_path):
    ragtruth_responses(tmp_path)
    base = {"overlap_only_implicit_true": False, "news_source": "Made Up", "generator_model": "m"}
    return write_jsonl(tmp_path / "summary_sentences.jsonl", [
        {**base, "response_id": "r1", "sentence_index": 0, "start": 0, "end": 48,
         "sentence": "The Millbrook council approved a new footbridge.", "label": 1, "overlapping_span_types": [],
         "source_id": "s1"},
        {**base, "response_id": "r2", "sentence_index": 1, "start": 64, "end": 98,
         "sentence": "The storm destroyed the lighthouse.", "label": 0,
         "overlapping_span_types": ["Evident Baseless Info", "Subtle Conflict"], "source_id": "s2"},
    ])


def expected_part(doc_key: str) -> str:
    return "calibration" if int(hashlib.sha256(doc_key.encode()).hexdigest(), 16) % 2 == 0 else "report"


# --- loading ---------------------------------------------------------------------------------


def test_summedits_labels_and_error_types(tmp_path):
    examples = load_claims(summedits_file(tmp_path))
    assert [e.label for e in examples[:4]] == [True, False, True, False]
    assert [e.error_type for e in examples[:4]] == [None, "entity_modification, antonym_swap", None,
                                                    "negation_insertion_removal"]
    assert examples[0].source == ARTICLE_A and examples[0].claim == "The Millbrook council approved a new footbridge on Tuesday."
    assert len({e.doc_id for e in examples[:4]}) == 1 and examples[0].doc_id != examples[4].doc_id
    assert {e.part for e in examples[:4]} == {expected_part(ARTICLE_A)}


def test_ragtruth_sentences_join_the_article(tmp_path):
    examples = load_claims(ragtruth_sentences(tmp_path))
    assert [(e.id, e.doc_id, e.label) for e in examples] == [("r1:0", "s1", True), ("r2:1", "s2", False)]
    assert [e.source for e in examples] == [ARTICLE_A, ARTICLE_B]
    assert [e.error_type for e in examples] == [None, "Evident Baseless Info, Subtle Conflict"]
    assert examples[1].part == expected_part("s2")


def test_ragtruth_responses_are_split_into_sentences(tmp_path):
    examples = load_claims(ragtruth_responses(tmp_path))
    assert [(e.id, e.label, e.error_type) for e in examples] == [("r1", True, None), ("r2", False, "Evident Baseless Info")]
    assert examples[1].sentences == ["Harbour ferries in Portvale stopped for two days after a storm.",
                                     "The storm destroyed the lighthouse."]


def test_sentences_without_their_responses_file_is_one_clear_error(tmp_path):
    path = ragtruth_sentences(tmp_path)
    (tmp_path / "summary_responses.jsonl").unlink()
    with pytest.raises(ValueError, match="needs summary_responses.jsonl next to it"):
        load_claims(path)


def test_unknown_format_is_refused(tmp_path):
    path = write_jsonl(tmp_path / "gold.jsonl", [{"question": "Who?", "answers": ["Ada"]}])
    with pytest.raises(ValueError, match="is not a claim dataset"):
        load_claims(path)


# --- the document split ----------------------------------------------------------------------


def test_split_is_by_document_and_stable(tmp_path):
    docs = [f"{ARTICLE_A} Story number {n} of the week." for n in range(16)]
    path = summedits_file(tmp_path, docs)
    first, again = load_claims(path), load_claims(path)
    parts_by_doc = defaultdict(set)
    for e in first:
        parts_by_doc[e.doc_id].add(e.part)
    assert all(len(parts) == 1 for parts in parts_by_doc.values())
    assert {e.part for e in first} == {"calibration", "report"}
    assert [e.part for e in first] == [expected_part(e.source) for e in first] == [e.part for e in again]


# --- metrics ---------------------------------------------------------------------------------


def test_metrics_on_a_hand_computed_case():
    labels = [True, True, True, False, False]
    predicted = [True, True, False, False, True]
    scores = [0.9, 0.8, 0.3, 0.2, 0.85]
    types = [None, None, None, "a", "a, b"]
    m = claim_metrics(labels, predicted, scores, types)
    assert (m["n"], m["n_supported"], m["n_unsupported"]) == (5, 3, 2)
    assert m["supported_kept"] == pytest.approx(2 / 3, abs=1e-3)
    assert m["unsupported_dropped"] == 0.5
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2) / 2, abs=1e-3)
    assert m["auc"] == pytest.approx(4 / 6, abs=1e-3)  # 4 of the 6 (supported, unsupported) pairs ordered right
    assert (m["unsupported_precision"], m["unsupported_f1"]) == (0.5, 0.5)
    assert m["by_error_type"] == {"a": {"n": 2, "dropped": 0.5}, "b": {"n": 1, "dropped": 0.0}}


def test_auc_counts_ties_as_half_and_needs_both_classes():
    assert claim_metrics([True, False], [True, True], [0.5, 0.5], [None, None])["auc"] == 0.5
    assert claim_metrics([True, False], [True, False], [0.2, 0.7], [None, None])["auc"] == 0.0
    one_class = claim_metrics([True, True], [True, False], [0.2, 0.7], [None, None])
    assert one_class["auc"] is None and one_class["balanced_accuracy"] is None and one_class["balanced_accuracy_ci95"] is None


def test_bootstrap_interval_is_seeded_and_resamples_documents():
    labels = [True, False] * 20
    predicted = [True, False, False, True] * 10
    plain = claim_metrics(labels, predicted, [0.5] * 40, [None] * 40, seed=3)
    assert plain["balanced_accuracy_ci95"] == claim_metrics(labels, predicted, [0.5] * 40, [None] * 40, seed=3)["balanced_accuracy_ci95"]
    low, high = plain["balanced_accuracy_ci95"]
    assert low < plain["balanced_accuracy"] < high
    # One document: every resample of documents is the whole set, so the interval collapses.
    one_doc = claim_metrics(labels, predicted, [0.5] * 40, [None] * 40, groups=["d"] * 40)
    assert one_doc["balanced_accuracy_ci95"] == [one_doc["balanced_accuracy"]] * 2


# --- running ---------------------------------------------------------------------------------


def test_a_response_with_one_unsupported_sentence_is_unsupported(tmp_path):
    verifier = FakeVerifier()
    out = tmp_path / "run"
    report = run_verify_eval(ragtruth_responses(tmp_path), part="all", verifier=verifier, out_dir=out)
    rows = {row["id"]: row for row in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert rows["r1"]["supported"] is True
    assert rows["r2"]["supported"] is False and rows["r2"]["score"] < 1.0
    assert [s["supported"] for s in rows["r2"]["sentences"]] == [True, False]
    assert len(verifier.calls) == 4  # sentence by sentence, not whole responses
    assert report["format"] == "ragtruth-responses" and report["metrics"]["balanced_accuracy"] == 1.0


def test_run_filters_by_part_samples_and_writes_the_reports(tmp_path):
    path = summedits_file(tmp_path, [f"{ARTICLE_B} Story number {n}." for n in range(8)])
    report_part = [e for e in load_claims(path) if e.part == "report"]
    out = tmp_path / "run"
    report = run_verify_eval(path, part="report", verifier=FakeVerifier(), out_dir=out)
    assert report["counts"]["claims"] == len(report_part)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [e.id for e in report_part]
    assert {"id", "doc_id", "label", "supported", "score", "reason", "error_type", "claim"} <= rows[0].keys()
    assert json.loads((out / "report.json").read_text())["metrics"] == report["metrics"]
    markdown = (out / "report.md").read_text()
    assert "| balanced_accuracy |" in markdown and "Unsupported but kept" in markdown
    sampled = run_verify_eval(path, part="all", limit=5, seed=1, verifier=FakeVerifier())
    assert sampled["counts"]["claims"] == 5


# --- the command -----------------------------------------------------------------------------


runner = CliRunner()


@pytest.fixture
def fake_verifier(monkeypatch):
    monkeypatch.setattr("rag.verify.ClaimVerifier", FakeVerifier)


def test_cli_prints_the_summary_line(tmp_path, fake_verifier):
    from rag.cli import app

    path = summedits_file(tmp_path)
    result = runner.invoke(app, ["eval", "verify", "--dataset", str(path), "--part", "all", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert re.search(r"^8 claims \(all\): balanced accuracy [\d.]+ \[[\d.]+, [\d.]+\], supported kept [\d.]+, "
                     r"unsupported dropped [\d.]+, AUC [\d.]+$", result.stdout, re.M)
    assert re.search(r"^  entity_modification: dropped [\d.]+ of 2$", result.stdout, re.M)
    assert (tmp_path / "run" / "report.md").exists()


def test_cli_json_is_the_report(tmp_path, fake_verifier):
    from rag.cli import app

    result = runner.invoke(app, ["eval", "verify", "--dataset", str(ragtruth_sentences(tmp_path)), "--part", "all",
                                 "--out", str(tmp_path / "run"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == "ragtruth-sentences" and report["counts"]["claims"] == 2


def test_cli_unknown_format_is_one_sentence(tmp_path, fake_verifier):
    from rag.cli import app

    path = write_jsonl(tmp_path / "gold.jsonl", [{"question": "Who?", "answers": ["Ada"]}])
    result = runner.invoke(app, ["eval", "verify", "--dataset", str(path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "is not a claim dataset" in result.output
    assert "Traceback" not in result.output
