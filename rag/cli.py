"""`newsrag` command line: thin wrappers over RagService."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from rag.retrieval import Mode

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False, help="newsrag: cited answers from your news archive.")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _service():
    from rag.service import RagService

    return RagService()


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


def _guard(fn):
    """Turn the errors a user can fix into one clear sentence instead of a traceback."""
    from functools import wraps

    from pydantic import ValidationError

    from vectorstore.chroma import StoreError

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except typer.Exit:  # click's Exit is a RuntimeError: let it through untouched
            raise
        except (StoreError, ValueError, RuntimeError) as exc:
            if isinstance(exc, ValidationError):
                first = exc.errors()[0]
                field = "NEWSRAG_" + str(first["loc"][0]).upper() if first.get("loc") else "a setting"
                _fail(f"{field} is invalid: {first['msg']}.")
            _fail(str(exc))

    return wrapper


def run_ingest(service, paths: list[Path], prune: bool = False, quiet: bool = False):
    """Ingest with a progress bar on a terminal; returns the IngestReport."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if quiet or not err.is_terminal:
        return service.ingest(paths, prune=prune)
    with Progress(
        TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"), console=err, transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, path: str) -> None:
            bar.update(task, completed=done, total=total, description=Path(path).name if path else "")

        return service.ingest(paths, prune=prune, progress=progress)


@app.command()
@_guard
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (walked recursively).")],
    prune: Annotated[bool, typer.Option(help="Remove stored articles whose files under PATHS are gone.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
):
    """Add or update articles (.txt .md .html .pdf .jsonl .json) in the archive."""
    service = _service()
    report = run_ingest(service, paths, prune=prune, quiet=as_json)
    if as_json:
        out.print_json(json.dumps(report.to_json()))
    else:
        for failure in report.failed:
            err.print(f"[yellow]skipped:[/yellow] {escape(failure['error'])}")
        for dup in report.duplicates:
            err.print(f"[yellow]duplicate:[/yellow] {escape(dup['path'])} is the same article as '{escape(dup['duplicate_of'])}'; not stored twice.")
        t = report.to_json()["timings"]
        out.print(
            f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"removed {report.removed}, duplicates {len(report.duplicates)}, failed {len(report.failed)}; "
            f"{report.passages} passages in the store"
            + (f" ({t['passages_written']} written at {t['passages_per_s']}/s, {t['embed_share']:.0%} in the embedding model)" if t["passages_written"] else "")
        )
    if report.failed:
        raise typer.Exit(1)


@app.command()
@_guard
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[Optional[int], typer.Option("--k", min=1, help="Passages to return.")] = None,
    since: Annotated[Optional[str], typer.Option(help="Only articles dated on or after this date.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only articles dated on or before this date.")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="Only this outlet (repeatable).")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, dense or bm25.")] = "hybrid",
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Read the archive as it stood on this day (nothing dated later).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print passages as JSON.")] = False,
):
    """Hybrid (dense + BM25) search over passages."""
    if mode not in Mode.__args__:
        _fail(f"--mode must be one of {', '.join(Mode.__args__)} (got '{mode}').")
    hits = _service().search(query, k=k, since=since, until=until, sources=source, mode=mode, as_of=as_of)
    if as_json:
        out.print_json(json.dumps([hit.to_json() for hit in hits]))
        return
    if not hits:
        out.print("No passages match.")
    for number, hit in enumerate(hits, 1):
        out.print(
            f"[bold][{number}][/bold] {escape(hit.title)} — {escape(hit.source or 'unknown outlet')}, "
            f"{hit.date or 'undated'}  [dim]({escape(hit.article_id)}, score {hit.score:.4f})[/dim]"
            + (f"  also carried by {hit.also_carried_by} outlet{'s' if hit.also_carried_by != 1 else ''}"
               if hit.also_carried_by else "")
        )
        out.print(f"    {escape(hit.text)}\n", soft_wrap=True)


LLM_BACKENDS = ("llamacpp", "openai", "ollama", "extractive", "fake")


@app.command()
@_guard
def ask(
    question: Annotated[str, typer.Argument(help="A question about the archive.")],
    llm: Annotated[Optional[str], typer.Option(help="Backend: llamacpp, openai, ollama or extractive (default: NEWSRAG_LLM).")] = None,
    since: Annotated[Optional[str], typer.Option(help="Only articles dated on or after this date.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only articles dated on or before this date.")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="Only this outlet (repeatable).")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Read the archive as it stood on this day (nothing dated later); 'this week' counts back from it.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
):
    """A short answer with numbered citations, or "The archive does not say."."""
    if llm is not None and llm not in LLM_BACKENDS:
        _fail(f"--llm must be one of {', '.join(LLM_BACKENDS)} (got '{llm}').")
    service = _service()
    answer = None
    live = out.is_terminal and not as_json
    for event in service.ask_stream(question, since=since, until=until, sources=source, backend=llm, as_of=as_of):
        if event["event"] == "token" and live:
            out.print(escape(event["text"]), end="", style="dim")
        elif event["event"] == "answer":
            answer = event["answer"]
    if as_json:
        out.print_json(json.dumps(answer.to_json(), ensure_ascii=False))
        return
    if live:
        out.print("\n[bold]Verified answer:[/bold]")  # the draft above may differ: this is what stands
    out.print(escape(answer.answer))
    if answer.fallback:
        err.print(f"[dim](model answer replaced by a quoted passage: {escape(answer.fallback)})[/dim]")
    for citation in answer.citations:
        out.print(
            f"  [{citation.n}] {escape(citation.title)} — {escape(citation.source or 'unknown outlet')}, "
            f"{citation.date or 'undated'} ({escape(citation.article_id)})\n      “{escape(citation.quote)}”"
        )


@app.command()
@_guard
def brief(
    topic: Annotated[str, typer.Argument(help="What the briefing is about.")],
    since: Annotated[Optional[str], typer.Option(help="Only articles dated on or after this date.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only articles dated on or before this date.")] = None,
    max_points: Annotated[int, typer.Option(min=1, max=20, help="Most key points.")] = 6,
    source: Annotated[Optional[list[str]], typer.Option(help="Only this outlet (repeatable).")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Read the archive as it stood on this day (nothing dated later).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the briefing as JSON.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the briefing as Markdown (the default on screen).")] = False,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Write the briefing to this file.")] = None,
):
    """A cited multi-article briefing: summary, key points, timeline, who said what, disagreements."""
    briefing = _service().brief(topic, since, until, max_points, source, as_of)
    text = json.dumps(briefing.to_json(), ensure_ascii=False, indent=2) if as_json else briefing.to_markdown()
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        out.print(f"briefing written to {out_file}")
    elif as_json:
        out.print_json(text)
    else:
        out.print(escape(text))


@app.command()
@_guard
def docs(as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False):
    """List the stored articles."""
    rows = _service().documents()
    if as_json:
        out.print_json(json.dumps(rows))
        return
    from rich.table import Table

    table = Table("id", "title", "date", "date from", "source", "passages", "story", "copies")
    for row in rows:
        table.add_row(row["id"], row["title"][:60], row["date"] or "", row["date_source"], row["source"] or "",
                      str(row["passages"]), row["story"], str(row["copies"]))
    out.print(table)
    out.print(f"{len(rows)} articles in {len({row['story'] for row in rows})} stories")


eval_app = typer.Typer(help="Score answers against gold Q&A pairs; import SQuAD, RealTime QA, MultiHop-RAG; compare runs.")
app.add_typer(eval_app, name="eval")


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

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from eval.runner import run_eval

    out_dir = out_dir or Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    with Progress(TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("", total=None)
        report, _ = run_eval(dataset, corpus, llm, limit, seed, out_dir, baseline, judge=judge, briefings=briefings,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        out.print_json(json.dumps(report, ensure_ascii=False))
        return
    m = report["metrics"]["overall"]

    def fmt(value):
        return "—" if value is None else f"{value:.3f}"

    out.print(
        f"{report['questions']} questions, backend {report['backend']}: accuracy {fmt(m['accuracy'])}, "
        f"abstention {fmt(m['abstention'])}, recall@5 {fmt(m['recall@5'])}, citation precision "
        f"{fmt(m['citation_precision'])}, faithfulness {fmt(m['faithfulness'])}, p50 {fmt(m['latency_p50_s'])}s"
    )
    if report["baseline"]:
        b = report["baseline"]["metrics"]["overall"]
        out.print(f"naive baseline: accuracy {fmt(b['accuracy'])}, abstention {fmt(b['abstention'])}, "
                  f"recall@5 {fmt(b['recall@5'])}, p50 {fmt(b['latency_p50_s'])}s")
    if report["judge"]:
        j = report["judge"]
        out.print(f"judge ({j['judge_backend']}): accuracy {fmt(j['judge_accuracy'])}, "
                  f"agreement with the string metric {fmt(j['judge_agreement'])}")
    if report["briefings"]:
        b = report["briefings"]["metrics"]
        out.print(f"briefings ({report['briefings']['topics']} topics): fact recall {fmt(b['fact_recall'])}, "
                  f"citation precision {fmt(b['citation_precision'])}, cite recall {fmt(b['cite_recall'])}, "
                  f"verified {fmt(b['verified'])}, abstention {fmt(b['abstention'])}, p50 {fmt(b['p50_s'])}s")
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

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from eval.claims import run_verify_eval

    out_dir = out_dir or Path("runs") / f"verify-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    with Progress(TextColumn("verify"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("", total=None)
        report = run_verify_eval(dataset, part=part, limit=limit, seed=seed, out_dir=out_dir,
                                 progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        out.print_json(json.dumps(report, ensure_ascii=False))
        return
    m = report["metrics"]

    def fmt(value):
        return "—" if value is None else f"{value:.3f}"

    ci = m["balanced_accuracy_ci95"]
    out.print(
        f"{m['n']} claims ({part}): balanced accuracy {fmt(m['balanced_accuracy'])} "
        f"[{fmt(ci[0]) if ci else '—'}, {fmt(ci[1]) if ci else '—'}], supported kept {fmt(m['supported_kept'])}, "
        f"unsupported dropped {fmt(m['unsupported_dropped'])}, AUC {fmt(m['auc'])}"
    )
    for name, entry in m["by_error_type"].items():
        out.print(f"  {escape(name)}: dropped {fmt(entry['dropped'])} of {entry['n']}")
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


@app.command()
@_guard
def bench(
    quick: Annotated[bool, typer.Option(help="Small sizes, under 2 minutes: checks the harness, not the numbers.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON (headline keys first).")] = False,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Also write the JSON results to this file.")] = None,
    sizes: Annotated[Optional[str], typer.Option(help="Comma-separated archive sizes in passages (default 1000,10000,100000).")] = None,
    fresh: Annotated[bool, typer.Option(help="Rebuild the cached scale stores.")] = False,
    server: Annotated[bool, typer.Option(help="Also measure behind a Chroma server (`chroma run` on loopback).")] = True,
):
    """Benchmark ingest, search, answers and memory against the plain LangChain pipeline (see README)."""
    from eval import bench as harness

    argv = (["--quick"] if quick else []) + (["--json"] if as_json else []) + (["--fresh"] if fresh else [])
    argv += (["--out", str(out_file)] if out_file else []) + (["--sizes", sizes] if sizes else [])
    argv += [] if server else ["--no-server"]
    harness.main(argv)


@app.command()
@_guard
def serve(
    host: Annotated[Optional[str], typer.Option(help="Address to bind (default NEWSRAG_HOST, 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default NEWSRAG_PORT, 7860).")] = None,
    sample: Annotated[bool, typer.Option(help="Ingest the sample corpus when the store is empty.")] = True,
):
    """Serve the web UI and the HTTP API in one process."""
    from rag.config import Settings
    import app as composition

    settings = Settings()
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    composition.serve(settings.model_copy(update=updates), ingest_sample=sample)


@app.command()
@_guard
def shell():
    """Interactive search prompt (empty line or Ctrl-D quits)."""
    service = _service()
    service.warm_up()
    out.print(f"{len(service.documents())} articles, {service.passage_count()} passages. Type a query; an empty line quits.")
    while True:
        try:
            query = input("search> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not query:
            break
        try:
            # By keyword: a new option of `search` must not take a value meant for the next one.
            search(query, k=None, since=None, until=None, source=None, mode="hybrid", as_of=None, as_json=False)
        except typer.Exit:
            pass


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
