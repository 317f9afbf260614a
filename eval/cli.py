"""`newsrag eval ...` and `newsrag bench`: the evaluation commands, plugged into the `newsrag` command line.

They live here rather than in rag/cli.py so that the product never imports its own evaluation: rag.cli
finds them through the `newsrag.commands` entry points declared in pyproject.toml.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from rag.cli import LLM_BACKENDS, _fail, _guard, err, out

eval_app = typer.Typer(add_completion=False, help="Score answers against gold Q&A pairs; import SQuAD, RealTime QA, MultiHop-RAG; compare runs.")
bench_app = typer.Typer(add_completion=False)


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def _progress(label: str):
    """A progress bar on stderr, shown only on a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True, disable=not err.is_terminal)


@eval_app.callback(invoke_without_command=True)
@_guard
def eval_run(
    ctx: typer.Context,
    dataset: Annotated[Optional[Path], typer.Option(help="Gold questions (JSONL).")] = None,
    corpus: Annotated[Optional[Path], typer.Option(help="Ingest this folder into a fresh temporary store first.")] = None,
    llm: Annotated[Optional[str], typer.Option(help="Answer backend (default: NEWSRAG_LLM).")] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Score a seeded random sample of N questions.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Folder for results.jsonl and the reports.")] = None,
    baseline: Annotated[Optional[str], typer.Option(help="Also run a baseline: 'naive' (plain LangChain chain).")] = None,
    judge: Annotated[Optional[str], typer.Option(help="Also grade answers with this LLM backend (LLM-as-judge).")] = None,
    briefings: Annotated[Optional[Path], typer.Option(help="Also score briefings on these gold topics (JSONL).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print report.json.")] = False,
):
    """Run the gold questions through newsrag and write results.jsonl, report.json/.md/.html."""
    if ctx.invoked_subcommand is not None:
        return
    if dataset is None:
        _fail("--dataset is required (e.g. eval/datasets/ukraine-2022.jsonl).")
    for flag, value in (("--llm", llm), ("--judge", judge)):
        if value is not None and value not in LLM_BACKENDS:
            _fail(f"{flag} must be one of {', '.join(LLM_BACKENDS)} (got '{value}').")
    from datetime import datetime

    from eval.runner import run_eval

    out_dir = out_dir or Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    with _progress("eval") as bar:
        task = bar.add_task("", total=None)
        report, _ = run_eval(dataset, corpus, llm, limit, seed, out_dir, baseline, judge=judge, briefings=briefings,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        out.print_json(json.dumps(report, ensure_ascii=False))
        return
    m = report["metrics"]["overall"]
    out.print(
        f"{report['questions']} questions, backend {report['backend']}: accuracy {_fmt(m['accuracy'])}, "
        f"F1 {_fmt(m.get('f1'))}, short F1 {_fmt(m.get('short_f1'))}, abstention {_fmt(m['abstention'])}, "
        f"recall@5 {_fmt(m['recall@5'])}, citation precision "
        f"{_fmt(m['citation_precision'])}, faithfulness {_fmt(m['faithfulness'])}, grounding {_fmt(m.get('grounding'))}, p50 {_fmt(m['latency_p50_s'])}s"
    )
    if report["baseline"]:
        b = report["baseline"]["metrics"]["overall"]
        out.print(f"naive baseline: accuracy {_fmt(b['accuracy'])}, abstention {_fmt(b['abstention'])}, "
                  f"recall@5 {_fmt(b['recall@5'])}, p50 {_fmt(b['latency_p50_s'])}s")
    if report["judge"]:
        j = report["judge"]
        out.print(f"judge ({j['judge_backend']}): accuracy {_fmt(j['judge_accuracy'])}, "
                  f"agreement with the string metric {_fmt(j['judge_agreement'])}")
    if report["briefings"]:
        b = report["briefings"]["metrics"]
        out.print(f"briefings ({report['briefings']['topics']} topics): fact recall {_fmt(b['fact_recall'])}, "
                  f"citation precision {_fmt(b['citation_precision'])}, cite recall {_fmt(b['cite_recall'])}, "
                  f"verified {_fmt(b['verified'])}, abstention {_fmt(b['abstention'])}, p50 {_fmt(b['p50_s'])}s")
    out.print(f"reports in {out_dir}/ (report.md, report.html, results.jsonl)")


@eval_app.command("import-squad")
@_guard
def eval_import_squad(
    squad_file: Annotated[Path, typer.Argument(help="A SQuAD 1.1 or 2.0 JSON file.")],
    corpus_out: Annotated[Path, typer.Option(help="Folder for the articles (one per paragraph).")],
    gold_out: Annotated[Path, typer.Option(help="The gold JSONL file to write.")],
):
    """Turn a SQuAD file into a corpus folder and a gold file."""
    from eval.squad import import_squad

    counts = import_squad(squad_file, corpus_out, gold_out)
    out.print(f"{counts['articles']} articles in {corpus_out}, {counts['questions']} questions "
              f"({counts['unanswerable']} unanswerable) in {gold_out}")


@eval_app.command("import-realtimeqa")
@_guard
def eval_import_realtimeqa(
    folder: Annotated[Path, typer.Argument(help="A RealTime QA folder of <week>_qa.jsonl and <week>_gcs.jsonl files.")],
    corpus_out: Annotated[Path, typer.Option(help="Folder for the articles (one JSONL feed per week).")],
    gold_out: Annotated[Path, typer.Option(help="The gold JSONL file to write.")],
    limit: Annotated[Optional[int], typer.Option(min=1, help="Import a seeded random sample of N questions and their weeks.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
):
    """Turn RealTime QA weeks into a corpus folder (their search results) and a gold file."""
    from eval.realtimeqa import import_realtimeqa

    c = import_realtimeqa(folder, corpus_out, gold_out, limit, seed)
    out.print(f"{c['articles']} articles from {c['weeks']} weeks in {corpus_out} ({c['skipped']} search results "
              f"without text left out), {c['questions']} questions in {gold_out}: the answer string is in the "
              f"corpus for {c['answer_in_corpus']}, in the question's own search results for {c['with_sources']}")


@eval_app.command("import-multihop")
@_guard
def eval_import_multihop(
    folder: Annotated[Path, typer.Argument(help="A MultiHop-RAG folder with queries_with_gold.jsonl and derived_evidence_articles.jsonl.")],
    corpus_out: Annotated[Path, typer.Option(help="Folder for the articles (one JSONL feed).")],
    gold_out: Annotated[Path, typer.Option(help="The gold JSONL file to write.")],
    limit: Annotated[Optional[int], typer.Option(min=1, help="Import a seeded random sample of N questions.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
):
    """Turn the MultiHop-RAG sample into a corpus folder (its evidence articles) and a gold file."""
    from eval.multihop import import_multihop

    c = import_multihop(folder, corpus_out, gold_out, limit, seed)
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(c["by_type"].items()))
    out.print(f"{c['articles']} articles in {corpus_out}, {c['questions']} questions in {gold_out} ({kinds})")


@eval_app.command("summaries")
@_guard
def eval_summaries(
    dataset: Annotated[Path, typer.Option(help="Clusters (JSONL: articles, reference), e.g. multi-news-sample100/derived_clusters.jsonl.")],
    part: Annotated[str, typer.Option(help="all, calibration (even-numbered clusters) or report (odd-numbered).")] = "all",
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Also write the report, with every cluster's scores, to this JSON file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (without the per-cluster rows).")] = False,
):
    """ROUGE-1/2/L of briefing summaries against human summaries, beside the lead baseline."""
    if part not in ("all", "calibration", "report"):
        _fail(f"--part must be all, calibration or report (got '{part}').")
    from eval.summaries import run_summaries

    with _progress("summaries") as bar:
        task = bar.add_task("", total=None)
        report = run_summaries(dataset, part, progress=lambda done, total: bar.update(task, completed=done, total=total))
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if as_json:
        out.print_json(json.dumps({k: v for k, v in report.items() if k != "rows"}, ensure_ascii=False))
        return
    s, b = report["summary"], report["lead"]
    out.print(
        f"{report['clusters']} clusters ({part}), {report['mean_words']} words a summary: rouge1 {s['rouge1']:.2f}, "
        f"rouge2 {s['rouge2']:.2f}, rougeL {s['rougeL']:.2f}; lead-{report['budget_words']} rouge1 {b['rouge1']:.2f}, "
        f"rouge2 {b['rouge2']:.2f}, rougeL {b['rougeL']:.2f}; p50 {report['seconds_per_cluster_p50']:.2f}s a cluster"
    )


@eval_app.command("briefing-topics")
@_guard
def eval_briefing_topics(
    topics: Annotated[Path, typer.Option(help="Topics (JSONL: id, topic, as_of, questions), e.g. eval/datasets/briefing-topics-realtimeqa-2026.jsonl.")],
    gold: Annotated[Path, typer.Option(help="Gold answers in newsrag's format (from `newsrag eval import-realtimeqa --gold-out`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
):
    """Briefings on topics over the archive, each as of its date: quiz answers held, citations, copies, time."""
    from eval.briefing_topics import run_briefing_topics
    from rag.cli import _service

    with _progress("briefings") as bar:
        task = bar.add_task("", total=None)
        report = run_briefing_topics(_service(), topics, gold,
                                     progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        out.print_json(json.dumps(report, ensure_ascii=False))
        return
    for row in report["rows"]:
        out.print(f"{row['id']} {escape(row['topic'])} (as of {row['as_of']}): fact recall {_fmt(row['fact_recall'])}, "
                  f"{row['sentences']} sentences, {row['stories']} stories, {row['copy_pairs']} copy pairs, {row['seconds']:.2f}s")
    out.print(f"{report['topics']} topics: fact recall {_fmt(report['fact_recall'])}, cited {_fmt(report['cited'])}, "
              f"verbatim {_fmt(report['verbatim'])}, copy pairs {report['copy_pairs']}, stories {report['stories_mean']}, "
              f"p50 {report['seconds_p50']:.2f}s (max {report['seconds_max']:.2f}s)")


@eval_app.command("verify")
@_guard
def eval_verify(
    dataset: Annotated[Path, typer.Option(help="SummEdits JSON, or RAGTruth summary_sentences.jsonl / summary_responses.jsonl.")],
    part: Annotated[str, typer.Option(help="report, calibration or all (documents are split between the two parts).")] = "report",
    limit: Annotated[Optional[int], typer.Option(min=1, help="Score a seeded random sample of N claims.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample and of the bootstrap.")] = 0,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Folder for results.jsonl, report.json and report.md.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print report.json.")] = False,
):
    """Score the claim verifier on public claim data: balanced accuracy, claims kept and dropped, AUC."""
    from datetime import datetime

    from eval.claims import run_verify_eval

    out_dir = out_dir or Path("runs") / f"verify-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    with _progress("verify") as bar:
        task = bar.add_task("", total=None)
        report = run_verify_eval(dataset, part=part, limit=limit, seed=seed, out_dir=out_dir,
                                 progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        out.print_json(json.dumps(report, ensure_ascii=False))
        return
    m = report["metrics"]
    ci = m["balanced_accuracy_ci95"]
    out.print(
        f"{m['n']} claims ({part}): balanced accuracy {_fmt(m['balanced_accuracy'])} "
        f"[{_fmt(ci[0]) if ci else '—'}, {_fmt(ci[1]) if ci else '—'}], supported kept {_fmt(m['supported_kept'])}, "
        f"unsupported dropped {_fmt(m['unsupported_dropped'])}, AUC {_fmt(m['auc'])}"
    )
    for name, entry in m["by_error_type"].items():
        out.print(f"  {escape(name)}: dropped {_fmt(entry['dropped'])} of {entry['n']}")
    out.print(f"reports in {out_dir}/ (report.md, report.json, results.jsonl)")


@eval_app.command("compare")
@_guard
def eval_compare(
    run_a: Annotated[Path, typer.Argument(help="The earlier run folder.")],
    run_b: Annotated[Path, typer.Argument(help="The later run folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
):
    """Metric deltas between two runs and the questions that flipped."""
    from eval.report import compare_runs, format_comparison

    result = compare_runs(run_a, run_b)
    if as_json:
        out.print_json(json.dumps(result, ensure_ascii=False))
    else:
        out.print(escape(format_comparison(result)))


@bench_app.command()
@_guard
def bench(
    quick: Annotated[bool, typer.Option(help="Small sizes, under 2 minutes: checks the harness, not the numbers.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON (headline keys first).")] = False,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Also write the JSON results to this file.")] = None,
    sizes: Annotated[Optional[str], typer.Option(help="Comma-separated archive sizes in passages (default 1000,10000,100000).")] = None,
    fresh: Annotated[bool, typer.Option(help="Rebuild the cached scale stores.")] = False,
    server: Annotated[bool, typer.Option(help="Also measure behind a Chroma server (`chroma run` on loopback).")] = True,
    real_news: Annotated[Optional[Path], typer.Option(help="Also ingest these real articles (a feed export or a folder) "
                                                      "and compare with the bare encoder on the same passages.")] = None,
):
    """Benchmark ingest, search, answers and memory against the plain LangChain pipeline (see README)."""
    from eval import bench as harness

    argv = (["--quick"] if quick else []) + (["--json"] if as_json else []) + (["--fresh"] if fresh else [])
    argv += (["--out", str(out_file)] if out_file else []) + (["--sizes", sizes] if sizes else [])
    argv += [] if server else ["--no-server"]
    argv += ["--real-news", str(real_news)] if real_news else []
    harness.main(argv)
